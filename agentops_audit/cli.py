"""The ``agentops-audit`` command.

Exit codes (stable, for schedulers and CI):
  0  GO                     3  GO WITH CONDITIONS
  4  NO-GO                  5  INCONCLUSIVE
  2  usage or input error   1  unexpected internal error
``demo`` exits 0 whatever the verdict of the demo data, and ``ingest`` exits 2 when a file failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_CODES = {"GO": 0, "GO WITH CONDITIONS": 3, "NO-GO": 4, "INCONCLUSIVE": 5}
EXIT_USAGE, EXIT_INTERNAL = 2, 1


class UsageError(Exception):
    """An expected error: printed as one line, exit code 2."""


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
    return raw


def _ingest(paths: list[str], db_path: str, fmt: str | None, mapping: str | None) -> list:
    from agentops_audit import db, ingest

    con = db.connect(db_path)
    try:
        return ingest.ingest(con, paths, fmt=fmt, options=_load_mapping(mapping), echo=print)
    finally:
        con.close()


def _audit(db_path: str, out: str, config: str | None) -> dict:
    from agentops_audit import config as audit_config
    from agentops_audit.pipeline import REPORT_NAME, audit_and_report

    audit_config.load(config)  # fail early, with one line, on a bad config
    if not Path(db_path).exists():
        raise UsageError(f"audit database not found: {db_path} (create it with `agentops-audit ingest`)")
    doc = audit_and_report(db_path, out, config)
    print(f"Verdict: {doc['verdict']} (recommended phase {doc['recommended_phase']})")
    print(f"Report:  {Path(out) / REPORT_NAME}")
    print(f"Result:  {Path(out) / 'audit.json'}")
    return doc


def cmd_ingest(args) -> int:
    summaries = _ingest(args.paths, args.db, args.format, args.mapping)
    return EXIT_USAGE if any(s.error for s in summaries) else 0


def cmd_audit(args) -> int:
    return EXIT_CODES[_audit(args.db, args.out, args.config)["verdict"]]


def cmd_run(args) -> int:
    db_path = args.db or str(Path(args.out) / "audit.duckdb")
    _ingest(args.paths, db_path, args.format, args.mapping)
    return EXIT_CODES[_audit(db_path, args.out, args.config)["verdict"]]


def cmd_demo(args) -> int:
    from agentops_audit import synth

    out = Path(args.out)
    data = out / "data"
    db_path = out / "audit.duckdb"
    db_path.unlink(missing_ok=True)  # the demo always starts from a fresh database
    truth = synth.generate(data / "traces", sessions=args.sessions, seed=args.seed)
    (data / "traces" / "truth.json").replace(data / "truth.json")
    print(f"Generated {truth['sessions']} demo sessions ({truth['spans']} spans) in {data / 'traces'}")
    _ingest([str(data / "traces")], str(db_path), None, None)
    _audit(str(db_path), str(out), args.config)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentops-audit", description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def inputs(p):
        p.add_argument("paths", nargs="+", metavar="PATH", help="trace export files, globs or directories (.gz ok)")
        p.add_argument("--format", help="input format, instead of sniffing it (see README)")
        p.add_argument("--mapping", help="YAML mapping file for the input (see README)")

    p = sub.add_parser("ingest", help="load trace exports into an audit database")
    inputs(p)
    p.add_argument("--db", required=True, help="audit database file (created if missing)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("audit", help="audit a database and render the report")
    p.add_argument("--db", required=True)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--config", help="audit config (YAML)")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("run", help="ingest, audit and report in one call")
    inputs(p)
    p.add_argument("--out", required=True)
    p.add_argument("--db", help="audit database (default: OUT/audit.duckdb)")
    p.add_argument("--config")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="generate the demo traces and run the whole pipeline on them")
    p.add_argument("--out", default="reports/demo")
    p.add_argument("--sessions", type=int, default=400)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--config")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from agentops_audit.db import SchemaMismatch
    from agentops_audit.ingest.reader import InputError

    try:
        return args.func(args)
    except (UsageError, InputError, SchemaMismatch, FileNotFoundError) as exc:
        print(f"agentops-audit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
