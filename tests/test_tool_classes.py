"""Tool classes: the trace's own, the manifest's declared ones, and those inferred from tool names, labelled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentops_audit import audit, cli, db, ingest
from agentops_audit.metrics.tool_classes import infer

REPO = Path(__file__).resolve().parents[1]
TAU = REPO.parent / "shared" / "data" / "tau-bench-airline" / "gpt-4o-airline.json"
WRITE_ITEMS = (
    "observe.write-audit-trail",
    "security.policy-outside-model",
    "security.risky-approvals",
    "security.tool-gateway",
    "security.policy-violation-rate",
)


@pytest.mark.parametrize(
    ("tool", "access", "risk", "handoff"),
    [
        ("get_user_details", "read", None, False),
        ("search_direct_flight", "read", None, False),
        ("list_all_airports", "read", None, False),
        ("think", "read", None, False),
        ("lookupOrder", "read", None, False),
        ("mcp__shop__get_weather", "read", None, False),
        ("book_reservation", "write", None, False),
        ("update_reservation_flights", "write", None, False),
        ("cancel_reservation", "write", None, False),
        ("send_certificate", "write", "money_movement", False),
        ("refund_payment", "write", "money_movement", False),
        ("send_email", "write", "external_comms", False),
        ("reset_password", "write", "identity_change", False),
        ("deploy_service", "write", "production_change", False),
        ("transfer_to_human_agents", "read", None, True),
        ("escalate_ticket", "read", None, True),
        ("transfer_to_refund_agent", "read", None, False),
    ],
)
def test_classes_inferred_from_names(tool, access, risk, handoff):
    found = infer(tool)
    assert (found.access, found.risk, found.handoff, found.origin) == (access, risk, handoff, "inferred")


def test_a_tool_named_without_a_verb_is_unclassified_unless_its_description_says():
    assert infer("say_hello").origin is None
    assert (infer("weather", "Get the current weather for a city.").access, infer("weather").access) == ("read", None)


def _statuses(doc: dict) -> dict:
    return {i["id"]: i for s in doc["sections"] for i in s["items"]}


@pytest.fixture(scope="module")
def tau_db(tmp_path_factory) -> Path:
    if not TAU.exists():
        pytest.skip(f"tau-bench data not available at {TAU}")
    path = tmp_path_factory.mktemp("tau") / "tau.duckdb"
    assert cli.main(["ingest", str(TAU), "--mapping", str(REPO / "mappings" / "tau-bench.yml"), "--db", str(path)]) == 0
    return path


def test_writes_are_measured_on_real_conversations_without_a_manifest(tau_db):
    doc = audit.run(tau_db)
    items = _statuses(doc)
    for item in WRITE_ITEMS:
        assert items[item]["status"] != "NO_DATA", (item, items[item]["reason"])
        assert items[item]["evidence"]["inferred_write_tools"]
    classes = {t["tool"]: t for t in doc["metrics"]["tool_classes"]["inferred"]}
    assert classes["send_certificate"]["risk"] == "money_movement"
    assert classes["update_reservation_flights"]["access"] == "write"
    assert classes["transfer_to_human_agents"]["handoff"]
    assert classes["book_reservation"]["declare"] == "- {name: book_reservation, access: write}"
    assert doc["verdict_basis"]["inferred_tool_classes"] and "send_certificate" in doc["verdict_basis"]["tools"]
    assert items["workflow.escalation-rule"]["status"] != "NO_DATA"


def test_declared_classes_win_over_inferred_ones(tau_db, tmp_path):
    manifest = tmp_path / "readiness.yml"
    manifest.write_text(
        "manifest_version: 1\ntools:\n"
        "  - {name: send_certificate, access: write, risk: money_movement}\n"
        "  - {name: book_reservation, access: write, risk: money_movement}\n"
        "  - {name: update_reservation_flights, access: read}\n"
    )
    doc = audit.run(tau_db, manifest=manifest)
    risky = _statuses(doc)["security.risky-approvals"]
    assert risky["evidence"]["risky_writes"] == 8 + 53  # book_reservation now declared money-moving
    origins = doc["metrics"]["tool_classes"]["calls_by_origin"]
    assert origins["declared"] > 0 and origins["inferred"] > 0
    inferred = {t["tool"] for t in doc["metrics"]["tool_classes"]["inferred"]}
    assert not inferred & {"send_certificate", "book_reservation", "update_reservation_flights"}
    assert "update_reservation_flights" not in risky["evidence"]["inferred_write_tools"]


def test_an_unclassifiable_tool_is_named_where_writes_are_missing(tmp_path):
    """A trace whose only tool has no verb in its name: the checks of writes say which tool to declare."""
    path = tmp_path / "t.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "s1",
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "tool_calls": [{"id": "c1", "name": "say_hello", "arguments": {}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "hello"},
                    {"role": "assistant", "content": "done"},
                ],
            }
        )
        + "\n"
    )
    con = db.connect(tmp_path / "a.duckdb")
    ingest.ingest(con, [str(path)])
    con.close()
    item = _statuses(audit.run(tmp_path / "a.duckdb"))["security.tool-gateway"]
    assert item["status"] == "NO_DATA" and "could not be classified: say_hello" in item["reason"]


def test_the_report_lists_each_inferred_class_and_says_the_verdict_rests_on_them(tau_db):
    from agentops_audit import report

    doc = audit.run(tau_db)
    html = report.render(doc)
    assert 'id="verdict-basis"' in html and html.index('id="verdict-basis"') < html.index('id="top-blockers"')
    table = html[html.index('id="inferred-tools"') :]
    for row in doc["metrics"]["tool_classes"]["inferred"]:
        assert f"<code>{row['tool']}</code>" in table
        assert f"<code>{row['declare']}</code>" in table


def test_mcp_annotations_outrank_the_tool_name(tmp_path):
    """An MCP server's annotations in the tool definitions the trace carries (gen_ai.tool.definitions):
    readOnlyHint makes a read, destructiveHint a write, whatever the name says. (No library writes
    these annotations into traces that could be run here; the definitions follow the MCP tool schema.)"""
    definitions = [
        {"name": "purge_cache", "annotations": {"readOnlyHint": True}},
        {"name": "get_or_create_user", "annotations": {"readOnlyHint": False, "destructiveHint": True}},
    ]
    record = {
        "id": "s1",
        "messages": [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c1", "name": "purge_cache", "arguments": {}},
                    {"id": "c2", "name": "get_or_create_user", "arguments": {"u": 1}},
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            {"role": "tool", "tool_call_id": "c2", "content": "ok"},
            {"role": "assistant", "content": "done"},
        ],
    }
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(record) + "\n")
    con = db.connect(tmp_path / "a.duckdb")
    ingest.ingest(con, [str(path)])
    con.execute(
        "UPDATE spans SET attributes = json_merge_patch(attributes, json_object('gen_ai.tool.definitions', ?))"
        " WHERE span_type = 'llm'",
        [json.dumps(definitions)],
    )  # as an instrumentation records them
    con.close()
    classes = {t["tool"]: t for t in audit.run(tmp_path / "a.duckdb")["metrics"]["tool_classes"]["inferred"]}
    assert (classes["purge_cache"]["access"], classes["purge_cache"]["basis"]) == (
        "read",
        "MCP annotation readOnlyHint",
    )
    assert (classes["get_or_create_user"]["access"], classes["get_or_create_user"]["basis"]) == (
        "write",
        "MCP annotation destructiveHint",
    )


def test_escalation_counts_every_task_when_a_hand_off_tool_is_known(tmp_path):
    """Transcripts with no recorded outcomes: two of four sessions call a hand-off tool. The two that never
    called it were not handed off, so the rate is 2 of 4, not 2 of the 2 tasks whose outcome the hand-off set."""

    def session(sid: str, tool: str) -> dict:
        return {
            "id": sid,
            "messages": [
                {"role": "user", "content": "my flight"},
                {"role": "assistant", "tool_calls": [{"id": f"{sid}-c", "name": tool, "arguments": {}}]},
                {"role": "tool", "tool_call_id": f"{sid}-c", "content": "ok"},
                {"role": "assistant", "content": "done"},
            ],
        }

    path = tmp_path / "t.jsonl"
    path.write_text(
        "".join(
            json.dumps(session(f"s{i}", tool)) + "\n"
            for i, tool in enumerate(
                ["transfer_to_human_agents", "get_reservation", "transfer_to_human_agents", "get_reservation"]
            )
        )
    )
    con = db.connect(tmp_path / "a.duckdb")
    ingest.ingest(con, [str(path)])
    con.close()
    doc = audit.run(tmp_path / "a.duckdb")
    item = _statuses(doc)["workflow.escalation-rule"]
    assert item["evidence"]["sessions"] == 4 and item["evidence"]["escalated"] == 2, item
