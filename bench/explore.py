"""Benchmark: every ``Explorer`` call on an audit database of about 1M spans (goal: each under a second).

The database is built once under ``bench/out/``: a seeded demo export (``synth.generate``) is ingested for
real, then its spans are copied with SQL, each copy with rewritten trace, span, parent and session ids and
shifted by whole weeks, until the table holds ``--spans`` rows; then it is audited for real (``audit.json``
beside it). Each call is timed ``--repeat`` times; the
best and median wall-clock times and the median CPU time of this process (all DuckDB threads included,
so it does not grow when other work competes for the cores) are printed as a Markdown table, with the
machine's load average.

    python bench/explore.py [--spans 1000000] [--repeat 3] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replicate import replicate  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "explore"
SEED_SESSIONS = 2000
WEEKS = 10


def build(spans: int, rebuild: bool = False) -> Path:
    """The benchmark database with at least ``spans`` spans and, beside it, the ``audit.json`` of a real
    audit of it (what ``Explorer.verdict`` reads); both are reused when they already exist."""
    from agentops_audit import audit, db, ingest
    from agentops_audit.demo import synth

    path = OUT / str(spans) / "audit.duckdb"
    if path.exists() and not rebuild:
        try:
            con = db.connect(path)  # writable: applies this toolkit's schema.sql, so its views are current
        except db.SchemaMismatch:  # written by an older toolkit: rebuild
            con = None
        if con is not None:
            try:
                ready = db.scalar(con, "SELECT count(*) FROM spans") >= spans
            finally:
                con.close()
            if ready:
                if not path.with_name("audit.json").exists():
                    audit.write(audit.run(path), path.parent)
                return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.with_name("audit.json").unlink(missing_ok=True)
    synth.generate(OUT / "export", sessions=SEED_SESSIONS, seed=7)
    con = db.connect(path)
    try:
        (summary,) = ingest.ingest(con, [str(OUT / "export" / "traces.otlp.jsonl")])
        if summary.error:
            raise SystemExit(f"ingest of the seed export failed: {summary.error}")
        replicate(con, spans, WEEKS, "WEEK")
    finally:
        con.close()
    audit.write(audit.run(path), path.parent)
    return path


def calls(ex) -> dict:
    """The explorer calls to time, by name."""
    some_session = ex.sessions(outcome="failure", limit=1)["session_id"][0]
    cases = {
        "sessions()": lambda: ex.sessions(),
        "sessions(workflow, week, outcome)": lambda: ex.sessions(
            workflow="refund_eligibility", week="2026-W47", outcome="failure"
        ),
        "tool_calls(tool)": lambda: ex.tool_calls(tool="lookup_order"),
        "tool_calls(week)": lambda: ex.tool_calls(week="2026-W47"),
        "llm_calls(workflow, week)": lambda: ex.llm_calls(workflow="ticket_triage", week="2026-W47"),
        "failures()": lambda: ex.failures(),
        "trace(session_id)": lambda: ex.trace(session_id=some_session),
        "verdict() (audit.json beside the database)": lambda: ex.verdict(),
    }
    for item in ex.catalog.items:
        from agentops_audit.evidence import EVIDENCE

        if item.check in EVIDENCE and not any(f"[{item.check}]" in k for k in cases):
            cases[f"evidence({item.id}) [{item.check}]"] = lambda i=item.id: ex.evidence(i)
    return cases


def run(spans: int = 1_000_000, repeat: int = 3, rebuild: bool = False) -> list[dict]:
    """Time every call; one result row per call (best and median seconds, rows returned)."""
    from agentops_audit.explore import Explorer

    path = build(spans, rebuild)
    results = []
    for name, call in calls(Explorer(path)).items():
        times, cpu, rows = [], [], None
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            out = call()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            rows = (
                out.total_rows
                if hasattr(out, "total_rows")
                else out.blockers.height
                if hasattr(out, "blockers")
                else out.height
            )
        results.append(
            {
                "call": name,
                "best_s": min(times),
                "median_s": statistics.median(times),
                "cpu_s": statistics.median(cpu),
                "rows": rows,
            }
        )
    return results


def table(results: list[dict], spans: int, repeat: int) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"Explorer calls on {spans:,} spans, {repeat} runs each, {os.cpu_count()} cores, "
        f"load average {load} at the end (seconds):",
        "",
        "| call | rows | best wall | median wall | median CPU | best under 1 s |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for r in results:
        lines.append(
            f"| `{r['call']}` | {r['rows']} | {r['best_s']:.3f} | {r['median_s']:.3f} | {r['cpu_s']:.3f} | "
            f"{'yes' if r['best_s'] < 1 else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the benchmark database")
    args = parser.parse_args(argv)
    print(table(run(args.spans, args.repeat, args.rebuild), args.spans, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
