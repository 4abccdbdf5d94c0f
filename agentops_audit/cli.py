"""The ``agentops-audit`` command.

Exit codes (stable, for schedulers and CI):
  0  GO                     3  GO WITH CONDITIONS
  4  NO-GO                  5  INCONCLUSIVE
  2  usage or input error   1  unexpected internal error
``demo`` exits 0 whatever the verdict of the demo data. ``ingest`` exits 2 when a file failed or had every
record quarantined; ``ingest`` and ``run`` stop with exit code 2 when no file loaded anything.
``init`` exits 0, or 2 when the file already exists (it never overwrites).
``gate`` exits 0 PASS, 4 FAIL, 5 INCONCLUSIVE (the sample cannot tell the change from noise), 2 usage error.
``weekly`` exits by the verdict of the last week it audited, and 75 when another run holds the history
lock for longer than ``--lock-timeout`` (nothing is written; retry later).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentops_audit.database_check import check_database
from agentops_audit.errors import InputError, UsageError

EXIT_CODES = {"GO": 0, "GO WITH CONDITIONS": 3, "NO-GO": 4, "INCONCLUSIVE": 5}
EXIT_USAGE, EXIT_INTERNAL = 2, 1
EXIT_BUSY = 75  # sysexits EX_TEMPFAIL: the weekly history is locked by another run
PDF_HELP = "also print the report to OUT/readiness-report.pdf with headless Chromium"


def _load_mapping(path: str | None) -> dict:
    if not path:
        return {}
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise UsageError(f"cannot read mapping {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: a mapping file must be a YAML mapping")
    from agentops_audit.ingest.mapping import validate

    return validate(raw, path)  # MappingError (an InputError) names the file and the field


def _ingest(paths: list[str], db_path: str, fmt: str | None, mapping: str | None, args=None) -> list:
    from agentops_audit import db, ingest
    from agentops_audit.ingest.filters import Filters

    options = _load_mapping(mapping)  # a bad mapping fails before the database is created
    filters = Filters.of(getattr(args, "since", None), getattr(args, "until", None), getattr(args, "workflow", None))
    con = db.connect(db_path)
    try:
        summaries = ingest.ingest(con, paths, fmt=fmt, options=options, echo=print, filters=filters, progress=True)
    finally:
        con.close()
    problem = ingest.nothing_loaded(summaries)
    if problem:
        raise UsageError(problem)
    return summaries


def _audit(
    db_path: str, out: str, config: str | None, pdf: bool = False, manifest: str | None = None, as_of=None
) -> dict:
    from agentops_audit.pipeline import REPORT_NAME, audit_and_report

    _load_config(config)  # fail early, with one line, on a bad config
    if manifest:
        from agentops_audit import manifest as readiness

        readiness.load(manifest)  # a bad manifest or policy file: one line naming file, line and field
    check_database(db_path)
    doc = audit_and_report(db_path, out, config, manifest, as_of)
    print(f"Verdict: {doc['verdict']} (recommended phase {doc['recommended_phase']})")
    print(f"Report:  {Path(out) / REPORT_NAME}")
    print(f"Result:  {Path(out) / 'audit.json'}")
    if pdf:
        print(f"PDF:     {_pdf(Path(out) / REPORT_NAME)}")
    return doc


def _load_config(path: str | None) -> dict:
    """The config (one line and exit 2 when it is bad), with one deprecation line per declared fact it holds."""
    from agentops_audit import config as audit_config

    loaded = audit_config.load(path)
    for line in audit_config.deprecations(loaded, path):
        print(line, file=sys.stderr)
    return loaded


def file_error(exc: Exception) -> str:
    """A DuckDB error about a file (not a database, a directory, locked) as one line without its prefix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for prefix in ("IO Error: ", "Connection Error: ", "Invalid Input Error: "):
        text = text.removeprefix(prefix)
    return text


def _pdf(html: Path | None = None):
    """Print ``html`` to PDF beside it; without ``html``, only check that Chromium is there."""
    from agentops_audit.report import pdf

    try:
        return pdf.write(html) if html else pdf.find_chromium()
    except pdf.PdfError as exc:
        raise UsageError(str(exc)) from exc


