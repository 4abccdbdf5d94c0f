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
import pyarrow as pa

from agentops_audit import __version__
from agentops_audit.db import scalar
from agentops_audit.ingest.canonical import ARROW_SCHEMA, COLUMNS, Quarantined
from agentops_audit.ingest.filters import Filters
from agentops_audit.ingest.postload import settle
from agentops_audit.ingest.reader import read_bytes, sha256_file
from agentops_audit.ingest.summary import SourceSummary
from agentops_audit.pii import install as install_pii
from agentops_audit.pii import mask_sql, valid_utf8

FLUSH_ROWS = 50_000
EXCERPT_CHARS = 200
MEMORY_LIMIT = "1GB"  # DuckDB's memory while a file loads: the staged rows spill to disk beyond it
SOURCE_COLUMNS = ("source_id, path, format, sha256, size_bytes, rows_read, rows_loaded, rows_duplicate, "
                  "rows_quarantined, rows_filtered, filters, ingested_at, toolkit_version")

Reader = Callable[[Path, bytes, dict], Iterator[dict | Quarantined]]
FastPath = Callable[[duckdb.DuckDBPyConnection, Path, "Stage", dict], bool]


class Restage(Exception):
    """The direct load met a case only the staged load handles (a span the file repeats with different
    content, or a line DuckDB read that orjson rejects): the file is loaded again, staged."""


