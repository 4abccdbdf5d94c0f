"""Open or create an audit database and apply the canonical schema."""

from pathlib import Path

import duckdb
import polars as pl

from agentops_audit.paths import PACKAGE_DIR

SCHEMA_VERSION = "3"  # 3: spans.llm_purpose


class SchemaMismatch(RuntimeError):
    """The database was written by an incompatible schema version."""


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``path``; a writable open creates the file and applies the schema if needed."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"audit database not found: {path}")
        con = duckdb.connect(str(path), read_only=True)
        _check_version(con, path)
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    _check_version(con, path)
    con.execute((PACKAGE_DIR / "schema.sql").read_text())
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    return con


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    if not scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"):
        return
    found = scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    if found is not None and found != SCHEMA_VERSION:
        raise SchemaMismatch(
            f"{path} has schema version {found}, this toolkit writes version {SCHEMA_VERSION}; "
            "re-ingest the exports into a new database"
        )


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The first column of the first row, or None. Consumes the whole result (duckdb 2 keeps a
    partly fetched result open and refuses other work on the connection until it is consumed)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """A query's whole result as a polars frame."""
    return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())
