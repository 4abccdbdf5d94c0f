"""The audit's views and metrics on Apache Spark, over the canonical Parquet dataset (``engine/export.py``).

The SQL is the DuckDB SQL of ``schema.sql``, ``metrics/views`` and ``metrics/*.sql``, transpiled
(``engine/transpile.py``). The audit's small input tables (prices, budgets, allow-list, tool classes) are
built by the same code as on DuckDB, on a local DuckDB connection over the dataset, and shipped to Spark
with Arrow; the derived views run on Spark in the order their headers give (``metrics/sqlfiles.py``), each
cached; every metric result comes back as an Arrow table (``toArrow``), small by design (per tool, per day,
per workflow ...). Great Expectations, the verdict and the report stay local (see ``engine/commands.py``).

A view that shadows the relation it reads (the TEMP ``sessions`` over the schema's ``sessions``, the
classified ``tool_calls`` over the schema's) reads the shadowed one under the name ``<name>__base``.

``restrict`` is ``windows.restrict`` on Spark (``weekly --engine spark``): the same SQL of ``windows``
replaces ``spans`` and ``session_registry`` with the week's rows before ``install``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb
import pyarrow as pa

from agentops_audit import metrics
from agentops_audit.engine import export
from agentops_audit.engine.transpile import to_spark
from agentops_audit.metrics import params, sqlfiles, tool_classes
from agentops_audit.paths import PACKAGE_DIR
from agentops_audit.trends import windows

DEFAULT_MASTER = "local[2]"
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",  # DuckDB's TIMESTAMP has no zone; the rules read it as UTC
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.ansi.enabled": "false",  # DuckDB's casts: try_cast does the checking where the SQL wants it
    "spark.driver.memory": "2g",
}


def session(master: str = DEFAULT_MASTER, conf: dict[str, str] | None = None):
    """A SparkSession (created, or the running one) with ``DEFAULT_CONF`` under ``conf``."""
    from pyspark.sql import SparkSession

    if master.startswith("sc://"):  # Spark Connect (pyspark-client): the server owns the session's settings
        builder = SparkSession.builder.remote(master)
        for key, value in (conf or {}).items():
            builder = builder.config(key, value)
        return builder.getOrCreate()
    builder = SparkSession.builder.master(master).appName("agentops-audit")
    local = (
        {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
        if master.startswith("local")
        else {}
    )  # a local session listens on the loopback interface only
    if master.startswith("local"):  # its Python workers (ingest) run this Python, which has the package
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in {**DEFAULT_CONF, **local, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _view(spark, name: str, df) -> None:
    df.createOrReplaceTempView(name)


def register_dataset(spark, dataset: str | Path) -> dict:
    """The dataset's tables as Spark temp views (``spans`` without its partition column)."""
    manifest = export.read_manifest(dataset)
    root = Path(dataset).resolve()
    for table in manifest["tables"]:
        if table == "spans":
            df = spark.read.option("basePath", str(root / "spans")).parquet(str(root / "spans"))
            df = df.drop("day")
        else:
            df = spark.read.parquet(str(root / f"{table}.parquet"))
        _view(spark, table, df)
    return manifest


def schema_views() -> list[tuple[str, str]]:
    """(name, SELECT) of every view of ``schema.sql``, in file order (each reads only earlier ones)."""
    import sqlglot
    from sqlglot import exp

    out = []
    for statement in sqlglot.parse((PACKAGE_DIR / "schema.sql").read_text(), read="duckdb"):
        if isinstance(statement, exp.Create) and statement.kind == "VIEW":
            out.append((statement.this.name, statement.expression.sql("duckdb")))
    return out


def from_arrow(spark, table: pa.Table):
    """A Spark DataFrame of an Arrow table (an empty one keeps its schema)."""
    if table.num_rows:
        return spark.createDataFrame(table)
    from pyspark.sql.pandas.types import from_arrow_schema

    return spark.createDataFrame([], from_arrow_schema(table.schema))


def _columns(spark, names) -> dict[str, list[str]]:
    return {n: spark.table(n).columns for n in names if spark.catalog.tableExists(n)}


