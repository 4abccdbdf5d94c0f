"""Benchmark: OTLP JSON ingest speed, memory and scaling, against a naive DuckDB baseline in the same run.

For each size a seeded export is generated once with ``agentops_audit.synth.generate`` and cached under
``bench/out/ingest/`` (sizes: small ~10k spans, medium ~100k, large ~1M; ~7.8 spans per session). Every
measurement runs in its own Python process on a fresh database, which reports its wall time around the
load call, its CPU time (all threads) over the same call and its peak RSS (``getrusage(RUSAGE_SELF)``),
so runs do not share memory or caches. Variants:

- ``ingest``: ``agentops_audit.ingest.ingest`` as the CLI runs it (sha256, ledger, dedup, quarantine);
- ``naive``: DuckDB ``read_json`` (newline-delimited, explicit OTLP schema) and ``UNNEST`` of
  resourceSpans/scopeSpans/spans into the canonical columns, attributes flattened by SQL, into a fresh
  database, with no ledger, dedup or quarantine;
- ``python`` (``--python``): the reference Python reader (``otlp.read``) through the same loader;
- ``before`` (``--before DIR``): ``ingest`` from another checkout of the package (e.g. ``git archive``
  of an older commit unpacked in DIR);
- ``write`` (``--write``): the floor under any parser: the file's finished canonical rows (ingested first,
  untimed, then held as Arrow in memory) inserted into a fresh database's ``spans`` in one transaction
  under the loader's memory limit. Only the insert and its commit are timed; peak RSS is not its own.

    python bench/ingest.py [--sizes small,medium] [--repeat 1] [--python] [--before DIR] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "ingest"
SEED = 20261109
SIZES = {"small": 1_300, "medium": 13_000, "large": 130_000}  # sessions; ~7.8 spans each
GOAL_SPANS_PER_S, GOAL_VS_NAIVE, GOAL_RSS_MB, GOAL_LINEAR = 150_000, 2.0, 2048, 1.1


def dataset(size: str) -> tuple[Path, int]:
    """The cached export for ``size`` and its span count (generated when missing)."""
    from agentops_audit.demo import synth

    folder = OUT / size
    truth_file, traces = folder / "truth.json", folder / "traces.otlp.jsonl"
    if truth_file.exists() and traces.exists():
        truth = json.loads(truth_file.read_text())
        if truth.get("generated_sessions") == SIZES[size] and truth.get("seed") == SEED:
            return traces, truth["spans"]
    print(f"generating the {size} export ({SIZES[size]:,} sessions) in {folder} ...", file=sys.stderr, flush=True)
    truth = synth.generate(folder, sessions=SIZES[size], seed=SEED)
    return traces, truth["spans"]


def naive_sql() -> str:
    """The baseline: read_json + UNNEST + attributes flattened with list_filter, into one table."""
    from agentops_audit.ingest.canonical import ATTRIBUTE_MAP, SPAN_TYPES

    scalar = "stringValue VARCHAR, intValue VARCHAR, doubleValue DOUBLE, boolValue BOOLEAN"
    value = f'STRUCT({scalar}, arrayValue STRUCT("values" STRUCT({scalar})[]))'
    attrs = f"STRUCT(key VARCHAR, value {value})[]"
    span = (
        f"STRUCT(traceId VARCHAR, spanId VARCHAR, parentSpanId VARCHAR, name VARCHAR, kind INTEGER, "
        f"startTimeUnixNano VARCHAR, endTimeUnixNano VARCHAR, attributes {attrs}, "
        f"status STRUCT(code INTEGER, message VARCHAR), events JSON, links JSON)"
    )
    shape = f"STRUCT(resource STRUCT(attributes {attrs}), scopeSpans STRUCT(spans {span}[])[])[]"
    text = "coalesce({v}.stringValue, {v}.intValue, {v}.doubleValue::VARCHAR, {v}.boolValue::VARCHAR{extra})"
    element = text.format(v="e", extra="")
    flat = text.format(
        v="a.value", extra=f', to_json(list_transform(a.value.arrayValue."values", lambda e: {element}))::VARCHAR'
    )
    ints = {"input_tokens", "output_tokens", "cache_read_tokens", "retry_attempt"}
    columns = []
    for column, names in ATTRIBUTE_MAP.items():
        found = "coalesce(" + ", ".join(f"list_filter(kv, lambda a: a.k = '{n}')[1].v" for n in names) + ")"
        cast = "BIGINT" if column in ints else "DOUBLE" if column == "cost_usd" else "VARCHAR"
        columns.append(f"TRY_CAST({found} AS {cast}) AS {column}")
    kinds = " ".join(
        f"WHEN {k} THEN '{v}'"
        for k, v in {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}.items()
    )
    types = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SPAN_TYPES.items())
    return f"""
        CREATE TABLE spans AS
        WITH batches AS (
            SELECT unnest(resourceSpans) AS rs
            FROM read_json(?, format = 'newline_delimited', columns = {{resourceSpans: '{shape}'}})
        ), scopes AS (
            SELECT rs.resource.attributes AS res, unnest(rs.scopeSpans) AS ss FROM batches
        ), raw AS (
            SELECT res, unnest(ss.spans) AS s FROM scopes
        ), kv AS (
            SELECT s, list_transform(list_concat(
                       list_transform(coalesce(res, []), lambda a: {{'key': 'resource.' || a.key, 'value': a.value}}),
                       coalesce(s.attributes, [])), lambda a: {{'k': a.key, 'v': {flat}}}) AS kv
            FROM raw
        ), flat AS (
            SELECT s, kv, {", ".join(columns)} FROM kv
        )
        SELECT lower(s.traceId) AS trace_id, lower(s.spanId) AS span_id, lower(s.parentSpanId) AS parent_span_id,
               s.name AS name, CASE s.kind {kinds} ELSE 'UNSPECIFIED' END AS span_kind,
               coalesce(CASE lower(operation) {types} END, 'other') AS span_type,
               make_timestamp(s.startTimeUnixNano::BIGINT // 1000) AS start_time,
               make_timestamp(s.endTimeUnixNano::BIGINT // 1000) AS end_time,
               (s.endTimeUnixNano::BIGINT - s.startTimeUnixNano::BIGINT) / 1e6 AS duration_ms,
               CASE s.status.code WHEN 1 THEN 'OK' WHEN 2 THEN 'ERROR' ELSE 'UNSET' END AS status_code,
               s.status.message AS status_message,
               flat.* EXCLUDE (s, kv),
               '{{' || array_to_string(list_transform(kv, lambda a: to_json(a.k) || ':'
                                                      || coalesce(to_json(a.v), 'null')), ',') || '}}' AS attributes,
               s.events AS events, s.links AS links
        FROM flat
    """


def child(variant: str, file: str, database: str) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    path = Path(file)
    if variant == "write":
        write_floor(path, database)
        return
    if variant == "naive":
        import duckdb

        sql = naive_sql()
        con = duckdb.connect(database)
        start, cpu = time.perf_counter(), time.process_time()
        con.execute(sql, [file])
        rows = con.execute("SELECT count(*) FROM spans").fetchall()[0][0]
    else:
        from agentops_audit import db, ingest

        con = db.connect(database)
        start, cpu = time.perf_counter(), time.process_time()
        if variant == "python":
            from agentops_audit.ingest import loader, otlp

            summary = loader.load_file(con, path, otlp.NAME, otlp.read, {}, fast=None)
        else:
            summary = ingest.ingest(con, [file])[0]
        if summary.error:
            raise SystemExit(f"{variant}: {summary.error}")
        rows = summary.rows_loaded
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    con.close()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": rows,
                "cpu": cpu,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def write_floor(path: Path, database: str) -> None:
    """The ``write`` variant: time inserting the file's canonical rows, already in memory, into ``spans``."""
    from agentops_audit import db, ingest
    from agentops_audit.ingest import loader

    source = db.connect(database + ".source")
    ingest.ingest(source, [str(path)])
    rows = source.sql("SELECT * EXCLUDE (source_id) FROM spans").to_arrow_table()
    source.close()
    con = db.connect(database)
    con.execute(f"SET memory_limit = '{loader.MEMORY_LIMIT}'")
    con.register("_rows", rows)
    start, cpu = time.perf_counter(), time.process_time()
    con.execute("BEGIN TRANSACTION")
    con.execute("INSERT INTO spans BY NAME SELECT *, 1 AS source_id FROM _rows")
    con.execute("COMMIT")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    count = db.scalar(con, "SELECT count(*) FROM spans")
    con.close()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": count,
                "cpu": cpu,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def measure(variant: str, file: Path, before: str | None = None) -> dict:
    env = dict(os.environ)
    if variant == "before":
        env["PYTHONPATH"] = before + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                variant if variant != "before" else "ingest",
                str(file),
                str(Path(tmp) / "bench.duckdb"),
            ],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp,
        )
    if out.returncode != 0:
        raise SystemExit(f"{variant} on {file} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    import duckdb

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {mem:.0f} GiB RAM, "
        f"Python {platform.python_version()}, duckdb {duckdb.__version__}, load average {load}"
    )


