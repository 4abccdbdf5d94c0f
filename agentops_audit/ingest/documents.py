"""Split a JSON input into documents: JSON Lines, or one JSON document (object or list); and turn documents
into rows, letting the lines that did not parse through as quarantine records (``rows_of``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import orjson

from agentops_audit.ingest.canonical import Quarantined


def bad_line(locator: str, line: bytes, exc: Exception) -> Quarantined:
    """The quarantine record for a line that does not parse: non-UTF-8 bytes (with their column) or not JSON."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as err:
        reason = f"non-UTF-8 bytes at column {err.start + 1}"
    else:
        reason = "invalid JSON (truncated or malformed line)" if isinstance(exc, orjson.JSONDecodeError) else str(exc)
    return Quarantined(locator, reason, line[:300].decode("utf-8", errors="replace"))


def rows_of(
    documents: Iterable[tuple[str, object]], rows: Callable[[str, object], Iterable[dict | Quarantined]]
) -> Iterator[dict | Quarantined]:
    """The rows ``rows(locator, document)`` makes of each document, in order; a document that is already a
    quarantine record (a line that did not parse) passes through as it is."""
    for locator, doc in documents:
        if isinstance(doc, Quarantined):
            yield doc
        else:
            yield from rows(locator, doc)


def json_documents(path: Path, data: bytes) -> Iterator[tuple[str, object | Quarantined]]:
    """(locator, document) pairs. A whole-file JSON value is one document at line 1; otherwise each
    non-blank line is a document and a line that does not parse is quarantined, not fatal."""
    name = path.name
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        whole = None
    else:
        yield f"{name}:1", whole
        return
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        locator = f"{name}:{number}"
        try:
            yield locator, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield locator, bad_line(locator, line, exc)


def json_records(path: Path, data: bytes, containers: tuple[str, ...] = ()) -> Iterator[tuple[str, object]]:
    """(locator, record) pairs of ``json_documents``, a list document giving each of its items as a record
    (``file:line#index``), as does a list under one of the ``containers`` keys of an object document (an
    API page such as ``{"data": [...]}``). A document that does not parse comes as ``(locator, Quarantined)``."""
    for locator, doc in json_documents(path, data):
        if isinstance(doc, dict):
            doc = next((doc[k] for k in containers if isinstance(doc.get(k), list)), doc)
        if isinstance(doc, list):
            for index, record in enumerate(doc):
                yield f"{locator}#{index}", record
        else:
            yield locator, doc


def parquet_rows(path: Path, data: bytes, batch_size: int = 10_000) -> Iterator[tuple[str, dict]]:
    """(locator ``file:row N``, record) for every row of a Parquet file, a batch at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(pa.BufferReader(data)).iter_batches(batch_size=batch_size):
        for record in batch.to_pylist():
            yield f"{path.name}:row {number}", record
            number += 1
