"""Session registry: the application's own list of sessions (CSV with a header, or JSON Lines / a JSON list)
with ``session_id`` and optional ``started_at`` and ``workflow``. Loaded into ``session_registry`` so
trace coverage is traced sessions over all sessions.

It follows the span ledger's rules (``loader``): one transaction per file, a ``sources`` row with format
``session-registry``, every row read is loaded, a duplicate (a session id already registered, or earlier
in the file) or quarantined with a reason, and a file whose sha256 is in the ledger is skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from agentops_audit.db import scalar
from agentops_audit.ingest.canonical import Quarantined
from agentops_audit.ingest.convert import excerpt, to_micros
from agentops_audit.ingest.documents import json_records
from agentops_audit.ingest.loader import load_records
from agentops_audit.ingest.summary import SourceSummary

NAME = "session-registry"
_SCHEMA = pa.schema([("session_id", pa.string()), ("started_at", pa.timestamp("us")), ("workflow", pa.string())])


def sniff(head: bytes) -> bool:
    """A CSV whose header names ``session_id`` and no span columns."""
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    names = {n.strip().strip('"') for n in first.split(",")}
    return "session_id" in names and not names & {"trace_id", "span_id"} and not first.lstrip().startswith(("{", "["))


def _entry(record, locator: str) -> dict | Quarantined:
    if not isinstance(record, dict):
        return Quarantined(locator, "registry row is not an object", excerpt(record))
    session = record.get("session_id")
    if session is None or isinstance(session, dict | list | bool) or not str(session).strip():
        return Quarantined(locator, "registry row without a session_id", excerpt(record))
    try:
        started = to_micros(record.get("started_at"))
    except ValueError as exc:
        return Quarantined(locator, f"unreadable started_at ({exc})", excerpt(record))
    workflow = record.get("workflow")
    return {
        "session_id": str(session).strip(),
        "started_at": started,
        "workflow": None if workflow in (None, "") else str(workflow),
    }


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    """Registry entries ({session_id, started_at in microseconds, workflow}) or quarantine records."""
    if data.lstrip()[:1] in (b"{", b"["):
        for locator, record in json_records(path, data):
            yield record if isinstance(record, Quarantined) else _entry(record, locator)
        return
    lines = data.split(b"\n")
    try:
        header = lines[0].decode("utf-8-sig")
    except UnicodeDecodeError as err:
        yield Quarantined(f"{path.name}:1", f"non-UTF-8 bytes at column {err.start + 1}", excerpt(lines[0]))
        return
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        locator = f"{path.name}:{number}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            yield Quarantined(locator, f"non-UTF-8 bytes at column {err.start + 1}", excerpt(line))
            continue
        rows = list(csv.DictReader(io.StringIO(header + "\n" + text)))
        if len(rows) != 1 or None in rows[0] or any(v is None for v in rows[0].values()):
            yield Quarantined(locator, "CSV row with the wrong number of fields (truncated or malformed)", text[:300])
        else:
            yield _entry(rows[0], locator)


def _commit(con: duckdb.DuckDBPyConnection, rows: list[dict], source_id: int) -> int:
    """Insert sessions not registered yet (first occurrence in the file wins); return the count."""
    entries: dict[str, dict] = {}
    for row in rows:
        entries.setdefault(row["session_id"], row)
    if not entries:
        return 0
    con.register("_registry_batch", pa.Table.from_pylist(list(entries.values()), schema=_SCHEMA))
    try:
        return scalar(
            con,
            """
            INSERT INTO session_registry BY NAME
            SELECT * FROM _registry_batch b
            WHERE NOT EXISTS (SELECT 1 FROM session_registry r WHERE r.session_id = b.session_id)""",
        )
    finally:
        con.unregister("_registry_batch")


def load_registry(con: duckdb.DuckDBPyConnection, path: Path, options: dict | None = None) -> SourceSummary:
    """Load one registry file in one transaction and record it in the ledger (``loader.load_records``)."""
    return load_records(con, path, NAME, read, _commit, options)