def run(sizes: list[str], variants: list[str], repeat: int = 1, before: str | None = None) -> list[dict]:
    results = []
    for size in sizes:
        file, spans = dataset(size)
        for variant in variants:
            best = None
            for _ in range(repeat):
                print(f"{size}: {variant} ...", file=sys.stderr, flush=True)
                m = measure(variant, file, before)
                if best is None or m["seconds"] < best["seconds"]:
                    best = m
            results.append(
                {
                    "size": size,
                    "spans": spans,
                    "variant": variant,
                    "mb": file.stat().st_size / 2**20,
                    **best,
                    "spans_per_s": spans / best["seconds"],
                }
            )
    return results


def report(results: list[dict]) -> str:
    lines = [
        "| size | spans | file MB | variant | wall s | CPU s | spans/s | peak RSS MB | vs naive |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    naive = {r["size"]: r["seconds"] for r in results if r["variant"] == "naive"}
    for r in results:
        ratio = f"{naive[r['size']] / r['seconds']:.2f}x" if r["size"] in naive and r["variant"] != "write" else ""
        rss = "-" if r["variant"] == "write" else f"{r['rss_mb']:.0f}"  # write: the untimed ingest's peak
        lines.append(
            f"| {r['size']} | {r['spans']:,} | {r['mb']:.0f} | {r['variant']} | {r['seconds']:.2f} | "
            f"{r['cpu']:.2f} | {r['spans_per_s']:,.0f} | {rss} | {ratio} |"
        )
    ours = [r for r in results if r["variant"] == "ingest"]
    checks = []
    for r in ours:
        checks.append(
            f"- {r['size']}: {r['spans_per_s']:,.0f} spans/s "
            f"({'meets' if r['spans_per_s'] >= GOAL_SPANS_PER_S else 'MISSES'} >= {GOAL_SPANS_PER_S:,})"
        )
        if r["size"] in naive:
            x = naive[r["size"]] / r["seconds"]
            checks.append(
                f"- {r['size']}: {x:.2f}x the naive baseline "
                f"({'meets' if x >= GOAL_VS_NAIVE else 'MISSES'} >= {GOAL_VS_NAIVE}x)"
            )
        if r["spans"] >= 900_000:
            checks.append(
                f"- {r['size']}: peak RSS {r['rss_mb']:,.0f} MB "
                f"({'meets' if r['rss_mb'] <= GOAL_RSS_MB else 'MISSES'} <= {GOAL_RSS_MB} MB)"
            )
    for a, b in zip(ours, ours[1:], strict=False):
        growth = (b["seconds"] / a["seconds"]) / (b["spans"] / a["spans"])
        checks.append(
            f"- {a['size']} -> {b['size']}: {b['spans'] / a['spans']:.1f}x the spans in "
            f"{b['seconds'] / a['seconds']:.1f}x the time ({'meets' if growth <= GOAL_LINEAR else 'MISSES'} "
            f"linear: time ratio <= {GOAL_LINEAR} x span ratio)"
        )
    return "\n".join(lines + ["", "Goals:", *checks])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small,medium", help=f"comma-separated, from {', '.join(SIZES)}")
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant; the fastest is reported")
    parser.add_argument("--python", action="store_true", help="also measure the reference Python reader")
    parser.add_argument("--before", metavar="DIR", help="also measure the package found in DIR")
    parser.add_argument("--write", action="store_true", help="also measure inserting the finished rows alone")
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "FILE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    OUT.mkdir(parents=True, exist_ok=True)
    variants = (
        ["ingest", "naive"]
        + (["python"] if args.python else [])
        + (["before"] if args.before else [])
        + (["write"] if args.write else [])
    )
    print(f"Machine: {machine()}", flush=True)
    results = run(sizes, variants, args.repeat, args.before)
    print(report(results))
    print(f"\nLoad average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
