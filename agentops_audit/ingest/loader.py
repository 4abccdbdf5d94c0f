"""Load one input file in one transaction: stage rows, de-duplicate, quarantine, and write the ledger.

Every record an adapter yields is counted once: loaded, duplicate (same trace_id and span_id as a span
already stored or earlier in the file), or quarantined. A file whose sha256 is already in the ledger is
skipped, so re-running the same input changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from agentops_audit import __version__
from agentops_audit.db import scalar
from agentops_audit.ingest.canonical import ARROW_SCHEMA, COLUMNS, Quarantined
from agentops_audit.ingest.reader import read_bytes, sha256_file
from agentops_audit.pii import mask

FLUSH_ROWS = 50_000
EXCERPT_CHARS = 200


@dataclass
class SourceSummary:
    path: str
    format: str
    sha256: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    skipped: bool = False
    error: str | None = None
    reasons: dict | None = None

    def line(self) -> str:
        if self.error:
            return f"{self.path}: FAILED, nothing loaded: {self.error}"
        if self.skipped:
            return f"{self.path}: already ingested (sha256 {self.sha256[:12]}), nothing changed"
        text = (f"{self.path} [{self.format}]: read {self.rows_read}, loaded {self.rows_loaded}, "
                f"duplicate {self.rows_duplicate}, quarantined {self.rows_quarantined}")
        if self.reasons:
            text += " (" + "; ".join(f"{n} {r}" for r, n in sorted(self.reasons.items())) + ")"
        return text


class _Stage:
    """Accumulates canonical rows and moves them to a temporary DuckDB table in Arrow batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source_id: int):
        self.con, self.source_id, self.rows, self.staged = con, source_id, [], 0
        con.execute("CREATE OR REPLACE TEMP TABLE _stage AS SELECT *, 0::BIGINT AS _seq FROM spans LIMIT 0")

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        columns = {c: [r.get(c) for r in self.rows] for c in COLUMNS}
        batch = pa.Table.from_pydict(columns, schema=ARROW_SCHEMA)
        self.con.register("_batch", batch)
        self.con.execute(
            f"INSERT INTO _stage BY NAME SELECT *, {self.source_id} AS source_id, "
            f"{self.staged} + row_number() OVER () AS _seq FROM _batch"
        )
        self.con.unregister("_batch")
        self.staged += len(self.rows)
        self.rows = []

    def commit_new(self) -> int:
        """Insert staged spans not already stored (first occurrence in the file wins); return the count."""
        self.flush()
        inserted = scalar(self.con, """
            INSERT INTO spans BY NAME
            SELECT * EXCLUDE (_seq) FROM (
                SELECT * FROM _stage QUALIFY row_number() OVER (PARTITION BY trace_id, span_id ORDER BY _seq) = 1
            ) s
            WHERE NOT EXISTS (SELECT 1 FROM spans t WHERE t.trace_id = s.trace_id AND t.span_id = s.span_id)
        """)
        self.con.execute("DROP TABLE _stage")
        return inserted


def load_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str,
              read: Callable[[Path, bytes, dict], Iterator[dict | Quarantined]],
              options: dict | None = None) -> SourceSummary:
    summary = SourceSummary(path=str(path), format=fmt)
    try:
        summary.sha256 = sha256_file(path)
        if scalar(con, "SELECT count(*) FROM sources WHERE sha256 = ?", [summary.sha256]):
            summary.skipped = True
            return summary
        data = read_bytes(path)
    except Exception as exc:  # unreadable file: reported, the other files still load
        summary.error = str(exc)
        return summary
    con.execute("BEGIN TRANSACTION")
    try:
        source_id = scalar(con, "SELECT coalesce(max(source_id), 0) + 1 FROM sources")
        stage, quarantined, reasons = _Stage(con, source_id), [], {}
        for record in read(path, data, options or {}):
            summary.rows_read += 1
            if isinstance(record, Quarantined):
                excerpt = mask(record.excerpt[:EXCERPT_CHARS]) if record.excerpt else None
                quarantined.append((source_id, record.locator, record.reason, excerpt))
                reasons[record.reason] = reasons.get(record.reason, 0) + 1
            else:
                stage.add(record)
        summary.rows_loaded = stage.commit_new()
        summary.rows_quarantined = len(quarantined)
        summary.rows_duplicate = summary.rows_read - summary.rows_loaded - summary.rows_quarantined
        summary.reasons = reasons or None
        if quarantined:
            con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?)", quarantined)
        con.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [source_id, str(path), fmt, summary.sha256, path.stat().st_size, summary.rows_read,
             summary.rows_loaded, summary.rows_duplicate, summary.rows_quarantined,
             datetime.now(UTC).replace(tzinfo=None), __version__],
        )
        con.execute("COMMIT")
    except Exception as exc:  # a broken file is rolled back whole and reported; the run goes on
        con.execute("ROLLBACK")
        return SourceSummary(path=str(path), format=fmt, sha256=summary.sha256,
                             error=f"{type(exc).__name__}: {exc}")
    return summary
