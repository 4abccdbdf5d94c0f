"""MLflow traces, as MLflow's own tools export them.

- ``Trace.to_json()``: ``{"info": {...}, "data": {"spans": [...]}}``, one per line or a list;
- ``mlflow traces search --output json``: ``{"traces": [...], "next_page_token": ...}``;
- the ``mlflow.search_traces()`` DataFrame saved as JSON Lines or Parquet: one row per trace, with the
  Trace JSON in a ``trace`` column, or its ``spans`` beside ``trace_metadata`` and ``tags``.

A span has base64 (or hex) ``trace_id``/``span_id``/``parent_span_id``, ``start_time_unix_nano``,
``end_time_unix_nano``, ``status.code`` (``STATUS_CODE_OK``/``STATUS_CODE_ERROR``), ``events`` and
``attributes`` whose values MLflow stores JSON-encoded (decoded here); what they mean is the MLflow entry
of ``conventions`` (``mlflow.spanType``, ``mlflow.spanInputs``, ...). The session and user are trace
metadata (``mlflow.trace.session``, ``mlflow.trace.user``): every span of the trace takes the session.
The same spans exported over OTLP (``MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT``) are read by the OTLP reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from agentops_audit.ingest import otlp
from agentops_audit.ingest.canonical import Quarantined, extend_map, fill_from_attributes
from agentops_audit.ingest.convert import excerpt, text_of, time_problem
from agentops_audit.ingest.documents import json_documents, parquet_rows, rows_of

NAME = "mlflow"
PARQUET_MAGIC = b"PAR1"


def sniff(head: bytes) -> bool:
    if head[:4] == PARQUET_MAGIC:
        return b"trace_metadata" in head and b"spans" in head
    return b'"trace_metadata"' in head or b'"mlflow.spanType"' in head and b'"resourceSpans"' not in head


def _json(value):
    """A JSON-encoded value decoded (MLflow encodes every attribute value); other text as it is."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _traces(doc) -> Iterator[dict | None]:
    """The traces of one JSON document (None for a record that is not one)."""
    if isinstance(doc, list):
        for item in doc:
            yield from _traces(item)
        return
    if not isinstance(doc, dict):
        yield None
        return
    if isinstance(doc.get("traces"), list):
        yield from _traces(doc["traces"])
        return
    if isinstance(doc.get("data"), dict) and isinstance(doc.get("info"), dict):
        yield doc
        return
    trace = _json(doc.get("trace"))
    if isinstance(trace, dict) and isinstance(trace.get("data"), dict):
        yield trace
        return
    if isinstance(doc.get("spans"), list):  # a search_traces row without its Trace JSON
        info = {
            "trace_id": doc.get("trace_id"),
            "trace_metadata": doc.get("trace_metadata") or {},
            "tags": doc.get("tags") or {},
        }
        yield {"info": info, "data": {"spans": doc["spans"]}}
        return
    yield None


def _attributes(raw) -> dict:
    if isinstance(raw, str):
        raw = _json(raw)
    if not isinstance(raw, dict):
        return {}
    return {k: _json(v) for k, v in raw.items() if v is not None}


def span_row(span, info: dict, locator: str, mapping) -> dict | Quarantined:
    if not isinstance(span, dict):
        return Quarantined(locator, "span record is not a JSON object", excerpt(span))
    trace_id, span_id = otlp.hex_id(span.get("trace_id"), 16), otlp.hex_id(span.get("span_id"), 8)
    if trace_id is None:
        return Quarantined(locator, "span without a valid trace id", excerpt(span))
    if span_id is None:
        return Quarantined(locator, "span without a valid span id", excerpt(span))
    try:
        start = int(span.get("start_time_unix_nano") or 0) // 1000
        end = int(span.get("end_time_unix_nano") or 0) // 1000 or None
    except (TypeError, ValueError):
        return Quarantined(locator, "timestamp is not an integer", excerpt(span))
    problem = time_problem(start, end)
    if problem:
        return Quarantined(locator, problem, excerpt(span))
    metadata = info.get("trace_metadata") if isinstance(info.get("trace_metadata"), dict) else {}
    tags = info.get("tags") if isinstance(info.get("tags"), dict) else {}
    attrs = _attributes(span.get("attributes"))
    for key in ("service.name", "service.version"):
        if tags.get(key) is not None:
            attrs.setdefault(f"resource.{key}", tags[key])
    events = [e for e in span.get("events") or () if isinstance(e, dict)]
    for event in events:
        if event.get("name") == "exception" and isinstance(event.get("attributes"), dict):
            attrs.setdefault("exception.type", event["attributes"].get("exception.type"))
    status = span.get("status") if isinstance(span.get("status"), dict) else {}
    code = str(status.get("code") or "UNSET").upper().removeprefix("STATUS_CODE_")
    row = {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": otlp.hex_id(span.get("parent_span_id"), 8),
        "name": text_of(span.get("name")),
        "start_time": start,
        "end_time": end,
        "duration_ms": (end - start) / 1000 if end is not None else None,
        "status_code": code if code in ("OK", "ERROR") else "UNSET",
        "status_message": text_of(status.get("message")) or None,
        "session_id": text_of(metadata.get("mlflow.trace.session")),
        "events": orjson.dumps(events, default=str).decode() if events else None,
    }
    try:
        fill_from_attributes(row, attrs, mapping)
    except (TypeError, ValueError) as exc:
        return Quarantined(locator, f"attribute of the wrong type: {exc}", excerpt(span))
    return row


def _records(path: Path, data: bytes) -> Iterator[tuple[str, object]]:
    if data[:4] == PARQUET_MAGIC:
        yield from parquet_rows(path, data, batch_size=1_000)  # a row holds a whole trace
        return
    yield from json_documents(path, data)


def document_rows(doc, locator: str, mapping) -> Iterator[dict | Quarantined]:
    """The span rows of every trace in one document (``locator#trace#span``); a record that is not a trace
    is quarantined."""
    for number, trace in enumerate(_traces(doc)):
        where = f"{locator}#{number}"
        if trace is None:
            yield Quarantined(where, "not an MLflow trace (no info and data.spans)", excerpt(doc))
            continue
        info = trace["info"] if isinstance(trace.get("info"), dict) else {}
        spans = trace["data"].get("spans") if isinstance(trace["data"].get("spans"), list) else []
        for index, span in enumerate(spans):
            yield span_row(span, info, f"{where}#{index}", mapping)


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    mapping = extend_map(options.get("attributes"))
    yield from rows_of(_records(path, data), lambda locator, doc: document_rows(doc, locator, mapping))
