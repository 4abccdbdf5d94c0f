"""OpenInference span exports (Arize Phoenix): JSON Lines, a JSON list, or Parquet (one row per span).

A span carries ``context.trace_id`` / ``context.span_id`` (nested under ``context`` or as dotted
columns), ``parent_id``, ``span_kind``, ISO ``start_time`` / ``end_time``, ``status_code`` and
``attributes``: a nested dict, dotted names, or Parquet columns ``attributes.llm.token_count.prompt``.
Ids are hex with or without ``0x``. The attributes are read as OpenInference names them
(``conventions``): ``openinference.span.kind`` (or the ``span_kind`` column) is the span's kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson

from agentops_audit.ingest.canonical import Quarantined, extend_map, fill_from_attributes
from agentops_audit.ingest.convert import excerpt, flatten, loose_hex_id, text_of, time_problem, to_micros
from agentops_audit.ingest.documents import json_records, parquet_rows

NAME = "openinference"
PARQUET_MAGIC = b"PAR1"
# attribute values that are objects in their own right, not namespaces to flatten
_WHOLE = frozenset({"tool.parameters", "metadata", "llm.invocation_parameters", "input.value", "output.value"})
_NESTED_KIND = re.compile(rb'"openinference"\s*:\s*\{\s*"span"')
_STATUS = {"OK": "OK", "ERROR": "ERROR", "UNSET": "UNSET", "STATUS_CODE_OK": "OK", "STATUS_CODE_ERROR": "ERROR"}


def sniff(head: bytes) -> bool:
    if head[:4] == PARQUET_MAGIC:
        return b"context.span_id" in head or (
            b"span_kind" in head and b"parent_id" in head and b"span_type" not in head
        )
    if b'"context.span_id"' in head or b'"openinference.span.kind"' in head or _NESTED_KIND.search(head):
        return True
    return b'"context"' in head and b'"span_kind"' in head and b'"parent_id"' in head


def _attributes(span: dict) -> dict:
    """Every attribute under dotted names, from a nested or flat ``attributes`` and ``attributes.*`` keys."""
    attrs = flatten(span.get("attributes") if isinstance(span.get("attributes"), dict) else {}, keep=_WHOLE)
    for key, value in span.items():
        if key.startswith("attributes.") and value is not None:
            attrs[key.removeprefix("attributes.")] = value
    return {k: v for k, v in attrs.items() if not (isinstance(v, float) and v != v)}  # pandas NaN: absent


def _context(span: dict, key: str):
    context = span.get("context")
    if isinstance(context, dict) and context.get(key) is not None:
        return context[key]
    return span.get(f"context.{key}", span.get(key))


def _events(raw) -> tuple[list, str | None]:
    """Events as plain dicts (the first exception's type reported separately)."""
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return [], None
    events, error_type = [], None
    for event in raw if isinstance(raw, list) else ():
        if not isinstance(event, dict):
            continue
        attrs = event.get("attributes") if isinstance(event.get("attributes"), dict) else {}
        events.append({"name": event.get("name"), "timestamp": text_of(event.get("timestamp")), "attributes": attrs})
        if event.get("name") == "exception" and error_type is None:
            error_type = attrs.get("exception.type")
    return events, error_type


def span_row(span, locator: str, mapping) -> dict | Quarantined:
    if not isinstance(span, dict):
        return Quarantined(locator, "span record is not a JSON object", excerpt(span))
    trace_id = loose_hex_id(_context(span, "trace_id"), 16)
    span_id = loose_hex_id(_context(span, "span_id"), 8)
    if trace_id is None:
        return Quarantined(locator, "span without a valid trace id", excerpt(span))
    if span_id is None:
        return Quarantined(locator, "span without a valid span id", excerpt(span))
    try:
        start, end = to_micros(span.get("start_time")), to_micros(span.get("end_time"))
    except ValueError as exc:
        return Quarantined(locator, f"unreadable timestamp ({exc})", excerpt(span))
    problem = time_problem(start, end)
    if problem:
        return Quarantined(locator, problem, excerpt(span))
    attrs = _attributes(span)
    parent = loose_hex_id(span.get("parent_id", span.get("parent_span_id")), 8)
    if isinstance(span.get("span_kind"), str):  # the kind as a column: read as the attribute would be
        attrs.setdefault("openinference.span.kind", span["span_kind"])
    events, error_type = _events(span.get("events"))
    if error_type:
        attrs.setdefault("exception.type", error_type)
    status = _STATUS.get(str(span.get("status_code") or "UNSET").upper(), "UNSET")
    row = {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": text_of(span.get("name")),
        "span_kind": None,  # Phoenix does not export the OTel SpanKind
        "start_time": start,
        "end_time": end,
        "duration_ms": (end - start) / 1000 if end is not None else None,
        "status_code": status,
        "status_message": text_of(span.get("status_message")) or None,
        "events": orjson.dumps(events).decode() if events else None,
    }
    if "llm.cost.total" not in attrs and any(k in attrs for k in ("llm.cost.prompt", "llm.cost.completion")):
        row["cost_usd"] = float(attrs.get("llm.cost.prompt") or 0) + float(attrs.get("llm.cost.completion") or 0)
    try:
        fill_from_attributes(row, attrs, mapping)
    except (TypeError, ValueError) as exc:
        return Quarantined(locator, f"attribute of the wrong type: {exc}", excerpt(span))
    return row


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    mapping = extend_map(options.get("attributes"))
    if data[:4] == PARQUET_MAGIC:
        for locator, record in parquet_rows(path, data):
            yield span_row(record, locator, mapping)
        return
    for locator, span in json_records(path, data, containers=("data",)):  # or an API page {"data": [...]}
        yield span if isinstance(span, Quarantined) else span_row(span, locator, mapping)