def cmd_ingest(args) -> int:
    if getattr(args, "from_source", None):  # ingest --from phoenix|mlflow URL: a pull (integrations/pull.py)
        from agentops_audit.integrations.commands import cmd_pull

        return cmd_pull(args)
    if not args.paths:
        raise UsageError("give the files to ingest (PATH...), or pull with --from phoenix|mlflow URL")
    summaries = _ingest(args.paths, args.db, args.format, args.mapping, args)
    return EXIT_USAGE if any(s.error or s.all_quarantined for s in summaries) else 0


def cmd_audit(args) -> int:
    from agentops_audit.integrations.commands import finish_audit

    doc = _audit(args.db, args.out, args.config, args.pdf, args.manifest, args.as_of)
    finish_audit(args, args.out, doc)  # --sign, --summary-md
    return EXIT_CODES[doc["verdict"]]


def cmd_run(args) -> int:
    from agentops_audit.integrations.commands import finish_audit

    db_path = args.db or str(Path(args.out) / "audit.duckdb")
    _ingest(args.paths, db_path, args.format, args.mapping, args)
    doc = _audit(db_path, args.out, args.config, args.pdf, args.manifest, args.as_of)
    finish_audit(args, args.out, doc)  # --sign, --summary-md
    return EXIT_CODES[doc["verdict"]]


def cmd_demo(args) -> int:
    from agentops_audit.demo import run as demo

    if args.weeks < 1:
        raise UsageError("--weeks must be 1 or more")
    return demo.run(args, ingest=lambda paths, db_path, fmt: _ingest(paths, db_path, fmt, None), audit=_audit, pdf=_pdf)


