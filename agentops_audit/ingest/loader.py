"""Load one input file in one transaction: stage rows, filter, de-duplicate, quarantine, and write the ledger.

Every record an adapter yields is counted once: loaded, filtered out (``filters``), duplicate (same
trace_id and span_id as a span already stored or earlier in the file), or quarantined. A file whose
sha256 is already in the ledger with the same filters is skipped, so re-running the same input changes
nothing; the same file with other filters loads the spans it did not load before.

Rows reach the ``Stage`` two ways: an adapter's ``read`` yields Python dicts (moved in Arrow batches), or
an adapter's optional fast path ``load(con, path, stage, options)`` inserts them set-based (see
``otlp_sql``) and uses the same ``Stage`` for the records it leaves to Python. Without ingest filters the
rows go straight into ``spans`` (each row written once); with filters, or when the file repeats one of
its own spans, they wait in a staging table until the whole file is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from agentops_audit import __version__
from agentops_audit.db import scalar
from agentops_audit.ingest.canonical import Quarantined
from agentops_audit.ingest.filters import Filters
from agentops_audit.ingest.postload import settle
from agentops_audit.ingest.reader import read_bytes, sha256_file
from agentops_audit.ingest.stage import Restage, Stage, store_quarantine
from agentops_audit.ingest.summary import SourceSummary

MEMORY_LIMIT = "1GB"  # DuckDB's memory while a file loads: the staged rows spill to disk beyond it
SOURCE_COLUMNS = (
    "source_id, path, format, sha256, size_bytes, rows_read, rows_loaded, rows_duplicate, "
    "rows_quarantined, rows_filtered, filters, ingested_at, toolkit_version"
)

Reader = Callable[[Path, bytes, dict], Iterator[dict | Quarantined]]
FastPath = Callable[[duckdb.DuckDBPyConnection, Path, "Stage", dict], bool]


def already_ingested(con: duckdb.DuckDBPyConnection, sha256: str, filters_key: str = "") -> bool:
    """Whether this file (by content) was loaded before with the same filters."""
    return bool(scalar(con, "SELECT count(*) FROM sources WHERE sha256 = ? AND filters = ?", [sha256, filters_key]))


def write_source(
    con: duckdb.DuckDBPyConnection, source_id: int, path: Path, summary: SourceSummary, filters_key: str = ""
) -> None:
    """The file's ledger row (the CHECK constraint enforces read = loaded + duplicate + quarantined + filtered)."""
    con.execute(
        f"INSERT INTO sources ({SOURCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            source_id,
            str(path),
            summary.format,
            summary.sha256,
            path.stat().st_size,
            summary.rows_read,
            summary.rows_loaded,
            summary.rows_duplicate,
            summary.rows_quarantined,
            summary.rows_filtered,
            filters_key,
            datetime.now(UTC).replace(tzinfo=None),
            __version__,
        ],
    )


