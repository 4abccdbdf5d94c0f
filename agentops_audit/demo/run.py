"""``agentops-audit demo``: generate the seeded demo data and run the whole pipeline on it.

One week (``--weeks 1``): traces with known defects (``synth.py``), eval results (``eval_results.py``),
ingest, audit and report. Several weeks: traces whose tokens creep up and then jump in the last week
(``weeks.py``, ground truth in OUT/data/weeks.json), a weekly backfill into OUT/history.duckdb (past
weeks' audit.json in OUT/weeks/<week>/), and the last week's report, with its trends and alerts, in OUT.
The command line passes its ``ingest``, ``audit`` and ``pdf`` steps in, so the demo prints what they print.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from agentops_audit.demo import eval_results, synth, weeks
from agentops_audit.paths import checks_dir

DEMO_MANIFEST = "demo/readiness.yml"  # under checks/, bundled with checks/demo/policy.yml


def run(args, ingest: Callable, audit: Callable, pdf: Callable) -> int:
    out = Path(args.out)
    data = out / "data"
    db_path = out / "audit.duckdb"
    db_path.unlink(missing_ok=True)  # the demo always starts from a fresh database
    if args.weeks > 1:
        return _weeks(args, out, data, db_path, ingest, pdf)
    truth = synth.generate(data / "traces", sessions=args.sessions, seed=args.seed)
    (data / "traces" / "truth.json").replace(data / "truth.json")
    print(f"Generated {truth['sessions']} demo sessions ({truth['spans']} spans) in {data / 'traces'}")
    ingest([str(data / "traces")], str(db_path), None)
    _evals(args, data, db_path, ingest)
    audit(str(db_path), str(out), args.config, args.pdf, _manifest(args), args.as_of)
    return 0


def _manifest(args) -> str:
    return args.manifest or str(checks_dir() / DEMO_MANIFEST)


def _evals(args, data: Path, db_path: Path, ingest: Callable) -> None:
    eval_file, eval_truth = eval_results.for_demo(db_path, data, seed=args.seed)
    print(f"Generated demo eval results for releases {', '.join(eval_truth['releases'])} in {eval_file}")
    ingest([str(eval_file)], str(db_path), "evals")


def _weeks(args, out: Path, data: Path, db_path: Path, ingest: Callable, pdf: Callable) -> int:
    from agentops_audit import weekly
    from agentops_audit.pipeline import REPORT_NAME
    from agentops_audit.trends.windows import Week

    history_path = out / "history.duckdb"
    for path in (history_path, Path(f"{history_path}.wal")):
        path.unlink(missing_ok=True)
    for folder in (data / "traces", data / "truth", out / "weeks"):
        shutil.rmtree(folder, ignore_errors=True)
    last = Week.of(synth.EPOCH)
    drift = weeks.generate(data / "traces", last, weeks=args.weeks, sessions=args.sessions, seed=args.seed)
    shutil.copyfile(data / "truth" / f"{last}.json", data / "truth.json")  # the audited (last) week's truth
    print(
        f"Generated {args.weeks} weeks of {args.sessions} demo sessions in {data / 'traces'}; token drift in "
        f"{', '.join(drift['drift_weeks']) or 'no week'} (ground truth: {data / 'weeks.json'})"
    )
    ingest([str(data / "traces")], str(db_path), None)
    _evals(args, data, db_path, ingest)
    audited = [Week.parse(w["week"]) for w in drift["weeks"]]
    done = weekly.run(
        db_path,
        history_path,
        audited,
        out / "weeks",
        config_path=args.config,
        manifest_path=_manifest(args),
        as_of=args.as_of,
        last_out=out,
    )
    last = done[-1]
    print(f"Verdict: {last.doc['verdict']} ({last.week}, recommended phase {last.doc['recommended_phase']})")
    print(f"Report:  {out / REPORT_NAME}")
    print(f"Result:  {out / 'audit.json'}")
    if args.pdf:
        print(f"PDF:     {pdf(out / REPORT_NAME)}")
    return 0
