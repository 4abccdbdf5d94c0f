"""OTLP JSON: the collector file exporter's JSON Lines (one ExportTraceServiceRequest per line) or one
JSON document. Ids may be hex or base64, 64-bit integers arrive as strings, attribute values are tagged."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path

import orjson

from agentops_audit.ingest.canonical import Quarantined, extend_map, fill_from_attributes
from agentops_audit.ingest.documents import json_documents

NAME = "otlp"
_MIN_NS = 946_684_800 * 10**9  # 2000-01-01: anything earlier is an unset or broken clock
_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


def sniff(head: bytes) -> bool:
    return b'"resourceSpans"' in head or b'"resource_spans"' in head


def value_of(tagged: dict | None):
    """Decode an OTLP AnyValue."""
    if not isinstance(tagged, dict):
        return None
    for key, value in tagged.items():
        if key == "stringValue":
            return value
        if key == "intValue":
            return int(value)
        if key == "doubleValue":
            return float(value)
        if key == "boolValue":
            return bool(value)
        if key == "arrayValue":
            return [value_of(v) for v in (value or {}).get("values", [])]
        if key == "kvlistValue":
            return attributes_of((value or {}).get("values"))
        if key == "bytesValue":
            return value
    return None


def attributes_of(pairs: list | None, prefix: str = "") -> dict:
    out = {}
    for kv in pairs or ():
        if isinstance(kv, dict) and "key" in kv:
            out[prefix + kv["key"]] = value_of(kv.get("value"))
    return out


def hex_id(raw, nbytes: int) -> str | None:
    """Normalise a trace or span id given as hex or base64 to lower-case hex; None when invalid."""
    if not isinstance(raw, str) or not raw:
        return None
    if len(raw) == 2 * nbytes:
        try:
            int(raw, 16)
            return None if set(raw) == {"0"} else raw.lower()
        except ValueError:
            pass
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded.hex() if len(decoded) == nbytes and any(decoded) else None


def _code(raw, table: dict[int, str], prefix: str) -> str:
    if isinstance(raw, str) and not raw.isdigit():
        return raw.upper().removeprefix(prefix)
    return table.get(int(raw or 0), "UNSET" if prefix == "STATUS_CODE_" else "UNSPECIFIED")


def _events(span: dict) -> tuple[list, dict]:
    """Span events as plain dicts, plus attributes they contribute (exceptions, legacy prompt events)."""
    events, extra = [], {}
    for ev in span.get("events") or ():
        attrs = attributes_of(ev.get("attributes"))
        events.append({"name": ev.get("name"), "time_unix_nano": ev.get("timeUnixNano"), "attributes": attrs})
        name = ev.get("name")
        if name == "exception" and "exception.type" in attrs:
            extra.setdefault("error.type", attrs["exception.type"])
        elif name == "gen_ai.content.prompt" and "gen_ai.prompt" in attrs:
            extra.setdefault("gen_ai.prompt", attrs["gen_ai.prompt"])
        elif name == "gen_ai.content.completion" and "gen_ai.completion" in attrs:
            extra.setdefault("gen_ai.completion", attrs["gen_ai.completion"])
    return events, extra


def span_row(span: dict, resource: dict, locator: str, mapping) -> dict | Quarantined:
    trace_id = hex_id(span.get("traceId", span.get("trace_id")), 16)
    span_id = hex_id(span.get("spanId", span.get("span_id")), 8)
    excerpt = orjson.dumps(span)[:300].decode(errors="replace")
    if trace_id is None:
        return Quarantined(locator, "span without a valid trace id", excerpt)
    if span_id is None:
        return Quarantined(locator, "span without a valid span id", excerpt)
    try:
        start = int(span.get("startTimeUnixNano") or 0)
        end = int(span.get("endTimeUnixNano") or 0)
    except (TypeError, ValueError):
        return Quarantined(locator, "timestamp is not an integer", excerpt)
    if start < _MIN_NS:
        return Quarantined(locator, "impossible start timestamp (missing, or before 2000)", excerpt)
    if end and end < start:
        return Quarantined(locator, "impossible timestamps: end before start", excerpt)
    attrs = {**resource, **attributes_of(span.get("attributes"))}
    events, extra = _events(span)
    for key, value in extra.items():
        attrs.setdefault(key, value)
    status = span.get("status") or {}
    row = {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": hex_id(span.get("parentSpanId", span.get("parent_span_id")), 8),
        "name": span.get("name"),
        "span_kind": _code(span.get("kind"), _KINDS, "SPAN_KIND_"),
        "start_time": start // 1000,
        "end_time": end // 1000 if end else None,
        "duration_ms": (end - start) / 1e6 if end else None,
        "status_code": _code(status.get("code"), _STATUS, "STATUS_CODE_"),
        "status_message": status.get("message") or None,
        "events": orjson.dumps(events).decode() if events else None,
        "links": orjson.dumps(span["links"]).decode() if span.get("links") else None,
    }
    try:
        fill_from_attributes(row, attrs, mapping)
    except (TypeError, ValueError) as exc:
        return Quarantined(locator, f"attribute of the wrong type: {exc}", excerpt)
    return row


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    mapping = extend_map(options.get("attributes"))
    for locator, doc in json_documents(path, data):
        if isinstance(doc, Quarantined):
            yield doc
            continue
        batches = doc.get("resourceSpans", doc.get("resource_spans")) if isinstance(doc, dict) else None
        if not isinstance(batches, list):
            excerpt = orjson.dumps(doc)[:300].decode(errors="replace")
            yield Quarantined(locator, "not an OTLP trace request (no resourceSpans)", excerpt)
            continue
        index = 0
        for batch in batches:
            resource = attributes_of((batch.get("resource") or {}).get("attributes"), prefix="resource.")
            scopes = batch.get("scopeSpans") or batch.get("scope_spans") or batch.get("instrumentationLibrarySpans")
            for scope in scopes or ():
                for span in scope.get("spans") or ():
                    yield span_row(span, resource, f"{locator}#{index}", mapping)
                    index += 1
