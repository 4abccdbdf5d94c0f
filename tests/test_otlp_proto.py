"""The receiver's protobuf-to-OTLP/JSON conversion against protobuf's own json_format (the reference), on a
request that uses every field the trace protocol has; and the same spans read both ways by the ingest."""

from __future__ import annotations

import base64

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from agentops_audit.ingest.canonical import extend_map
from agentops_audit.ingest.otlp import batches_of, span_row, spans_of
from agentops_audit.integrations import otlp_proto


def kv(key, **value) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def request() -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
    rs.resource.attributes.extend([kv("service.name", string_value="shop"), kv("service.version", string_value="2")])
    ss = rs.scope_spans.add(schema_url="s")
    ss.scope.name, ss.scope.version = "lib", "1.0"
    root = ss.spans.add(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(1, 9)),
        name="invoke_agent",
        kind=2,
        start_time_unix_nano=1_796_000_000_000_000_000,
        end_time_unix_nano=1_796_000_001_000_000_000,
        trace_state="a=b",
        flags=256,
        dropped_attributes_count=1,
    )
    root.attributes.extend(
        [
            kv("gen_ai.conversation.id", string_value="s-1"),
            kv("gen_ai.usage.input_tokens", int_value=2**40),
            kv("ratio", double_value=0.5),
            kv("zero", double_value=0.0),
            kv("ok", bool_value=True),
            kv("no", bool_value=False),
            kv("blob", bytes_value=b"\x00\x01"),
            kv("list", array_value=ArrayValue(values=[AnyValue(string_value="x"), AnyValue(int_value=3)])),
            kv("empty", array_value=ArrayValue()),
            kv("map", kvlist_value=KeyValueList(values=[kv("k", string_value="v")])),
        ]
    )
    root.status.code, root.status.message = 2, "boom"
    event = root.events.add(time_unix_nano=1_796_000_000_500_000_000, name="exception")
    event.attributes.append(kv("exception.type", string_value="ValueError"))
    root.links.add(trace_id=bytes(range(2, 18)), span_id=bytes(range(2, 10)))
    ss.spans.add(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(3, 11)),
        parent_span_id=bytes(range(1, 9)),
        name="tool",
        start_time_unix_nano=1_796_000_000_100_000_000,
    )
    return req


def reference(req) -> dict:
    doc = MessageToDict(req, use_integers_for_enums=True)
    for batch in doc["resourceSpans"]:
        for scope in batch["scopeSpans"]:
            for span in scope["spans"]:
                for obj in [span, *span.get("links", [])]:
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in obj:
                            obj[key] = base64.b64decode(obj[key]).hex()
    return doc


def test_conversion_equals_json_format_with_hex_ids_and_integer_enums():
    req = request()
    mine = otlp_proto.from_protobuf(req.SerializeToString())
    assert mine == reference(req)
    span = mine["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == bytes(range(1, 17)).hex() and span["kind"] == 2 and span["status"]["code"] == 2


def test_the_ingest_reads_both_the_same():
    req = request()
    mapping = extend_map(None)
    rows = [
        [span_row(s, r, "x", mapping) for s, r in spans_of(batches_of(doc))]
        for doc in (otlp_proto.from_protobuf(req.SerializeToString()), reference(req))
    ]
    assert rows[0] == rows[1] and len(rows[0]) == 2
    assert rows[0][0]["status_code"] == "ERROR" and rows[0][0]["input_tokens"] == 2**40
    assert rows[0][1]["parent_span_id"] == bytes(range(1, 9)).hex()


def test_empty_and_broken_bodies():
    assert otlp_proto.from_protobuf(b"") == {"resourceSpans": []}
    for body in (b"\x0a\xff\xff\xff\xff\x0f", b"\xff"):
        try:
            otlp_proto.from_protobuf(body)
        except otlp_proto.BadRequest as exc:
            assert "not a protobuf ExportTraceServiceRequest" in str(exc)
        else:
            raise AssertionError("a broken body was accepted")


def test_the_receivers_quick_check_agrees_with_the_ingest():
    from agentops_audit.ingest.canonical import Quarantined
    from agentops_audit.integrations.receiver import span_problem

    good = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "startTimeUnixNano": "1796000000000000000",
        "endTimeUnixNano": "1796000001000000000",
    }
    cases = [
        good,
        {**good, "traceId": ""},
        {**good, "traceId": "0" * 32},
        {**good, "spanId": "xyz"},
        {**good, "startTimeUnixNano": "soon"},
        {**good, "startTimeUnixNano": "5"},
        {**good, "endTimeUnixNano": "1795000000000000000"},
        {**good, "startTimeUnixNano": str(2**64)},
        "span",
    ]
    mapping = extend_map(None)
    for span in cases:
        row = span_row(span, None, "x", mapping)
        assert span_problem(span) == (row.reason if isinstance(row, Quarantined) else None), span
