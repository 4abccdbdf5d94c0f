"""OTLP JSON: the collector file exporter's JSON Lines (one ExportTraceServiceRequest per line) or one
JSON document. Ids may be hex or base64, 64-bit integers arrive as strings, attribute values are tagged.

``read`` is the reference reader, one Python dict per span. ``load`` is the fast path the loader prefers
for JSON Lines of 1 MiB or more: ``otlp_sql`` parses and flattens the lines in DuckDB and hands back to
this module only the lines and spans it cannot convert exactly the same way. Both give the same rows,
quarantine reasons and locators (``tests/test_ingest_properties.py`` compares them).

Malformed structure never raises: a container of the wrong type (a batch, scope or span list that is not
a list, a batch or scope that is not an object) contributes no spans, and a span that is not an object
is quarantined like a span without ids.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from collections.abc import Iterator
from pathlib import Path

import orjson

from agentops_audit.ingest import messages
from agentops_audit.ingest.canonical import Quarantined, extend_map, fill_from_attributes
from agentops_audit.ingest.documents import json_documents, rows_of

NAME = "otlp"
MIN_NS = 946_684_800 * 10**9  # 2000-01-01: anything earlier is an unset or broken clock
MAX_NS = 2**63 - 1  # the largest 64-bit nanosecond timestamp (April 2262)
KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
TAGS = ("stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue")
# Phoenix's REST span export (/v1/projects/P/spans/otlpv1) writes the same AnyValue in snake_case, nulls included
SNAKE_TAGS = {
    "string_value": "stringValue",
    "int_value": "intValue",
    "double_value": "doubleValue",
    "bool_value": "boolValue",
    "array_value": "arrayValue",
    "kvlist_value": "kvlistValue",
    "bytes_value": "bytesValue",
}
INT32_COLUMNS = ("retry_attempt",)  # INTEGER in schema.sql; the other integer columns are BIGINT
_HEX = frozenset(string.hexdigits)
_INT_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "retry_attempt")
NOT_OTLP = "not an OTLP trace request (no resourceSpans)"


_SPAN_LIST = re.compile(rb'"start_time_unix_nano"\s*:.*"span_id"|"span_id"\s*:.*"start_time_unix_nano"', re.DOTALL)
_KEYED = re.compile(rb'"attributes"\s*:\s*\[\s*\{\s*"key"')


def sniff(head: bytes) -> bool:
    if b'"resourceSpans"' in head or b'"resource_spans"' in head:
        return True
    return bool(_KEYED.search(head) and _SPAN_LIST.search(head))  # spans without their resource (Phoenix REST)


def value_of(tagged):
    """Decode an OTLP AnyValue: its first tag (in ``TAGS`` order; a valid value has only one) that has a
    value, or None. Raises ValueError or TypeError for an intValue or doubleValue that is not a number."""
    if not isinstance(tagged, dict):
        return None
    if "stringValue" not in tagged and any(k in tagged for k in SNAKE_TAGS):
        tagged = {SNAKE_TAGS[k]: v for k, v in tagged.items() if k in SNAKE_TAGS}
    for key in TAGS:
        value = tagged.get(key)
        if value is None:
            continue
        if key in ("stringValue", "bytesValue"):
            return value
        if key == "intValue":
            return int(value)
        if key == "doubleValue":
            return float(value)
        if key == "boolValue":
            return bool(value)
        values = value.get("values") if isinstance(value, dict) else None
        if key == "arrayValue":
            return [value_of(v) for v in values] if isinstance(values, list) else []
        return attributes_of(values)  # kvlistValue
    return None


def attributes_of(pairs, prefix: str = "", into: dict | None = None) -> dict:
    """A list of OTLP key/value pairs as a dict, added to ``into``. A name already there keeps its value
    (so the first of a repeated key wins); a pair without a key is skipped."""
    out = {} if into is None else into
    if not isinstance(pairs, list):
        return out
    for kv in pairs:
        if isinstance(kv, dict) and kv.get("key") is not None:
            if not isinstance(kv["key"], str):
                raise TypeError(f"attribute key {kv['key']!r} is not a string")
            name = prefix + kv["key"]
            if name not in out:
                out[name] = value_of(kv.get("value"))
    return out


def hex_id(raw, nbytes: int) -> str | None:
    """Normalise a trace or span id given as hex or base64 to lower-case hex; None when invalid."""
    if not isinstance(raw, str) or not raw:
        return None
    if len(raw) == 2 * nbytes and _HEX.issuperset(raw):
        return None if set(raw) == {"0"} else raw.lower()
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded.hex() if len(decoded) == nbytes and any(decoded) else None


def _code(raw, table: dict[int, str], prefix: str) -> str:
    default = table[0]
    if isinstance(raw, str) and not raw.isdigit():
        return raw.upper().removeprefix(prefix)
    try:
        return table.get(int(raw or 0), default)
    except (TypeError, ValueError, OverflowError):
        return default


def _text(value) -> str | None:
    """A string column's value: strings as they are, anything else as compact JSON."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


