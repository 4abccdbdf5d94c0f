"""The instrumentation helper round-trips: a real OpenTelemetry SDK records it, the OTLP encoding exports it,
the ingest reads it and the audit judges it as the trace's own facts. The attribute document is generated
from the one registry of names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk")

from google.protobuf import json_format  # noqa: E402  (after the skip: protobuf comes with the SDK's exporter)
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from agentops_audit import audit, db, ingest, instrument, names  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _session(tracer, session: str, previous: str) -> str:
    """One refund task: an untrusted email read, a classification call, a gated and approved refund."""
    with tracer.start_as_current_span("invoke_agent refunds") as root:
        root.set_attributes({"gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": session})
        instrument.record_outcome("success", workflow="refunds")
        with tracer.start_as_current_span("execute_tool read_email") as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "read_email",
                    "gen_ai.tool.call.id": f"{session}-1",
                    "gen_ai.tool.call.arguments": "{}",
                    "gen_ai.tool.call.result": "please refund order 7",
                    "agentops.tool.access": "read",
                }
            )
            instrument.record_input_trust("untrusted")
        with tracer.start_as_current_span("chat small-model") as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": 40,
                    "gen_ai.usage.output_tokens": 5,
                }
            )
            instrument.record_llm_purpose("classify")
        with tracer.start_as_current_span("execute_tool issue_refund") as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.call.id": f"{session}-2",
                    "gen_ai.tool.call.result": '{"status": "refunded"}',
                }
            )
            instrument.record_policy_decision("allow", rule="refunds.max_amount", reason="under 100 EUR")
            instrument.record_approval("approved", approver="alice@example.com", tool="issue_refund")
            return instrument.record_write(
                "issue_refund",
                '{"order_id": 7, "amount": 20}',
                record_id=f"rec-{session}",
                actor="agent:refunds",
                prev_hash=previous,
                risk="money_movement",
            )


def test_helper_round_trips_through_a_real_sdk_into_the_audit(tmp_path):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("refund-agent")
    digest = ""
    for n in range(3):
        digest = _session(tracer, f"s{n}", digest)
    request = encode_spans(exporter.get_finished_spans())  # the OTLP request an exporter would send
    path = tmp_path / "traces.otlp.jsonl"
    path.write_text(json.dumps(json_format.MessageToDict(request)) + "\n")

    con = db.connect(tmp_path / "a.duckdb")
    [summary] = ingest.ingest(con, [str(path)])
    assert (summary.rows_loaded, summary.rows_quarantined) == (12, 0), summary.line()
    con.close()
    items = {i["id"]: i for s in audit.run(tmp_path / "a.duckdb")["sections"] for i in s["items"]}
    for item in (
        "observe.write-audit-trail",
        "security.tool-gateway",
        "security.risky-approvals",
        "security.decision-audit-log",
    ):
        assert items[item]["status"] == "PASS", (item, items[item].get("display") or items[item].get("reason"))
        assert not items[item]["evidence"].get("inferred_write_tools")  # the trace's own classes
    assert items["security.untrusted-input"]["status"] == "PASS"  # approved before the write
    assert items["cost.model-routing"]["status"] != "NO_DATA"


def test_the_hash_chain_is_the_audit_s_own():
    first = instrument.audit_hash("", "r1", "a", "t", "{}")
    assert first == __import__("hashlib").sha256(b"|r1|a|t|{}").hexdigest()
    with pytest.raises(ValueError, match="risk must be one of"):
        instrument.record_write("t", "{}", record_id="r", actor="a", risk="dangerous", span=object())


def test_the_attribute_document_is_generated_from_the_registry():
    assert (REPO / "docs" / "conventions.md").read_text() == names.markdown()
    from agentops_audit.ingest.canonical import ATTRIBUTE_MAP

    for name in names.NAMES:
        if name.column:
            assert name.attribute in ATTRIBUTE_MAP[name.column]