def _shadow(spark, name: str) -> str:
    base = f"{name}__base"
    _view(spark, base, spark.table(name))
    return base


def install(spark, local: duckdb.DuckDBPyConnection, config: dict, declared=None) -> None:
    """The schema views, the audit's inputs (built on ``local``, a DuckDB connection over the same dataset)
    and the derived views, on ``spark``."""
    for name, select in schema_views():
        _view(spark, name, spark.sql(to_spark(select)))
    predicate = params.install_inputs(local, config, declared)
    for table in params.INPUT_TABLES:
        _view(spark, table, from_arrow(spark, local.sql(f"SELECT * FROM {table}").to_arrow_table()))
    base = _shadow(spark, "tool_calls")
    select = to_spark(tool_classes.shadow_sql(base), columns=_columns(spark, [base]))
    _view(spark, "tool_calls", spark.sql(select))
    for view in sqlfiles.views():
        run_view(spark, view, predicate)


def _bound(sql: str, week: windows.Week) -> str:
    """``sql`` (DuckDB) with its ``>= ?`` and ``< ?`` parameters bound to the start and end of ``week``."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    for marker in list(tree.find_all(exp.Placeholder)):
        at = {exp.GTE: week.start, exp.LT: week.end}[type(marker.parent)]
        marker.replace(exp.cast(exp.Literal.string(at.isoformat(sep=" ")), "timestamp"))
    return tree.sql("duckdb")


def restrict(spark, dataset: str | Path, week: windows.Week) -> None:
    """The dataset's tables on ``spark`` with ``spans`` and ``session_registry`` holding ``week``'s rows only
    (``windows.restrict``'s SQL); ``install`` then builds the week's views. Drops what an earlier week cached."""
    spark.catalog.clearCache()
    register_dataset(spark, dataset)
    for name, select in schema_views():
        _view(spark, name, spark.sql(to_spark(select)))
    tables = {
        "main.span_sessions": _shadow(spark, "span_sessions"),
        "main.session_registry": _shadow(spark, "session_registry"),
    }
    _view(spark, "spans", spark.sql(to_spark(_bound(windows.week_spans_sql("main"), week), tables=tables)).cache())
    for name, select in schema_views():  # span_sessions of the week's spans, which the registry's SQL reads
        _view(spark, name, spark.sql(to_spark(select)))
    _view(
        spark, "session_registry", spark.sql(to_spark(_bound(windows.week_registry_sql("main"), week), tables=tables))
    )


def run_view(spark, view: sqlfiles.ViewFile, predicate: str) -> None:
    import sqlglot

    tree = sqlglot.parse_one(view.sql.replace("{success_predicate}", predicate), read="duckdb")
    name = tree.this.name
    tables = {}
    if name in view.reads:  # shadows what it reads
        base = _shadow(spark, name)
        tables = {f"main.{name}": base, name: base}
    select = to_spark(
        tree.expression.sql("duckdb"), columns=_columns(spark, [*view.reads, *tables.values()]), tables=tables
    )
    _view(spark, name, spark.sql(select).cache())


def local_types(table: pa.Table) -> pa.Table:
    """Spark's zoned timestamps (UTC, the session zone) as DuckDB's zoneless TIMESTAMP."""
    fields = [
        pa.field(f.name, pa.timestamp("us")) if pa.types.is_timestamp(f.type) and f.type.tz else f for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def run_metric(spark, name: str) -> pa.Table:
    """Metric ``name`` run on Spark, collected as Arrow."""
    return local_types(spark.sql(to_spark(metrics.METRICS[name].sql)).toArrow())


def run_sql(spark, sql: str, args: dict | None = None) -> pa.Table:
    """Any DuckDB SELECT of the project (an evidence query...) run on Spark, collected as Arrow; ``args``
    bind its ``$name`` parameters (as Spark's named parameter markers)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    for param in list(tree.find_all(exp.Parameter)):
        param.replace(exp.Placeholder(this=param.name))
    return local_types(spark.sql(to_spark(tree.sql("duckdb")), args=args or None).toArrow())