# the GenAI conventions' older per-message span events: role, and whether the message went in or came out
MESSAGE_EVENTS = {
    "gen_ai.system.message": ("system", "in"),
    "gen_ai.user.message": ("user", "in"),
    "gen_ai.assistant.message": ("assistant", "in"),
    "gen_ai.tool.message": ("tool", "in"),
    "gen_ai.choice": ("assistant", "out"),
}


def event_message(name: str, attrs: dict) -> dict:
    """One message event as an OpenAI-style message (``messages.parse`` makes it canonical)."""
    role, _ = MESSAGE_EVENTS[name]
    body = attrs.get("message") if name == "gen_ai.choice" else None
    if isinstance(body, str):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            body = {"content": body}
    message = dict(body) if isinstance(body, dict) else {}
    content = attrs.get("content", attrs.get("gen_ai.event.content"))
    if content is not None and "content" not in message:
        message["content"] = content
    if attrs.get("tool_calls") is not None and "tool_calls" not in message:
        message["tool_calls"] = attrs["tool_calls"]
    if role == "tool" and attrs.get("id") is not None:
        message["tool_call_id"] = attrs["id"]
    message.setdefault("role", attrs.get("role") or role)
    return message


def _events(span: dict) -> tuple[list, dict]:
    """Span events as plain dicts, plus attributes they contribute (exceptions, legacy prompt events, the
    older per-message events as ``gen_ai.input.messages``/``gen_ai.output.messages``)."""
    events, extra = [], {}
    said: dict[str, list] = {"in": [], "out": []}
    raw = span.get("events")
    for ev in raw if isinstance(raw, list) else ():
        if not isinstance(ev, dict):
            continue
        attrs = attributes_of(ev.get("attributes"))
        events.append({"name": ev.get("name"), "time_unix_nano": ev.get("timeUnixNano"), "attributes": attrs})
        name = ev.get("name")
        if name in MESSAGE_EVENTS:
            said[MESSAGE_EVENTS[name][1]].append(event_message(name, attrs))
        if name == "exception" and "exception.type" in attrs:
            extra.setdefault("error.type", attrs["exception.type"])
        elif name == "gen_ai.content.prompt" and "gen_ai.prompt" in attrs:
            extra.setdefault("gen_ai.prompt", attrs["gen_ai.prompt"])
        elif name == "gen_ai.content.completion" and "gen_ai.completion" in attrs:
            extra.setdefault("gen_ai.completion", attrs["gen_ai.completion"])
        elif name == "tool.output" and "output" in attrs:  # Claude Code: a tool span's result
            extra.setdefault("claude_code.tool.output", attrs["output"])
    for direction, name in (("in", "gen_ai.input.messages"), ("out", "gen_ai.output.messages")):
        found = messages.parse(said[direction]) if said[direction] else None
        if found:
            extra.setdefault(name, messages.dumps(found))
    return events, extra


def excerpt_of(value) -> str:
    return orjson.dumps(value)[:300].decode(errors="replace")