def _weeks_of(args) -> list:
    from agentops_audit.trends.windows import Week, week_range

    try:
        if args.week and (args.from_week or args.to_week):
            raise UsageError("--week and --from/--to exclude each other")
        if args.week:
            return [Week.parse(args.week)]
        if args.from_week or args.to_week:
            if not (args.from_week and args.to_week):
                raise UsageError("--from and --to go together")
            return week_range(Week.parse(args.from_week), Week.parse(args.to_week))
        return [Week.last_complete()]
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def cmd_weekly(args) -> int:
    from agentops_audit import weekly
    from agentops_audit.weekly import history

    weeks = _weeks_of(args)
    if Path(args.history).is_dir():
        raise UsageError(
            f"--history {args.history} is a directory; give the history store's file, e.g. "
            f"{Path(args.history) / 'history.duckdb'}"
        )
    _load_config(args.config)  # bad inputs fail before waiting for the lock
    if args.manifest:
        from agentops_audit import manifest as readiness

        readiness.load(args.manifest)
    check_database(args.db)
    render = "none" if args.no_report else "all" if args.report_all else "last"
    try:
        done = weekly.run(
            args.db,
            args.history,
            weeks,
            args.out_root,
            config_path=args.config,
            manifest_path=args.manifest,
            as_of=args.as_of,
            render=render,
            lock_timeout=args.lock_timeout,
            warn=lambda m: print(m, file=sys.stderr),
            before_week=getattr(args, "before_week", None),
        )  # --engine spark: engine/commands.py
    except history.HistoryBusy as exc:
        print(f"agentops-audit: error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (weekly.NoSessions, history.HistoryError) as exc:
        raise UsageError(str(exc)) from exc
    if args.pdf:
        for result in done:
            if result.rendered:
                print(f"PDF:     {_pdf(result.out_dir / 'readiness-report.html')}")
    from agentops_audit.integrations.commands import finish_weekly

    finish_weekly(args, done)  # --sign, --summary-md, --notify
    return EXIT_CODES[done[-1].doc["verdict"]]


def cmd_upgrade(args) -> int:
    from agentops_audit import db

    found = db.upgrade(args.db)
    print(
        f"{args.db}: schema version {found} upgraded to {db.SCHEMA_VERSION}"
        if found
        else f"{args.db}: already at schema version {db.SCHEMA_VERSION}, nothing to do"
    )
    return 0


def cmd_init(args) -> int:
    from agentops_audit import manifest as readiness

    print(f"Wrote {readiness.write_template(args.out)}: fill it in and pass it to `audit --manifest`")
    return 0


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _readiness_options(p) -> None:
    p.add_argument("--manifest", help="readiness manifest (YAML, see `init`); without it attested items are NO_DATA")
    p.add_argument("--as-of", type=_date, help="reference date for staleness (default: end of the audited window)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentops-audit",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def inputs(p, nargs="+"):
        p.add_argument("paths", nargs=nargs, metavar="PATH", help="trace export files, globs or directories (.gz ok)")
        p.add_argument("--format", help="input format, instead of sniffing it (see README)")
        p.add_argument("--mapping", help="YAML mapping file for the input (see README)")
        p.add_argument("--since", help="keep sessions that started at or after this UTC date or date-time")
        p.add_argument("--until", help="keep sessions that started before this UTC date or date-time")
        p.add_argument("--workflow", help="keep sessions of this workflow (agentops.workflow)")

    p = sub.add_parser("ingest", help="load trace exports into an audit database")
    inputs(p, nargs="*")  # none with --from (integrations: pull from Phoenix or MLflow)
    p.add_argument("--db", required=True, help="audit database file (created if missing)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("audit", help="audit a database and render the report")
    p.add_argument("--db", required=True)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--config", help="audit config (YAML)")
    p.add_argument("--pdf", action="store_true", help=PDF_HELP)
    _readiness_options(p)
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("run", help="ingest, audit and report in one call")
    inputs(p)
    p.add_argument("--out", required=True)
    p.add_argument("--db", help="audit database (default: OUT/audit.duckdb)")
    p.add_argument("--config")
    p.add_argument("--pdf", action="store_true", help=PDF_HELP)
    _readiness_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("weekly", help="audit ISO weeks into OUT_ROOT/<week>/ and record them in a history store")
    p.add_argument("--db", required=True, help="audit database")
    p.add_argument("--history", required=True, help="weekly history store (DuckDB file, created if missing)")
    p.add_argument(
        "--week", help="ISO week to audit, e.g. 2026-W46 (default: the last complete week before today, UTC)"
    )
    p.add_argument("--from", dest="from_week", metavar="WEEK", help="first week of a backfill range")
    p.add_argument("--to", dest="to_week", metavar="WEEK", help="last week of a backfill range (included)")
    p.add_argument("--out-root", default="reports", help="reports go to OUT_ROOT/<week>/ (default: reports)")
    p.add_argument("--config")
    p.add_argument("--no-report", action="store_true", help="write audit.json only, render no HTML report")
    p.add_argument(
        "--report-all",
        action="store_true",
        help="render the report of every week of a range (default: the last week only)",
    )
    p.add_argument(
        "--lock-timeout",
        type=float,
        default=300.0,
        help="seconds to wait while another run holds the history (default: 300); then exit 75",
    )
    p.add_argument("--pdf", action="store_true", help="also print each rendered report to PDF")
    _readiness_options(p)
    p.set_defaults(func=cmd_weekly)

    p = sub.add_parser("demo", help="generate the demo traces and run the whole pipeline on them")
    p.add_argument("--out", default="reports/demo")
    p.add_argument("--sessions", type=int, default=400, help="sessions per week (default: 400)")
    p.add_argument(
        "--weeks",
        type=int,
        default=6,
        help="weeks of traces, audited weekly into a history with trends and alerts (default: 6); "
        "1: a single week audited as a whole, no history",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--config")
    p.add_argument("--pdf", action="store_true", help=PDF_HELP)
    _readiness_options(p)  # default: the bundled checks/demo/readiness.yml
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("upgrade", help="bring an audit database written by an older toolkit to this schema, in place")
    p.add_argument("--db", required=True, help="audit database")
    p.set_defaults(func=cmd_upgrade)

    p = sub.add_parser("init", help="write a commented readiness manifest template")
    p.add_argument("--out", default="readiness.yml", help="where to write it (never overwritten)")
    p.set_defaults(func=cmd_init)

    from agentops_audit.evals import commands as eval_commands

    eval_commands.add_parsers(sub)  # gate, sample-evals
    from agentops_audit.integrations import commands as integration_commands

    integration_commands.add_parsers(sub)  # receive, verify, keygen; --from, --summary-md, --sign, --notify
    from agentops_audit.engine import commands as engine_commands

    engine_commands.add_parsers(sub)  # export; audit --dataset, --engine spark
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import duckdb

    from agentops_audit.db import SchemaMismatch

    try:
        if getattr(args, "pdf", False):
            _pdf()  # fail before any work when the PDF cannot be printed
        return args.func(args)
    except (UsageError, InputError, SchemaMismatch, FileNotFoundError) as exc:
        print(f"agentops-audit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (duckdb.IOException, IsADirectoryError, NotADirectoryError) as exc:  # a file DuckDB cannot open
        print(f"agentops-audit: error: {file_error(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
