"""``agentops-audit export`` and the engine options of ``audit`` (``--dataset``, ``--engine spark``).

``audit --dataset DIR`` audits an exported Parquet dataset (``engine/export.py``) with DuckDB, reading the
files in place through a small database of views (``OUT/dataset.duckdb``). ``--engine spark`` (which needs
``--dataset``) runs the derived views and every metric on Spark (``engine/spark.py``) and stores the metric
results in that database (schema ``engine_metrics``), where ``metrics.run`` reads them; Great Expectations,
the verdict, the PII scan (Python regular expressions, not Java's), the example traces and the report then
run locally on DuckDB over the same dataset.
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

    p = sub.choices["audit"]
    for action in p._actions:  # --db or --dataset
        if action.dest == "db":
            action.required = False
            action.help = "audit database (or --dataset)"
    p.add_argument("--dataset", metavar="DIR", help="audit an exported Parquet dataset (`export`) instead of --db")
    p.add_argument("--engine", choices=ENGINES, default="duckdb",
                   help="where the views and metrics run: duckdb (default) or spark (with --dataset; extra `spark`)")
    p.add_argument("--spark-master", default=None, help="Spark master URL (default local[2])")
    p.add_argument("--spark-conf", action="append", type=_conf, default=[], metavar="KEY=VALUE",
                   help="a Spark configuration setting (repeatable)")
    p.set_defaults(func=_with_engine(p.get_default("func")))


def _with_engine(audit):
    """``audit`` (the command's own function) after the engine options are applied."""
    def cmd_audit(args) -> int:
        prepare(args)
        return audit(args)
    return cmd_audit


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
    """--dataset: point ``args.db`` at the dataset's database of views; --engine spark: fill its metrics."""
    if bool(args.db) == bool(args.dataset):
        raise UsageError("give the audit database (--db FILE) or an exported dataset (--dataset DIR)")
    if args.engine == "spark" and not args.dataset:
        raise UsageError("--engine spark audits an exported dataset: give --dataset DIR (see `export`)")
    if args.dataset:
        from agentops_audit.engine import export

        if not Path(args.dataset).is_dir():
            raise UsageError(f"dataset not found: {args.dataset}")
        Path(args.out).mkdir(parents=True, exist_ok=True)
        args.db = str(export.attach(args.dataset, Path(args.out) / "dataset.duckdb"))
    if args.engine == "spark":
        run_on_spark(args)


def run_on_spark(args) -> None:
    """Every metric on Spark, stored in the dataset database's ``engine_metrics`` schema."""
    from agentops_audit import config as audit_config
    from agentops_audit import manifest as readiness

    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError:
        raise UsageError("--engine spark needs the `spark` extra: pip install 'agentops-audit[spark]' "
                             "(and a Java 17+ runtime)") from None
    import duckdb

    from agentops_audit import metrics
    from agentops_audit.engine import spark as engine

    config = audit_config.load(args.config)
    declared = readiness.load(args.manifest) if args.manifest else None
    master = args.spark_master or engine.DEFAULT_MASTER
    session = engine.session(master, dict(args.spark_conf))
    con = duckdb.connect(args.db)
    try:
        engine.register_dataset(session, args.dataset)
        engine.install(session, con, config, declared)
        con.execute("CREATE SCHEMA IF NOT EXISTS engine_metrics")
        for name in metrics.METRICS:
            result = engine.run_metric(session, name)
            con.register("_result", result)
            con.execute(f"CREATE OR REPLACE TABLE engine_metrics.{name} AS SELECT * FROM _result")
            con.unregister("_result")
    finally:
        con.close()
    print(f"Engine:  spark ({master}), {len(metrics.METRICS)} metrics", file=sys.stderr)