def span_row(span, resource, locator: str, mapping) -> dict | Quarantined:
    """One span as a canonical row, or the reason it cannot be loaded. ``resource`` is the batch's
    resource attribute list as exported (decoded here, so a bad resource value quarantines the span)."""
    excerpt = excerpt_of(span)
    if not isinstance(span, dict):
        span = {}
    trace_id = hex_id(span.get("traceId", span.get("trace_id")), 16)
    span_id = hex_id(span.get("spanId", span.get("span_id")), 8)
    if trace_id is None:
        return Quarantined(locator, "span without a valid trace id", excerpt)
    if span_id is None:
        return Quarantined(locator, "span without a valid span id", excerpt)
    try:
        start = int(span.get("startTimeUnixNano", span.get("start_time_unix_nano")) or 0)
        end = int(span.get("endTimeUnixNano", span.get("end_time_unix_nano")) or 0)
    except (TypeError, ValueError, OverflowError):
        return Quarantined(locator, "timestamp is not an integer", excerpt)
    if start < MIN_NS:
        return Quarantined(locator, "impossible start timestamp (missing, or before 2000)", excerpt)
    if end and end < start:
        return Quarantined(locator, "impossible timestamps: end before start", excerpt)
    if start > MAX_NS or end > MAX_NS:
        return Quarantined(locator, "impossible timestamp (after 2262)", excerpt)
    status = span.get("status")
    status = status if isinstance(status, dict) else {}
    try:
        attrs = attributes_of(resource, prefix="resource.", into=attributes_of(span.get("attributes")))
        events, extra = _events(span)
        for key, value in extra.items():
            attrs.setdefault(key, value)
        row = {
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_span_id": hex_id(span.get("parentSpanId", span.get("parent_span_id")), 8),
            "name": _text(span.get("name")),
            "span_kind": _code(span.get("kind"), KINDS, "SPAN_KIND_"),
            "start_time": start // 1000,
            "end_time": end // 1000 if end else None,
            "duration_ms": (end - start) / 1e6 if end else None,
            "status_code": _code(status.get("code"), STATUS, "STATUS_CODE_"),
            "status_message": _text(status.get("message")) or None,
            "events": orjson.dumps(events).decode() if events else None,
            "links": orjson.dumps(span["links"]).decode() if span.get("links") else None,
        }
        fill_from_attributes(row, attrs, mapping)
        for column in _INT_COLUMNS:
            value, bits = row.get(column), 31 if column in INT32_COLUMNS else 63
            if value is not None and not -(2**bits) <= value < 2**bits:
                raise ValueError(f"{column} {value} is out of range")
    except (TypeError, ValueError, OverflowError) as exc:
        return Quarantined(locator, f"attribute of the wrong type: {exc}", excerpt)
    return row


def batches_of(doc) -> list | None:
    """The request's list of resource batches, or None when ``doc`` is not an OTLP trace request. A bare
    list of spans, or one under ``data`` (Phoenix's REST export, with ``next_cursor``), is one batch without
    a resource."""
    if isinstance(doc, dict) and isinstance(doc.get("data"), list) and "resourceSpans" not in doc:
        doc = doc["data"]
    if isinstance(doc, list):
        if doc and all(isinstance(s, dict) and ("span_id" in s or "spanId" in s) for s in doc):
            return [{"scopeSpans": [{"spans": doc}]}]
        return None
    if not isinstance(doc, dict):
        return None
    batches = doc.get("resourceSpans", doc.get("resource_spans"))
    return batches if isinstance(batches, list) else None


def spans_of(batches: list) -> Iterator[tuple[object, object]]:
    """(span, resource attribute list) for every span of a request, in export order."""
    for batch in batches:
        if not isinstance(batch, dict):
            continue
        resource = batch.get("resource")
        resource = resource.get("attributes") if isinstance(resource, dict) else None
        scopes = batch.get("scopeSpans") or batch.get("scope_spans") or batch.get("instrumentationLibrarySpans")
        for scope in scopes if isinstance(scopes, list) else ():
            spans = scope.get("spans") if isinstance(scope, dict) else None
            for span in spans if isinstance(spans, list) else ():
                yield span, resource


def doc_records(doc, locator: str, mapping) -> Iterator[tuple[int, dict | Quarantined]]:
    """(index in the request, record) for one parsed document; index -1 for a document that is not
    an OTLP trace request."""
    batches = batches_of(doc)
    if batches is None:
        yield -1, Quarantined(locator, NOT_OTLP, excerpt_of(doc))
        return
    for index, (span, resource) in enumerate(spans_of(batches)):
        yield index, span_row(span, resource, f"{locator}#{index}", mapping)


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    mapping = extend_map(options.get("attributes"))
    yield from rows_of(
        json_documents(path, data), lambda locator, doc: (record for _, record in doc_records(doc, locator, mapping))
    )
