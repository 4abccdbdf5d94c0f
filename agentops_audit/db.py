"""Open or create an audit database and apply the canonical schema."""

from pathlib import Path

import duckdb
import polars as pl

from agentops_audit.paths import PACKAGE_DIR, SPAN_AGENTS_SQL

SCHEMA_VERSION = "7"  # 3: spans.llm_purpose; 4: spans.derived_from; 5: log_events; 6: the sessions view
# adds money exactly (schema.sql); 7: a span that names no agent has its enclosing agent's (ingest/tree.py)

# In-place upgrades, keyed by the version they start from; each brings a database one version up. The
# weekly database keeps weeks of spans whose exports may be gone, so an upgrade must not ask for a re-ingest.
UPGRADES: dict[str, list[str]] = {
    "2": [
        "ALTER TABLE spans ADD COLUMN llm_purpose VARCHAR",
        """UPDATE spans SET llm_purpose = json_extract_string(attributes, '$."agentops.llm.purpose"')
             WHERE contains(attributes::VARCHAR, '"agentops.llm.purpose"')""",
    ],
    "3": ["ALTER TABLE spans ADD COLUMN derived_from VARCHAR"],  # message tool calls: derived by the next ingest
    "4": [],  # log_events, pulls, pull_pages are new tables: schema.sql creates them
    "5": [],  # views only (the sessions view's cost, in picodollars): schema.sql replaces them
    # the agent a span runs for, over every trace (an ingest does it for the traces a file touches)
    "6": [SPAN_AGENTS_SQL.read_text().format(touched="true")],
}
# the versions whose tables are this version's: an exported dataset, which holds tables alone, of any of them
# is read as it is (one of 5 or 6 lacks the agent names 7 gives spans inside an agent: the audit says so,
# engine/commands.py; `ingest --engine spark` writes datasets that no database stands behind)
SAME_TABLES = {"5", "6", SCHEMA_VERSION}
AGENTS_INHERITED = "7"  # the first version whose spans carry their enclosing agent's name


class SchemaMismatch(RuntimeError):
    """The database was written by an incompatible schema version."""


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``path``; a writable open creates the file and applies the schema if needed, upgrading an
    older database in place first (``UPGRADES``)."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"audit database not found: {path}")
        con = duckdb.connect(str(path), read_only=True)
        try:
            _check_version(con, path, read_only=True)
        except SchemaMismatch:
            con.close()
            raise
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        _upgrade(con, path)
    except SchemaMismatch:
        con.close()
        raise
    con.execute((PACKAGE_DIR / "schema.sql").read_text())
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    return con


def schema_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The schema version a database records (None for a new, empty file)."""
    if not scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"):
        return None
    return scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'")


def _check_version(con: duckdb.DuckDBPyConnection, path: Path, read_only: bool = False) -> None:
    found = schema_version(con)
    if found is None or found == SCHEMA_VERSION:
        return
    if read_only and found in UPGRADES:
        raise SchemaMismatch(
            f"{path} has schema version {found}, this toolkit reads version {SCHEMA_VERSION}; upgrade it in "
            f"place with `agentops-audit upgrade --db {path}` (nothing is re-ingested)"
        )
    raise SchemaMismatch(
        f"{path} has schema version {found}, this toolkit writes version {SCHEMA_VERSION}; "
        "re-ingest the exports into a new database"
    )


def _upgrade(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """Bring the database to SCHEMA_VERSION in one transaction; return the version it had when it was
    older (None otherwise). A version with no upgrade path raises SchemaMismatch."""
    found = schema_version(con)
    if found is None or found == SCHEMA_VERSION:
        return None
    if found not in UPGRADES:
        _check_version(con, path)
    con.execute("BEGIN TRANSACTION")
    try:
        version = found
        while version != SCHEMA_VERSION:
            for statement in UPGRADES[version]:
                con.execute(statement)
            version = str(int(version) + 1)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [SCHEMA_VERSION])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return found


def upgrade(path: str | Path) -> str | None:
    """Upgrade the database at ``path`` in place (``agentops-audit upgrade``); return the version it had,
    or None when it was already current."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"audit database not found: {path}")
    con = duckdb.connect(str(path))
    try:
        found = _upgrade(con, path)
    finally:
        con.close()
    connect(path).close()  # the schema's views and tables of this version
    return found


def main_catalog(con: duckdb.DuckDBPyConnection) -> str:
    """The database's own catalog, quoted, for reading a persistent view that a TEMP object of the same
    name shadows (an unqualified name, and even ``main.spans``, resolves to the TEMP one first)."""
    name = scalar(con, "SELECT current_database()")
    return '"' + name.replace('"', '""') + '".main'


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The first column of the first row, or None. Consumes the whole result (duckdb 2 keeps a
    partly fetched result open and refuses other work on the connection until it is consumed)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """A query's whole result as a polars frame."""
    return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())
