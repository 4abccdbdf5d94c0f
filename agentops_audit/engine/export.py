"""The canonical Parquet dataset: what ``agentops-audit export`` writes from an audit database and what the
DuckDB and Spark engines audit directly.

Layout of ``DIR``::

    DIR/dataset.json                    schema version, and the rows of every table
    DIR/spans/day=YYYY-MM-DD/*.parquet  the spans, partitioned by the day of start_time (hive style)
    DIR/<table>.parquet                 every other table of the schema (evals, sources, quarantine, ...)

The partition column ``day`` is not a spans column: readers drop it. Files are written sorted, so exporting
the same database again writes the same rows in the same order (the folder is replaced).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from agentops_audit import db
from agentops_audit.paths import PACKAGE_DIR

MANIFEST = "dataset.json"
SPANS_ORDER = "trace_id, span_id, start_time"


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary ORDER BY table_name"
        ).fetchall()
    ]


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export(db_path: str | Path, to: str | Path) -> dict:
    """Write the dataset of ``db_path`` into ``to`` (replacing what an earlier export wrote there); returns
    the manifest: {schema_version, tables: {name: rows}}."""
    out = Path(to)
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise ValueError(f"--to {out} is a folder that holds something other than an exported dataset")
    out.mkdir(parents=True, exist_ok=True)
    con = db.connect(db_path, read_only=True)
    try:
        tables = write_tables(con, out)
    finally:
        con.close()
    return write_manifest(out, tables)


def write_tables(con: duckdb.DuckDBPyConnection, out: Path, skip: tuple[str, ...] = ()) -> dict[str, int]:
    """Every table of ``con`` but ``skip`` written into the dataset folder ``out``; returns their row counts."""
    tables: dict[str, int] = {}
    for table in _tables(con):
        if table in skip:
            continue
        rows = db.scalar(con, f"SELECT count(*) FROM {table}")
        if table == "spans":
            con.execute(
                f"COPY (SELECT *, CAST(start_time AS DATE) AS day FROM spans ORDER BY {SPANS_ORDER}) "
                f"TO {_q(out / 'spans')} (FORMAT parquet, PARTITION_BY (day), OVERWRITE)"
            )
        else:
            con.execute(
                f"COPY (SELECT * FROM {table} ORDER BY ALL) TO {_q(out / (table + '.parquet'))} (FORMAT parquet)"
            )
        tables[table] = rows
    return tables


def write_manifest(out: Path, tables: dict[str, int]) -> dict:
    """``dataset.json``: the schema version and the rows of every table."""
    manifest = {"schema_version": db.SCHEMA_VERSION, "tables": tables}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(dataset: str | Path) -> dict:
    path = Path(dataset) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(
            f"not an exported dataset (no {MANIFEST}): {dataset} "
            "(write one with `agentops-audit export --db FILE --to DIR`)"
        )
    manifest = json.loads(path.read_text())
    if manifest.get("schema_version") not in db.SAME_TABLES:
        raise db.SchemaMismatch(
            f"{dataset} was exported with schema version {manifest.get('schema_version')}; "
            f"this toolkit reads {db.SCHEMA_VERSION} (export it again)"
        )
    return manifest


def source_sql(dataset: str | Path, table: str) -> str:
    """A DuckDB SELECT over the Parquet files of ``table`` in ``dataset``, with the table's own columns."""
    root = Path(dataset).resolve()
    if table == "spans":
        return (
            f"SELECT * EXCLUDE (day) FROM read_parquet({_q(root / 'spans' / '**' / '*.parquet')}, "
            "hive_partitioning = true)"
        )
    return f"SELECT * FROM read_parquet({_q(root / (table + '.parquet'))})"


def attach(dataset: str | Path, db_path: str | Path) -> Path:
    """Write ``db_path``: a small DuckDB database whose tables are views over the Parquet files of ``dataset``
    (no rows are copied but ``meta``), with the schema's views on top, so the audit reads the dataset
    directly through the usual ``db.connect``."""
    manifest = read_manifest(dataset)
    path = Path(db_path)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        for table in manifest["tables"]:
            if table == "meta":
                con.execute(f"CREATE TABLE meta AS {source_sql(dataset, 'meta')}")
            else:
                con.execute(f"CREATE VIEW {table} AS {source_sql(dataset, table)}")
        con.execute((PACKAGE_DIR / "schema.sql").read_text())  # tables it lacks, and the views
        # the views are this version's, over tables of the same columns (db.SAME_TABLES)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [db.SCHEMA_VERSION])
    finally:
        con.close()
    return path
