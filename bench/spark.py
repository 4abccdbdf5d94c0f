"""Benchmark: every view and metric on DuckDB against Spark local[N], on the exported Parquet dataset.

For a size of bench/ingest.py (small ~10k spans, medium ~100k, large ~1M) the cached OTLP export is ingested
once into ``bench/out/spark/<size>/audit.duckdb`` and exported (``engine/export.py``) beside it. Each
measurement runs in its own Python process:

- ``duckdb``: ``export.attach`` + ``params.install`` + all metrics, DuckDB reading the Parquet in place;
- ``spark local[N]``: the session start (timed apart: a cluster pays it once), then ``register_dataset`` +
  ``engine.install`` + all metrics collected with Arrow, for each N of ``--cores``.

The machine's load averages (1, 5, 15 min) are recorded before and after each variant: on a shared machine
they say how far a time is an upper bound. The results file is rewritten after each variant, so a long run
stopped half-way keeps what it measured.

``--parity``: each variant also writes every metric result (the frames audit.json's metrics are computed
from) as Parquet under ``bench/out/spark/<size>/metrics-<variant>/``, and each Spark variant's results are
compared with DuckDB's exactly (every value, floats to the last bit, NaN equal to NaN; rows as sets, as
tests/parity.py does); the differing values are printed and recorded.

    python bench/spark.py [--size medium] [--cores 1,2] [--parity]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out" / "spark"


def prepare(size: str) -> tuple[Path, Path, int]:
    from ingest import dataset

    from agentops_audit import db, ingest
    from agentops_audit.engine import export

    traces, spans = dataset(size)
    folder = OUT / size
    database, data = folder / "audit.duckdb", folder / "dataset"
    cached = json.loads((data / export.MANIFEST).read_text()) if (data / export.MANIFEST).exists() else {}
    if cached.get("schema_version") != db.SCHEMA_VERSION:  # none yet, or written by an older schema
        shutil.rmtree(data, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        database.unlink(missing_ok=True)
        con = db.connect(database)
        ingest.ingest(con, [str(traces)])
        con.close()
        export.export(database, data)
    return database, data, json.loads((data / export.MANIFEST).read_text())["tables"]["spans"]


def _save(save: str | None, name: str, table) -> None:
    if save:
        import pyarrow.parquet as pq

        Path(save).mkdir(parents=True, exist_ok=True)
        pq.write_table(table, Path(save) / f"{name}.parquet")


def run_duckdb(data: str, save: str | None = None) -> dict:
    from agentops_audit import db, metrics
    from agentops_audit.engine import export
    from agentops_audit.metrics import params

    t0 = time.perf_counter()
    path = export.attach(data, Path(data).parent / "bench-attached.duckdb")
    con = db.connect(path, read_only=True)
    params.install(con, {})
    for name in metrics.METRICS:
        _save(save, name, metrics.run(con, name).to_arrow())
    return {"audit_s": time.perf_counter() - t0}


def _equal(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y))
    if isinstance(x, list | tuple) and isinstance(y, list | tuple):
        return len(x) == len(y) and all(map(_equal, x, y))
    return x == y


def compare(got_dir: Path, want_dir: Path) -> dict:
    """Every metric of ``got_dir`` against ``want_dir``: rows as sets, each value exactly equal."""
    import polars as pl

    differing, values = [], 0
    for want_file in sorted(want_dir.glob("*.parquet")):
        name = want_file.stem
        got, want = pl.read_parquet(got_dir / want_file.name), pl.read_parquet(want_file)
        if got.schema.names() != want.schema.names() or got.height != want.height:
            differing.append({"metric": name, "shape": [list(got.shape), list(want.shape)]})
            continue
        g = got.sort(got.columns, nulls_last=True).rows()
        w = want.sort(want.columns, nulls_last=True).rows()
        for a, b in zip(g, w, strict=True):
            for column, x, y in zip(got.columns, a, b, strict=True):
                values += 1
                if not _equal(x, y):
                    differing.append({"metric": name, "column": column, "spark": repr(x), "duckdb": repr(y)})
    return {"metrics": len(list(want_dir.glob("*.parquet"))), "values": values, "differing": differing}


def run_spark(data: str, cores: int, save: str | None = None) -> dict:
    from agentops_audit import db, metrics
    from agentops_audit.engine import export
    from agentops_audit.engine import spark as engine

    t0 = time.perf_counter()
    session = engine.session(f"local[{cores}]")
    t1 = time.perf_counter()
    local = db.connect(export.attach(data, Path(data).parent / f"bench-spark{cores}.duckdb"), read_only=True)
    engine.register_dataset(session, data)
    engine.install(session, local, {})
    for name in metrics.METRICS:
        _save(save, name, engine.run_metric(session, name))
    t2 = time.perf_counter()
    session.stop()
    return {"session_s": t1 - t0, "audit_s": t2 - t1}


def child(variant: str, data: str, save: Path | None) -> dict:
    before = [round(x, 2) for x in os.getloadavg()]
    extra = ["--save", str(save)] if save else []
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--data", data, *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {**result, "load_before": before, "load_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="medium", choices=("small", "medium", "large"))
    ap.add_argument("--cores", default="1,2")
    ap.add_argument("--child")
    ap.add_argument("--data")
    ap.add_argument("--parity", action="store_true", help="save every metric result and compare them exactly")
    ap.add_argument("--save")
    args = ap.parse_args()
    if args.child:
        if args.child == "duckdb":
            result = run_duckdb(args.data, args.save)
        else:
            result = run_spark(args.data, int(args.child), args.save)
        print(json.dumps(result))
        return
    _, data, spans = prepare(args.size)
    results = {"size": args.size, "spans": spans, "machine": platform.platform(), "cpus": os.cpu_count()}
    for variant in ["duckdb", *args.cores.split(",")]:
        key = "duckdb" if variant == "duckdb" else f"spark_local_{variant}"
        save = OUT / args.size / f"metrics-{key}" if args.parity else None
        value = results[key] = child(variant, str(data), save)
        per_s = spans / value["audit_s"]
        extra = f", session start {value['session_s']:.1f} s" if "session_s" in value else ""
        print(
            f"{key:16} {value['audit_s']:8.1f} s  {per_s:10,.0f} spans/s{extra}, load average "
            f"{value['load_before']} before, {value['load_after']} after",
            flush=True,
        )
        if save and key != "duckdb":
            parity = value["parity"] = compare(save, OUT / args.size / "metrics-duckdb")
            print(
                f"{key:16} parity with DuckDB: {len(parity['differing'])} differing of {parity['values']:,} values "
                f"in {parity['metrics']} metrics",
                flush=True,
            )
            for d in parity["differing"]:
                print("  ", d, flush=True)
        (OUT / f"results-{args.size}{'-parity' if args.parity else ''}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
