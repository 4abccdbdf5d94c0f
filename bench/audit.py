"""Benchmark: the full audit (every metric and Great Expectations suite, ``agentops_audit.audit.run``) on
stored spans, against a baseline measured in the same run: the same checks written the obvious way, with
pandas on a frame of the raw spans and Great Expectations validating that raw frame.

Goals: 10M spans audited in <= 30 s on 2 cores, >= 10x faster than the baseline, peak RSS <= 4 GB, cost
linear in spans. The databases are built once under ``bench/out/audit/``: a seeded demo export is ingested
for real, then its spans are copied with SQL (``INSERT ... SELECT``), each copy with rewritten trace, span,
parent and session ids and shifted by whole days. Every measurement runs in a fresh subprocess, which
reports its wall-clock time (imports excluded) and its peak RSS.

    python bench/audit.py                      # short: 100k spans, audit and baseline
    python bench/audit.py --full               # 1M and 10M spans (baseline at 1M only), appends to RESULTS.md
    python bench/audit.py --spans 2000000 --no-baseline
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replicate import replicate  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "audit"
RESULTS = HERE / "RESULTS.md"
SEED_SESSIONS = 4000
SHORT, FULL = [100_000], [1_000_000, 10_000_000]
BASELINE_MAX_SPANS = 1_000_000  # the pandas baseline needs the raw spans in memory: infeasible at 10M


# ---------------------------------------------------------------- building the databases


def build(spans: int, rebuild: bool = False) -> Path:
    """A database with at least ``spans`` spans, reused when it exists."""
    from agentops_audit import db, ingest
    from agentops_audit.demo import synth

    path = OUT / f"spans-{spans}.duckdb"
    if path.exists() and not rebuild:
        try:
            con = db.connect(path)  # writable: applies this toolkit's schema.sql, so its views are current
            try:
                if db.scalar(con, "SELECT count(*) FROM spans") >= spans:
                    return path
            finally:
                con.close()
        except db.SchemaMismatch:
            pass
    path.unlink(missing_ok=True)
    export = OUT / "export"
    if not (export / "traces.otlp.jsonl").exists():
        synth.generate(export, sessions=SEED_SESSIONS, seed=7, days=7)
    con = db.connect(path)
    try:
        con.execute("SET enable_progress_bar = false")
        ingest.ingest(con, [str(export / "traces.otlp.jsonl")])
        replicate(con, spans, 28, "DAY")
    finally:
        con.close()
    return path


# ---------------------------------------------------------------- the two ways of auditing (child processes)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def audit_toolkit(db_path: str) -> dict:
    from agentops_audit import audit

    t0, c0 = time.perf_counter(), _cpu()
    doc = audit.run(db_path)
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    statuses = {}
    for s in doc["sections"]:
        for it in s["items"]:
            statuses[it["status"]] = statuses.get(it["status"], 0) + 1
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "verdict": doc["verdict"],
        "statuses": statuses,
        "spans": doc["metrics"]["spans"],
    }


def audit_baseline(db_path: str) -> dict:
    """The obvious way: load every raw span into pandas, compute the same checks with pandas and Python,
    and let Great Expectations validate the raw spans frame."""
    import duckdb
    from audit_baseline import run_baseline

    t0, c0 = time.perf_counter(), _cpu()
    con = duckdb.connect(db_path, read_only=True)
    spans = con.sql("SELECT * EXCLUDE (attributes, events, links) FROM spans").df()
    spans["purpose"] = spans["llm_purpose"]
    con.close()
    out = run_baseline(spans)
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0, "spans": len(spans), **out}


def child(kind: str, db_path: str) -> None:
    load = os.getloadavg()[0]
    result = (audit_toolkit if kind == "audit" else audit_baseline)(db_path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["load_before"] = load
    print(json.dumps(result))


def measure(kind: str, db_path: Path, timeout: int = 3600) -> dict:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(db_path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the run and its report


def run(sizes: list[int], baseline: bool = True, rebuild: bool = False, repeat: int = 3) -> list[dict]:
    """Per size: the audit ``repeat`` times (the row keeps the run with the median wall time, and the first
    run's time: the first reads the database file from disk when the page cache does not hold it), then
    the baseline once."""
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        path = build(n, rebuild)
        build_s = time.perf_counter() - t0
        runs = [measure("audit", path) for _ in range(max(1, repeat))]
        timed = sorted((r for r in runs if "seconds" in r), key=lambda r: r["seconds"])
        median = timed[(len(timed) - 1) // 2] if timed else runs[0]
        row = {
            "target": n,
            "build_s": build_s,
            "db_mb": path.stat().st_size / 2**20,
            "audit": median,
            "first_s": runs[0].get("seconds"),
            "runs": len(runs),
            "failed_runs": len(runs) - len(timed),
        }
        if baseline and n <= BASELINE_MAX_SPANS:
            row["baseline"] = measure("baseline", path)
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _line(row: dict) -> str:
    a, b = row["audit"], row.get("baseline")
    text = f"{row['target']:>11,} spans: audit {a.get('seconds', float('nan')):.1f} s, {a.get('peak_rss_mb', 0):.0f} MB"
    if b:
        text += f"; baseline {b.get('seconds', float('nan')):.1f} s, {b.get('peak_rss_mb', 0):.0f} MB"
    return text + (f"  ({a['error']})" if "error" in a else "")


def table(rows: list[dict]) -> str:
    lines = [
        "| spans | audit wall s (median) | first run wall s | audit CPU s | CPU s per 1M spans | peak RSS MB | "
        "baseline wall s | baseline CPU s | baseline peak RSS MB | speed-up (CPU) | load before |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        a, b = r["audit"], r.get("baseline") or {}
        if "seconds" not in a:
            lines.append(f"| {r['target']:,} | error: {a.get('error')} | | | | | | | | | |")
            continue
        spans = a["spans"]
        base = (
            (
                f"{b['seconds']:.1f} | {b['cpu_seconds']:.1f} | {b['peak_rss_mb']:,.0f} | "
                f"{b['cpu_seconds'] / a['cpu_seconds']:.1f}x"
            )
            if "seconds" in b
            else "not run | | |"
        )
        per_million = a["cpu_seconds"] / spans * 1e6
        first = f"{r['first_s']:.1f}" if r.get("first_s") is not None else "failed"
        if r.get("failed_runs"):
            first += f" ({r['failed_runs']} of {r['runs']} runs failed)"
        lines.append(
            f"| {spans:,} | {a['seconds']:.1f} | {first} | {a['cpu_seconds']:.1f} | {per_million:.2f} "
            f"| {a['peak_rss_mb']:,.0f} | {base} | {a['load_before']:.1f} |"
        )
    return "\n".join(lines)


def append_results(rows: list[dict]) -> None:
    cpu = os.cpu_count()
    header = (
        f"\n## Full audit (bench/audit.py), {datetime.now(UTC):%Y-%m-%d}\n\n"
        f"`agentops_audit.audit.run` (every metric, every GX suite, PII scan, examples) on stored spans; "
        f"{cpu} cores, Python {platform.python_version()}, each measurement a fresh process (imports not "
        f"timed). Baseline: the same checks with pandas on the raw spans plus GX validating the raw frame "
        f"(`bench/audit_baseline.py`); at 10M spans it is not run (the raw frame alone would not fit the memory "
        f"goal).\n\n"
    )
    with RESULTS.open("a") as fh:
        fh.write(header + table(rows) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="1M and 10M spans; append the table to RESULTS.md")
    parser.add_argument("--spans", type=int, nargs="*", help="span counts to measure instead")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the benchmark databases")
    parser.add_argument("--repeat", type=int, default=3, help="audit runs per size (the median is reported)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    sizes = args.spans or (FULL if args.full else SHORT)
    rows = run(sizes, baseline=not args.no_baseline, rebuild=args.rebuild, repeat=args.repeat)
    print(table(rows))
    if args.full:
        append_results(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
