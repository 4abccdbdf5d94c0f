"""``agentops-audit export`` and the engine options of ``audit``, ``weekly`` (``--dataset``, ``--engine spark``)
and ``ingest`` (``--engine spark --dataset DIR``: ``engine/ingest.py``).

``audit --dataset DIR`` audits an exported Parquet dataset (``engine/export.py``) with DuckDB, reading the
files in place through a small database of views (``OUT/dataset.duckdb``). ``--engine spark`` (which needs
``--dataset``) runs the derived views and every metric on Spark (``engine/spark.py``) and stores the metric
results in that database (schema ``engine_metrics``), where ``metrics.run`` reads them; Great Expectations,
the verdict, the PII scan (Python regular expressions, not Java's), the example traces and the report then
run locally on DuckDB over the same dataset. ``weekly --engine spark`` does the same for each week, restricted
to the week on both sides (``windows.restrict`` locally, ``engine.spark.restrict`` on Spark), before ``weekly``
audits it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentops_audit.ingest.reader import InputError as UsageError  # cli.main prints it as one line, exit 2

ENGINES = ("duckdb", "spark")


def _conf(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def add_parsers(sub) -> None:
    p = sub.add_parser("export", help="write an audit database as the canonical Parquet dataset (spans by day)")
    p.add_argument("--db", required=True, help="audit database")
    p.add_argument("--to", required=True, metavar="DIR", help="dataset folder (replaced when it holds an export)")
    p.set_defaults(func=cmd_export)

    for command in ("audit", "weekly"):
        p = sub.choices[command]
        _engine_options(p, f"{command} an exported Parquet dataset (`export`) instead of --db")
        p.set_defaults(func=_with_engine(p.get_default("func")))
    p = sub.choices["ingest"]
    _engine_options(p, "with --engine spark: the Parquet dataset to load into (created if missing)")
    p.set_defaults(func=_ingest_with_engine(p.get_default("func")))


def _engine_options(p, dataset_help: str) -> None:
    for action in p._actions:  # --db or --dataset
        if action.dest == "db":
            action.required = False
            action.help = "audit database (or --dataset)"
    p.add_argument("--dataset", metavar="DIR", help=dataset_help)
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help="where the views and metrics run: duckdb (default) or spark (with --dataset; extra `spark`)",
    )
    p.add_argument("--spark-master", default=None, help="Spark master URL (default local[2])")
    p.add_argument(
        "--spark-conf",
        action="append",
        type=_conf,
        default=[],
        metavar="KEY=VALUE",
        help="a Spark configuration setting (repeatable)",
    )


def _with_engine(command):
    """``command`` (``audit`` or ``weekly``: the command's own function) after the engine options are applied."""

    def with_engine(args) -> int:
        prepare(args)
        return command(args)

    return with_engine


def _ingest_with_engine(ingest):
    """``ingest`` (the command's own function), or ``ingest --engine spark`` into a dataset."""

    def with_engine(args) -> int:
        if args.engine == "duckdb":
            if args.dataset or not args.db:
                raise UsageError(
                    "ingest loads into an audit database (--db FILE), or into a dataset with "
                    "--engine spark --dataset DIR"
                )
            return ingest(args)
        if args.db or not args.dataset:
            raise UsageError("ingest --engine spark loads into a Parquet dataset: give --dataset DIR, not --db")
        if (
            args.format not in (None, "otlp")
            or args.mapping
            or args.since
            or args.until
            or args.workflow
            or getattr(args, "from_source", None)
        ):
            raise UsageError(
                "ingest --engine spark reads OTLP JSON files as they are: no --format other than "
                "otlp, --mapping, --since, --until, --workflow or --from"
            )
        return cmd_ingest_spark(args)

    return with_engine


def cmd_ingest_spark(args) -> int:
    from agentops_audit import ingest
    from agentops_audit.engine import ingest as spark_ingest
    from agentops_audit.ingest.reader import expand

    if not args.paths:
        raise UsageError("give the files to ingest (PATH...)")
    files = expand(args.paths)  # a missing path: one line, before Spark starts
    engine, session, _, _ = _spark(args, audit=False)
    try:
        summaries = spark_ingest.ingest(session, files, args.dataset)
    except ValueError as exc:  # a folder that is not a dataset of this schema version
        raise UsageError(str(exc)) from exc
    for s in summaries:
        print(s.line())
    problem = ingest.nothing_loaded(summaries)
    if problem:
        raise UsageError(problem)
    print(f"Engine:  spark ({args.spark_master}), dataset {args.dataset}", file=sys.stderr)
    return 2 if any(s.error or s.all_quarantined for s in summaries) else 0


def cmd_export(args) -> int:
    from agentops_audit.engine import export

    if not Path(args.db).is_file():
        raise UsageError(f"audit database not found: {args.db}")
    try:
        manifest = export.export(args.db, args.to)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    tables = manifest["tables"]
    print(f"Exported {tables.get('spans', 0)} spans and {len(tables) - 1} other tables to {args.to}")
    return 0


def prepare(args) -> None:
    """--dataset: point ``args.db`` at the dataset's database of views; --engine spark: fill its metrics (for
    ``weekly``: set ``args.before_week``, which fills them with each week's before it is audited)."""
    if bool(args.db) == bool(args.dataset):
        raise UsageError("give the audit database (--db FILE) or an exported dataset (--dataset DIR)")
    if args.engine == "spark" and not args.dataset:
        raise UsageError("--engine spark audits an exported dataset: give --dataset DIR (see `export`)")
    if args.dataset:
        from agentops_audit import db
        from agentops_audit.engine import export

        if not Path(args.dataset).is_dir():
            raise UsageError(f"dataset not found: {args.dataset}")
        out = Path(args.out if args.command == "audit" else args.out_root)
        out.mkdir(parents=True, exist_ok=True)
        args.db = str(export.attach(args.dataset, out / "dataset.duckdb"))
        written = str(export.read_manifest(args.dataset).get("schema_version"))
        if int(written) < int(db.AGENTS_INHERITED):
            print(
                f"note: {args.dataset} was written at schema version {written}: its spans inside an agent do not "
                "carry the agent's name, so per-agent tables show them as (unknown); export it again from an "
                "upgraded database (`agentops-audit upgrade`) to have them",
                file=sys.stderr,
            )
    if args.engine == "spark" and args.command == "weekly":
        args.before_week = _week_on_spark(args)
    elif args.engine == "spark":
        run_on_spark(args)


def _spark(args, audit: bool = True):
    """(the engine module, a Spark session, the audit config, the readiness manifest or None)."""
    from agentops_audit import config as audit_config
    from agentops_audit import manifest as readiness

    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError:
        raise UsageError(
            "--engine spark needs the `spark` extra: pip install 'agentops-audit[spark]' (and a Java 17+ runtime)"
        ) from None
    from agentops_audit.engine import spark as engine

    config = audit_config.load(args.config) if audit else None
    declared = readiness.load(args.manifest) if audit and args.manifest else None
    args.spark_master = args.spark_master or engine.DEFAULT_MASTER
    return engine, engine.session(args.spark_master, dict(args.spark_conf)), config, declared


def _store_metrics(engine, session, con) -> None:
    """Every metric run on ``session``, stored in ``con``'s ``engine_metrics`` schema (``metrics.run`` reads it)."""
    from agentops_audit import metrics

    con.execute("CREATE SCHEMA IF NOT EXISTS engine_metrics")
    for name in metrics.METRICS:
        result = engine.run_metric(session, name)
        con.register("_result", result)
        con.execute(f"CREATE OR REPLACE TABLE engine_metrics.{name} AS SELECT * FROM _result")
        con.unregister("_result")


def run_on_spark(args) -> None:
    """Every metric on Spark, stored in the dataset database's ``engine_metrics`` schema."""
    import duckdb

    from agentops_audit import metrics

    engine, session, config, declared = _spark(args)
    con = duckdb.connect(args.db)
    try:
        engine.register_dataset(session, args.dataset)
        engine.install(session, con, config, declared)
        _store_metrics(engine, session, con)
    finally:
        con.close()
    print(f"Engine:  spark ({args.spark_master}), {len(metrics.METRICS)} metrics", file=sys.stderr)


def _week_on_spark(args):
    """What ``weekly`` calls before it audits a week: every metric of that week run on Spark (the week's
    spans and registry: ``engine.restrict``), stored in ``engine_metrics`` for the local audit of the week."""
    import duckdb

    from agentops_audit.trends import windows

    engine, session, config, declared = _spark(args)

    def before_week(week) -> None:
        con = duckdb.connect(args.db)
        try:
            windows.restrict(con, week)  # the audit's input tables are built on the week, as on DuckDB
            engine.restrict(session, args.dataset, week)
            engine.install(session, con, config, declared)
            _store_metrics(engine, session, con)
        finally:
            con.close()
        print(f"{week}: metrics on spark ({args.spark_master})", file=sys.stderr)

    return before_week