def load_records(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    read: Reader,
    commit_rows: Callable[[duckdb.DuckDBPyConnection, list[dict], int], int],
    options: dict | None = None,
    after: Callable[[duckdb.DuckDBPyConnection, int], int] | None = None,
) -> SourceSummary:
    """Load a file whose records go to a table other than ``spans`` (session registry, eval results) under
    the same rules as ``load_file``: one transaction, sha256 idempotence, quarantine, a ledger row.
    ``commit_rows(con, rows, source_id)`` inserts the new rows and returns how many it inserted."""
    summary = SourceSummary(path=str(path), format=fmt)
    try:
        summary.sha256 = sha256_file(path)
        if already_ingested(con, summary.sha256):
            summary.skipped = True
            return summary
        data = read_bytes(path)
    except Exception as exc:  # unreadable file: reported, the other files still load
        summary.error = str(exc)
        return summary
    con.execute("BEGIN TRANSACTION")
    try:
        source_id = scalar(con, "SELECT coalesce(max(source_id), 0) + 1 FROM sources")
        rows, quarantined = [], []
        for record in read(path, data, options or {}):
            summary.rows_read += 1
            if isinstance(record, Quarantined):
                quarantined.append((record.locator, record.reason, record.excerpt))
            else:
                rows.append(record)
        summary.rows_loaded = commit_rows(con, rows, source_id)
        if after is not None:  # what the records settle in the spans they name (OTLP logs: messages)
            summary.rows_derived = after(con, source_id)
        summary.rows_quarantined = len(quarantined)
        summary.rows_duplicate = summary.rows_read - summary.rows_loaded - summary.rows_quarantined
        summary.reasons = store_quarantine(con, source_id, quarantined) or None
        write_source(con, source_id, path, summary)
        con.execute("COMMIT")
    except Exception as exc:  # a broken file is rolled back whole and reported; the run goes on
        con.execute("ROLLBACK")
        return SourceSummary(path=str(path), format=fmt, sha256=summary.sha256, error=f"{type(exc).__name__}: {exc}")
    return summary


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    read: Reader,
    options: dict | None = None,
    fast: FastPath | None = None,
    filters: Filters | None = None,
    progress: Callable[[int], None] | None = None,
) -> SourceSummary:
    """Load one file in one transaction and write its ledger row. ``fast`` is the adapter's optional fast
    path (tried first); ``progress`` is called with the number of bytes of the file read so far. Without
    filters the rows go straight into ``spans``; the rare file that needs it is loaded again, staged
    (``Restage``)."""
    filters = filters or Filters()
    summary = SourceSummary(path=str(path), format=fmt)
    try:
        summary.sha256 = sha256_file(path)
        if already_ingested(con, summary.sha256, filters.key()):
            summary.skipped = True
            return summary
    except Exception as exc:  # unreadable file: reported, the other files still load
        summary.error = str(exc)
        return summary
    attempt = (con, path, fmt, read, options or {}, fast, filters, progress)
    if not filters:
        try:
            return _load(*attempt, direct=True, sha256=summary.sha256)
        except Restage:
            pass  # rolled back: load it again, staged
    return _load(*attempt, direct=False, sha256=summary.sha256)


def _load(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    read: Reader,
    options: dict,
    fast: FastPath | None,
    filters: Filters,
    progress: Callable[[int], None] | None,
    direct: bool,
    sha256: str,
) -> SourceSummary:
    """One attempt of ``load_file``: its transaction is rolled back on any error (Restage: raised again)."""
    summary = SourceSummary(path=str(path), format=fmt, sha256=sha256, staged=not direct)
    try:
        size = path.stat().st_size
        # The staging table is created before the transaction: DuckDB 2.0 reads a table created in the
        # same transaction back empty after a large append (seen at 1M spans, not at 100k).
        stage = Stage(con, 0, progress, direct)
    except Exception as exc:  # unreadable file: reported, the other files still load
        summary.error = str(exc)
        return summary
    restore = _memory_limit(con)
    con.execute("BEGIN TRANSACTION")
    try:
        stage.source_id = source_id = scalar(con, "SELECT coalesce(max(source_id), 0) + 1 FROM sources")
        if fast is None or not fast(con, path, stage, options):
            for record in read(path, read_bytes(path), options):
                if isinstance(record, Quarantined):
                    stage.quarantine(record)
                else:
                    stage.add(record)
        stage.advance(size)
        summary.rows_read = stage.rows_read
        summary.rows_loaded, summary.rows_filtered = stage.commit(filters)
        summary.rows_derived = settle(con, source_id)
        summary.rows_quarantined = len(stage.quarantined)
        summary.rows_duplicate = (
            summary.rows_read - summary.rows_loaded - summary.rows_quarantined - summary.rows_filtered
        )
        summary.reasons = stage.write_quarantine() or None
        write_source(con, source_id, path, summary, filters.key())
        con.execute("COMMIT")
    except Restage:
        con.execute("ROLLBACK")
        raise
    except Exception as exc:  # a broken file is rolled back whole and reported; the run goes on
        con.execute("ROLLBACK")
        return SourceSummary(
            path=str(path), format=fmt, sha256=sha256, staged=not direct, error=f"{type(exc).__name__}: {exc}"
        )
    finally:
        stage.drop()
        con.execute(restore)
    return summary


def _memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    """Set DuckDB's memory limit to MEMORY_LIMIT; return the statement that puts the previous one back."""
    before = scalar(con, "SELECT current_setting('memory_limit')")
    con.execute("RESET memory_limit")
    default = scalar(con, "SELECT current_setting('memory_limit')")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    return "RESET memory_limit" if before == default else f"SET memory_limit = '{before}'"
