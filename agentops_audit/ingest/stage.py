"""The file's records on their way into ``spans`` (``Stage``) and the quarantine records stored with the
ledger (``store_quarantine``): the two ends of one file's load, which ``loader.load_file`` runs in one
transaction. See ``loader`` for when rows are staged and when they go straight into ``spans``."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from agentops_audit.db import scalar
from agentops_audit.ingest.canonical import ARROW_SCHEMA, COLUMNS, Quarantined
from agentops_audit.ingest.filters import Filters
from agentops_audit.pii import install as install_pii
from agentops_audit.pii import mask_sql, valid_utf8

FLUSH_ROWS = 50_000
EXCERPT_CHARS = 200


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

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source_id: int,
        progress: Callable[[int], None] | None = None,
        direct: bool = False,
    ):
        self.con, self.source_id, self.progress, self.direct = con, source_id, progress, direct
        self.rows: list[dict] = []
        self.order: list[tuple[int, int]] = []
        self.staged, self.seq = 0, 0
        self.quarantined: list[tuple[int, int, str, str, str]] = []
        if not direct:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _stage AS SELECT *, 0::BIGINT AS _line, 0::BIGINT AS _idx, "
                "''::VARCHAR AS _reason FROM spans LIMIT 0"
            )

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
        markers = self.con.execute(
            "SELECT _line, _idx, _reason FROM _stage WHERE _reason IS NOT NULL ORDER BY _line, _idx"
        ).fetchall()
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
            self.con.execute(
                f"INSERT INTO {'spans' if self.direct else '_stage'} BY NAME "
                f"SELECT *, {self.source_id} AS source_id FROM _batch"
            )
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
        inserted = scalar(
            self.con,
            f"""
            INSERT INTO spans BY NAME
            WITH firsts AS (
                SELECT min(_line * 4294967296 + _idx) AS _ord FROM {kept} GROUP BY trace_id, span_id
            )
            SELECT s.* EXCLUDE (_line, _idx, _reason) FROM {kept} s
            SEMI JOIN firsts f ON f._ord = s._line * 4294967296 + s._idx
            WHERE NOT EXISTS (SELECT 1 FROM spans t WHERE t.trace_id = s.trace_id AND t.span_id = s.span_id)
        """,
            params,
        )
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
            again = scalar(
                self.con,
                f"""
                DELETE FROM spans WHERE rowid IN (
                    SELECT rowid FROM (
                        SELECT rowid, row_number() OVER (PARTITION BY trace_id, span_id ORDER BY rowid) AS copy
                        FROM spans WHERE {mine} AND (trace_id, span_id) IN (SELECT trace_id, span_id {repeated})
                    ) WHERE copy > 1)""",
            )
        earlier = scalar(
            self.con,
            f"""
            DELETE FROM spans s WHERE s.{mine} AND EXISTS (
                SELECT 1 FROM spans t WHERE t.trace_id = s.trace_id AND t.span_id = s.span_id
                                        AND t.source_id IS DISTINCT FROM {self.source_id})""",
        )
        return self.staged - again - (earlier or 0)

    def write_quarantine(self) -> dict:
        """Store the quarantine records in file order; return the count per reason."""
        self.quarantined.sort(key=lambda q: (q[0], q[1]))
        return store_quarantine(self.con, self.source_id, [(q[2], q[3], q[4]) for q in self.quarantined])

    def drop(self) -> None:
        if not self.direct:
            self.con.execute("DROP TABLE IF EXISTS _stage")


def store_quarantine(
    con: duckdb.DuckDBPyConnection, source_id: int, records: list[tuple[str, str, str | None]]
) -> dict[str, int]:
    """Store (locator, reason, raw excerpt) records, the excerpts masked and truncated in one set-based
    statement; return the count per reason."""
    if not records:
        return {}
    table = pa.table(
        {
            "locator": [r[0] for r in records],
            "reason": [r[1] for r in records],
            "excerpt": [None if r[2] is None else valid_utf8(r[2]) for r in records],
        }
    )
    install_pii(con)  # the phone UDF that mask_sql calls
    con.register("_quarantined", table)
    try:
        con.execute(
            f"INSERT INTO quarantine SELECT {source_id}, locator, reason, "
            f"{mask_sql(f'substring(excerpt, 1, {EXCERPT_CHARS})')} FROM _quarantined"
        )
    finally:
        con.unregister("_quarantined")
    reasons: dict[str, int] = {}
    for r in records:
        reasons[r[1]] = reasons.get(r[1], 0) + 1
    return reasons
