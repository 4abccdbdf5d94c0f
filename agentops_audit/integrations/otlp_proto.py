"""OTLP/HTTP request bodies (protobuf or JSON, optionally gzip or deflate) as OTLP/JSON documents.

Protobuf bodies are decoded with ``opentelemetry-proto`` and written in the OTLP/JSON encoding the
OpenTelemetry specification defines: lowerCamelCase field names, 64-bit integers as decimal strings,
enums by name, and trace and span ids as lower-case hex (not base64, protobuf's JSON default for bytes).
"""

from __future__ import annotations

import gzip
import zlib

import orjson

JSON_TYPES = ("application/json",)
PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
ID_FIELDS = ("traceId", "spanId", "parentSpanId")


class BadRequest(ValueError):
    """The body cannot be read as an OTLP trace request; the message says why (sent back with a 400)."""


class TooLarge(ValueError):
    """The body, once decompressed, is larger than the receiver accepts (sent back with a 413)."""


def media_type(content_type: str | None) -> str:
    """``application/json`` or ``application/x-protobuf`` for a Content-Type header; BadRequest otherwise."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in JSON_TYPES:
        return "application/json"
    if kind in PROTOBUF_TYPES:
        return "application/x-protobuf"
    raise BadRequest(f"unsupported Content-Type {content_type or '(none)'!r}: send application/x-protobuf or "
                     "application/json")


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body without its Content-Encoding (gzip, deflate or none), at most ``limit`` bytes."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise BadRequest(f"unsupported Content-Encoding {encoding!r}: send gzip, deflate or none")
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"the {encoding} body does not decompress: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"the decompressed body is larger than the limit of {limit:,} bytes")
    if not inflater.eof:
        raise BadRequest(f"the {encoding} body is truncated")
    return out


def _hex_ids(doc: dict) -> dict:
    """Span, parent and link ids from protobuf's base64 to the hex of OTLP/JSON, in place."""
    import base64

    def fix(obj: dict) -> None:
        for key in ID_FIELDS:
            value = obj.get(key)
            if isinstance(value, str) and value:
                obj[key] = base64.b64decode(value).hex()

    for batch in doc.get("resourceSpans") or ():
        for scope in batch.get("scopeSpans") or ():
            for span in scope.get("spans") or ():
                fix(span)
                for link in span.get("links") or ():
                    fix(link)
    return doc


def from_protobuf(body: bytes) -> dict:
    """An ``ExportTraceServiceRequest`` in protobuf as an OTLP/JSON document."""
    from google.protobuf.json_format import MessageToDict
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, ValueError) as exc:
        raise BadRequest(f"the body is not a protobuf ExportTraceServiceRequest: {exc}") from None
    doc = MessageToDict(request)
    doc.setdefault("resourceSpans", [])  # an empty request is valid: no spans
    return _hex_ids(doc)


def from_json(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None


def decode(body: bytes, content_type: str | None, encoding: str | None, limit: int) -> tuple[str, object]:
    """(media type, parsed document) of a request body; raises BadRequest or TooLarge."""
    kind = media_type(content_type)
    raw = decompress(body, encoding, limit)
    return kind, (from_protobuf(raw) if kind == "application/x-protobuf" else from_json(raw))


def gzip_bytes(data: bytes) -> bytes:
    """gzip, for tests and the bench (the exporter compresses with the same format)."""
    return gzip.compress(data)