class Stage:
    """The file's records on their way in; quarantine records wait in memory.

    Staged (``direct=False``, and always with ingest filters): canonical rows wait in the temporary table
    ``_stage`` with their place in the file (``_line``, ``_idx``) until ``commit`` filters them and keeps
    the first occurrence of each span. Direct: rows go straight into ``spans`` (saving a copy of every
    row); marker rows a fast path leaves for Python carry an empty trace id until ``take_markers`` removes
    them, and ``commit`` keeps one of identical copies of a span the file repeats and deletes the spans an
    earlier file already stored. Copies that differ raise ``Restage``: which one comes first in the file
    is only known to the staged load."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source_id: int,
                 progress: Callable[[int], None] | None = None, direct: bool = False):
        self.con, self.source_id, self.progress, self.direct = con, source_id, progress, direct
        self.rows: list[dict] = []
        self.order: list[tuple[int, int]] = []
        self.staged, self.seq = 0, 0
        self.quarantined: list[tuple[int, int, str, str, str]] = []
        if not direct:
            con.execute("CREATE OR REPLACE TEMP TABLE _stage AS SELECT *, 0::BIGINT AS _line, 0::BIGINT AS _idx, "
                        "''::VARCHAR AS _reason FROM spans LIMIT 0")

    @property
    def rows_read(self) -> int:
        return self.staged + len(self.rows) + len(self.quarantined)

    def _next(self, line: int | None, idx: int) -> tuple[int, int]:
        self.seq += 1
        return (self.seq, 0) if line is None else (line, idx)

    def add(self, row: dict, line: int | None = None, idx: int = 0) -> None:
        """A canonical row; ``line`` and ``idx`` give its place in the file (default: the order of calls)."""
        self.rows.append(row)
        self.order.append(self._next(line, idx))
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()

    def quarantine(self, record: Quarantined, line: int | None = None, idx: int = -1) -> None:
        line, idx = self._next(line, idx)
        self.quarantined.append((line, idx, record.locator, record.reason, record.excerpt or None))

    def counted(self, n: int) -> None:
        """``n`` rows were inserted by set-based SQL."""
        self.staged += n

    def take_markers(self) -> list[tuple[int, int, str]]:
        """Remove the marker rows set-based SQL inserted (a fast path's records for Python); return their
        (line, idx, reason) in file order."""
        if self.direct:  # trace_id '' (never a valid id), span_id 'line:idx', name the reason
            where = f"source_id = {self.source_id} AND trace_id = ''"
            found = self.con.execute(f"SELECT span_id, name FROM spans WHERE {where}").fetchall()
            markers = [(*map(int, key.split(":")), reason) for key, reason in found]
            if markers:
                self.con.execute(f"DELETE FROM spans WHERE {where}")
            return sorted(markers)
        markers = self.con.execute("SELECT _line, _idx, _reason FROM _stage WHERE _reason IS NOT NULL "
                                   "ORDER BY _line, _idx").fetchall()
        if markers:
            self.con.execute("DELETE FROM _stage WHERE _reason IS NOT NULL")
        return [(int(line), int(idx), reason) for line, idx, reason in markers]

    def drop_line(self, line: int) -> None:
        """Remove the rows SQL staged from one line (the line turned out to be invalid)."""
        if self.direct:
            raise Restage(f"line {line} is valid to DuckDB only")
        self.staged -= scalar(self.con, "DELETE FROM _stage WHERE _line = ?", [line])

    def advance(self, position: int) -> None:
        """Progress: ``position`` bytes of the file (as stored) have been read."""
        if self.progress:
            self.progress(position)

    def flush(self) -> None:
        if not self.rows:
            return
        columns = {c: [r.get(c) for r in self.rows] for c in COLUMNS}
        batch = pa.Table.from_pydict(columns, schema=ARROW_SCHEMA)
        if not self.direct:
            batch = batch.append_column("_line", pa.array([o[0] for o in self.order], pa.int64()))
            batch = batch.append_column("_idx", pa.array([o[1] for o in self.order], pa.int64()))
        self.con.register("_batch", batch)
        try:
            self.con.execute(f"INSERT INTO {'spans' if self.direct else '_stage'} BY NAME "
                             f"SELECT *, {self.source_id} AS source_id FROM _batch")
        finally:
            self.con.unregister("_batch")
        self.staged += len(self.rows)
        self.rows, self.order = [], []

    def commit(self, filters: Filters) -> tuple[int, int]:
        """Insert the staged spans that pass ``filters`` and are not already stored (the first
        occurrence in the file wins); return (inserted, filtered out)."""
        self.flush()
        if self.direct:
            return self._commit_direct(filters), 0
        kept, params = "_stage", []
        filtered = 0
        if filters:  # (no temporary table here: see the note in load_file)
            sql, params = filters.kept_sql()
            filtered = self.staged - scalar(self.con, f"SELECT count(*) FROM ({sql})", params)
            kept = f"(SELECT _stage.* FROM _stage SEMI JOIN ({sql}) k USING (_line, _idx))"
            params = params * 2
        # the first occurrence of each (trace_id, span_id), found on the narrow key columns only
        inserted = scalar(self.con, f"""
            INSERT INTO spans BY NAME
            WITH firsts AS (
                SELECT min(_line * 4294967296 + _idx) AS _ord FROM {kept} GROUP BY trace_id, span_id
            )
            SELECT s.* EXCLUDE (_line, _idx, _reason) FROM {kept} s
            SEMI JOIN firsts f ON f._ord = s._line * 4294967296 + s._idx
            WHERE NOT EXISTS (SELECT 1 FROM spans t WHERE t.trace_id = s.trace_id AND t.span_id = s.span_id)
        """, params)
        return inserted, filtered

    def _commit_direct(self, filters: Filters) -> int:
        if filters:
            raise ValueError("ingest filters need the staged load")
        mine = f"source_id = {self.source_id}"
        repeated = f"FROM spans s WHERE s.{mine} GROUP BY trace_id, span_id HAVING count(*) > 1"
        again = 0
        if scalar(self.con, f"SELECT count(*) FROM (SELECT 1 {repeated})"):
            # a span the file repeats: identical copies (an exporter's retry) keep one, whichever it is;
            # copies that differ need the file order, which only the staged load keeps
            differ = scalar(self.con, f"SELECT count(*) FROM (SELECT 1 {repeated} AND count(DISTINCT s) > 1)")
            if differ:
                raise Restage(f"{differ} spans occur more than once in the file, with different content")
            again = scalar(self.con, f"""
                DELETE FROM spans WHERE rowid IN (
                    SELECT rowid FROM (
                        SELECT rowid, row_number() OVER (PARTITION BY trace_id, span_id ORDER BY rowid) AS copy
                        FROM spans WHERE {mine} AND (trace_id, span_id) IN (SELECT trace_id, span_id {repeated})
                    ) WHERE copy > 1)""")
        earlier = scalar(self.con, f"""
            DELETE FROM spans s WHERE s.{mine} AND EXISTS (
                SELECT 1 FROM spans t WHERE t.trace_id = s.trace_id AND t.span_id = s.span_id
                                        AND t.source_id IS DISTINCT FROM {self.source_id})""")
        return self.staged - again - (earlier or 0)

    def write_quarantine(self) -> dict:
        """Store the quarantine records in file order; return the count per reason."""
        self.quarantined.sort(key=lambda q: (q[0], q[1]))
        return store_quarantine(self.con, self.source_id, [(q[2], q[3], q[4]) for q in self.quarantined])

    def drop(self) -> None:
        if not self.direct:
            self.con.execute("DROP TABLE IF EXISTS _stage")


def already_ingested(con: duckdb.DuckDBPyConnection, sha256: str, filters_key: str = "") -> bool:
    """Whether this file (by content) was loaded before with the same filters."""
    return bool(scalar(con, "SELECT count(*) FROM sources WHERE sha256 = ? AND filters = ?", [sha256, filters_key]))


def store_quarantine(con: duckdb.DuckDBPyConnection, source_id: int,
                     records: list[tuple[str, str, str | None]]) -> dict[str, int]:
    """Store (locator, reason, raw excerpt) records, the excerpts masked and truncated in one set-based
    statement; return the count per reason."""
    if not records:
        return {}
    table = pa.table({
        "locator": [r[0] for r in records],
        "reason": [r[1] for r in records],
        "excerpt": [None if r[2] is None else valid_utf8(r[2]) for r in records],
    })
    install_pii(con)  # the phone UDF that mask_sql calls
    con.register("_quarantined", table)
    try:
        con.execute(
            f"INSERT INTO quarantine SELECT {source_id}, locator, reason, "
            f"{mask_sql(f'substring(excerpt, 1, {EXCERPT_CHARS})')} FROM _quarantined")
    finally:
        con.unregister("_quarantined")
    reasons: dict[str, int] = {}
    for r in records:
        reasons[r[1]] = reasons.get(r[1], 0) + 1
    return reasons


def write_source(con: duckdb.DuckDBPyConnection, source_id: int, path: Path, summary: SourceSummary,
                 filters_key: str = "") -> None:
    """The file's ledger row (the CHECK constraint enforces read = loaded + duplicate + quarantined + filtered)."""
    con.execute(
        f"INSERT INTO sources ({SOURCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source_id, str(path), summary.format, summary.sha256, path.stat().st_size, summary.rows_read,
         summary.rows_loaded, summary.rows_duplicate, summary.rows_quarantined, summary.rows_filtered,
         filters_key, datetime.now(UTC).replace(tzinfo=None), __version__],
    )


def load_records(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, read: Reader,
                 commit_rows: Callable[[duckdb.DuckDBPyConnection, list[dict], int], int],
                 options: dict | None = None,
                 after: Callable[[duckdb.DuckDBPyConnection, int], int] | None = None) -> SourceSummary:
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


def load_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, read: Reader, options: dict | None = None,
              fast: FastPath | None = None, filters: Filters | None = None,
              progress: Callable[[int], None] | None = None) -> SourceSummary:
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


def _load(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, read: Reader, options: dict, fast: FastPath | None,
          filters: Filters, progress: Callable[[int], None] | None, direct: bool, sha256: str) -> SourceSummary:
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
        summary.rows_duplicate = (summary.rows_read - summary.rows_loaded - summary.rows_quarantined
                                  - summary.rows_filtered)
        summary.reasons = stage.write_quarantine() or None
        write_source(con, source_id, path, summary, filters.key())
        con.execute("COMMIT")
    except Restage:
        con.execute("ROLLBACK")
        raise
    except Exception as exc:  # a broken file is rolled back whole and reported; the run goes on
        con.execute("ROLLBACK")
        return SourceSummary(path=str(path), format=fmt, sha256=sha256, staged=not direct,
                             error=f"{type(exc).__name__}: {exc}")
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
