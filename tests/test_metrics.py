"""Every measured check of sections 1, 3, 4, 5 and 7 reports exactly what the generator injected.

Ground truth comes from the seeded generator's tally (truth.json); the audits are real (DuckDB, GX).
The demo fixture is the full CLI run; the other exports are generated and audited here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agentops_audit import audit, catalog, config, db, ingest, manifest, metrics
from agentops_audit.demo import synth
from agentops_audit.errors import InputError
from agentops_audit.evaluators import CHECKS, AuditContext
from agentops_audit.expectations import Validator
from agentops_audit.metrics import params
from agentops_audit.paths import checks_dir

SMALL_EXPORT = dict(sessions=120, seed=5)


def _items(doc: dict) -> dict:
    return {it["id"]: it for s in doc["sections"] for it in s["items"]}


def _check(doc: dict, check: str) -> list[dict]:
    return [it for it in _items(doc).values() if it["check"] == check]


def _one(doc: dict, check: str) -> dict:
    found = _check(doc, check)
    assert found, check
    return found[0]


def _audit_export(tmp_path_factory, name: str, config_: dict | None = None, **knobs) -> tuple[dict, dict]:
    out = tmp_path_factory.mktemp(name)
    truth = synth.generate(out / "gen", **{**SMALL_EXPORT, **knobs})
    con = db.connect(out / "audit.duckdb")
    try:
        ingest.ingest(con, [str(out / "gen" / "traces.otlp.jsonl")])
    finally:
        con.close()
    return truth, audit.run(out / "audit.duckdb", config_ or {})


@pytest.fixture(scope="module")
def read_only_agent(tmp_path_factory):
    """An agent without write tools (so no policy decisions, approvals or audit records either)."""
    return _audit_export(tmp_path_factory, "readonly", writes=False)


@pytest.fixture(scope="module")
def no_policy_spans(tmp_path_factory):
    """Writes, but the exporter sends no policy decision or approval spans."""
    return _audit_export(tmp_path_factory, "nopolicy", policy=False, generic_http=False)


@pytest.fixture(scope="module")
def configured(demo):
    """The demo database audited with a config declaring SLOs, budgets, an allow-list and overrides."""
    truth = demo["truth"]
    tools = dict(truth["tools_seen"])
    cfg = {
        "slo": {
            "session_p95_ms": truth["latency"]["session"]["p95"] / 2,
            "step_p95_ms": {"llm": truth["latency"]["steps"]["llm"]["p95"] * 2},
        },
        "budgets": {"max_tokens_per_task": 10**9, "max_tool_calls_per_task": 10**6, "max_latency_ms_per_task": 10**9},
        # lookup_order missing from the list, update_ticket listed read-only
        "tool_allowlist": {
            t: {"access": ("read" if t == "update_ticket" else a), "scopes": [f"{t}:x"]}
            for t, a in tools.items()
            if t != "lookup_order"
        },
        "thresholds": {
            "workflow.escalation-rule": truth["escalation"]["rate"] / 2,
            "cost.per-successful-task": truth["cost"]["per_successful_task"] / 2,
            "observe.required-fields": 0.5,
        },
        "success_predicate": "outcome IN ('success', 'escalated')",
        "pii_patterns": {truth["org_pii"]["entity"]: truth["org_pii"]["pattern"]},
    }
    return cfg, audit.run(demo["db"], cfg)


# ---------------------------------------------------------------- section 1


def test_task_success_and_escalation_equal_truth(demo):
    truth, doc = demo["truth"], demo["audit"]
    m = doc["metrics"]
    assert m["task_success_rate"] == pytest.approx(truth["task_success"]["rate"])
    assert m["escalation_rate"] == pytest.approx(truth["escalation"]["rate"])
    item = _one(doc, "task_success_rate")
    assert item["status"] == "PASS"
    assert item["evidence"]["successes"] == truth["task_success"]["successes"]
    assert item["evidence"]["judged"] == truth["sessions"]
    assert item["threshold"]["metric"] == "judged_share"  # the suite default, recorded on the item
    rows = {r["workflow"]: r for r in m["dashboards"]["escalation"]}
    for wf, t in truth["escalation"]["by_workflow"].items():
        assert (rows[wf]["sessions"], rows[wf]["escalated"]) == (t["sessions"], t["escalated"])
        assert rows[wf]["rate"] == pytest.approx(t["rate"])
    low, high = manifest.load(checks_dir() / "demo" / "readiness.yml").escalation_rate
    item = _one(doc, "escalation_rate")
    assert item["evidence"]["expected_range"] == [low, high] and item["threshold"]["value"] == high
    assert item["status"] == (
        "PASS" if all(low <= t["rate"] <= high for t in truth["escalation"]["by_workflow"].values()) else "FAIL"
    )


def test_success_predicate_from_config(demo, configured):
    truth = demo["truth"]
    _, doc = configured
    expected = (truth["outcomes"]["success"] + truth["outcomes"]["escalated"]) / truth["sessions"]
    assert doc["metrics"]["task_success_rate"] == pytest.approx(expected)
    assert doc["metrics"]["task_success_source"] == "config success_predicate"


@pytest.mark.parametrize(
    "predicate",
    [
        "outcome = 'success'; DROP TABLE spans",
        "outcome = (SELECT max(outcome) FROM sessions)",
        "read_text('/etc/passwd') <> ''",
        "no_such_column = 1",
        "tokens + 1",
        "outcome = 'success' -- comment",
    ],
)
def test_invalid_success_predicate_is_refused(tmp_path, predicate):
    with pytest.raises(ValueError):
        params.validate_predicate(predicate)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"success_predicate": predicate}))
    with pytest.raises(InputError, match="success_predicate"):
        config.load(path)


def test_latency_percentiles_equal_truth(demo):
    truth, doc = demo["truth"], demo["audit"]
    m = doc["metrics"]
    for q in ("p50", "p95", "p99"):
        assert m[f"latency_{q}_ms"] == pytest.approx(truth["latency"]["session"][q])
    steps = {r["step"]: r for r in m["dashboards"]["latency_per_step"]}
    expected = {k: v for k, v in truth["latency"]["steps"].items() if k != "agent"}
    assert set(steps) == set(expected)
    for step, t in expected.items():
        assert steps[step]["calls"] == t["n"]
        assert steps[step]["p50_ms"] == pytest.approx(t["p50"])
        assert steps[step]["p95_ms"] == pytest.approx(t["p95"])
    # the demo's manifest declares the SLOs: a session budget and one budget for every (non-human) step
    slos = manifest.load(checks_dir() / "demo" / "readiness.yml").slos
    ok = truth["latency"]["session"]["p95"] <= slos["session_p95_ms"] and all(
        t["p95"] <= slos["step_p95_ms"] for k, t in expected.items() if k != "approval"
    )
    item = _one(doc, "latency_slo")
    assert item["status"] == ("PASS" if ok else "FAIL")
    assert "manifest" in item["threshold"]["note"]


def test_latency_slo_needs_a_declared_slo(read_only_agent):
    truth, doc = read_only_agent
    item = _one(doc, "latency_slo")
    assert item["status"] == "NO_DATA" and "no latency SLO" in item["reason"]
    assert item["evidence"]["session_p95_ms"] == pytest.approx(truth["latency"]["session"]["p95"])
    assert doc["metrics"]["latency_p95_ms"] == pytest.approx(truth["latency"]["session"]["p95"])


def test_latency_slo_judged_against_config(demo, configured):
    truth = demo["truth"]
    _, doc = configured
    item = _one(doc, "latency_slo")
    assert item["status"] == "FAIL"  # session SLO set at half the observed P95, llm steps at twice theirs
    assert item["at_fault"] == ["session"]
    assert item["evidence"]["session_p95_ms"] == pytest.approx(truth["latency"]["session"]["p95"])


# ---------------------------------------------------------------- section 3


def test_required_fields_equal_truth(demo, configured):
    truth, doc = demo["truth"], demo["audit"]
    rows = {r["field"]: r for r in doc["metrics"]["required_fields"]}
    assert {f: {"applicable": r["applicable"], "present": r["present"]} for f, r in rows.items()} == truth[
        "required_fields"
    ]
    item = _one(doc, "required_fields")
    short = sorted(f for f, t in truth["required_fields"].items() if t["present"] / t["applicable"] < 0.99)
    assert short and sorted(item["at_fault"]) == short
    assert item["status"] == "FAIL"
    assert _one(configured[1], "required_fields")["status"] == "PASS"  # threshold override 0.5


def test_failure_taxonomy_equals_truth(demo):
    truth, doc = demo["truth"], demo["audit"]
    t = truth["failure_taxonomy"]
    reasons = {r["category"]: r for r in doc["metrics"]["dashboards"]["failure_reasons"]}
    assert {c: r["sessions"] for c, r in reasons.items()} == t["by_category"]
    for c, r in reasons.items():
        assert r["share"] == pytest.approx(t["by_category"][c] / t["failed"])
    item = _one(doc, "failure_taxonomy")
    assert item["value"] == pytest.approx(t["categorised"] / t["failed"])
    assert item["status"] == "FAIL" and item["at_fault"] == ["uncategorised"]


def test_audit_trail_finds_the_broken_link(demo):
    truth, doc = demo["truth"]["audit_trail"], demo["audit"]
    m = doc["metrics"]["audit_trail"]
    assert m["writes_without_record"] == truth["writes_without_record"] > 0
    assert m["hash_mismatches"] == len(truth["hash_mismatches"]) > 0
    assert m["dangling_links"] == m["forks"] == m["extra_chain_starts"] == 0
    item = _one(doc, "audit_trail")
    assert item["status"] == "FAIL"
    assert item["evidence"]["first_broken_record"] == truth["first_broken_record"]
    assert item["evidence"]["writes"] == truth["writes"]


def test_tool_calls_without_result(demo, tmp_path_factory):
    assert demo["audit"]["metrics"]["propagation_defects"]["tool_calls_without_result"] == 0
    truth, doc = _audit_export(tmp_path_factory, "missing", missing_results=4)
    assert doc["metrics"]["propagation_defects"]["tool_calls_without_result"] == truth["tool_results_missing"] == 4
    assert "tool_calls_without_result" in _one(doc, "trace_propagation")["at_fault"]


def test_org_pii_patterns_reach_the_scan(demo, configured):
    truth = demo["truth"]["org_pii"]
    assert truth["spans"] > 0
    entities = {(r["field"], r["entity"]) for r in demo["audit"]["metrics"]["pii_leaks"]["by_entity"]}
    assert ("tool_result", truth["entity"]) not in entities  # not a default pattern
    found = {
        (r["field"], r["entity"]): r["records_with_leak"] for r in configured[1]["metrics"]["pii_leaks"]["by_entity"]
    }
    assert found[("tool_result", truth["entity"])] == truth["spans"]


# ---------------------------------------------------------------- section 4


def test_tool_allowlist(demo, configured, no_policy_spans):
    truth, doc = demo["truth"], demo["audit"]
    item = _one(doc, "tool_allowlist")  # the manifest's tools: all there but the generic HTTP tool
    assert truth["generic_http_tools"] == ["http_request"]
    assert item["status"] == "FAIL" and item["at_fault"] == truth["generic_http_tools"]
    assert item["evidence"]["allow_list_source"].startswith("manifest tools")
    assert doc["metrics"]["generic_http_tools"] == truth["generic_http_tools"]
    item = _one(configured[1], "tool_allowlist")
    assert item["status"] == "FAIL"
    assert sorted(item["at_fault"]) == ["http_request", "lookup_order", "update_ticket"]
    assert item["evidence"]["allow_list_source"] == "config tool_allowlist"
    problems = {k.split(" ")[0]: v for k, v in item["evidence"]["problems"].items()}
    assert problems == {
        "http_request": "generic HTTP tool",
        "lookup_order": "not on the allow-list",
        "update_ticket": "writes, allow-listed read-only",
    }
    none_generic = _one(no_policy_spans[1], "tool_allowlist")
    assert none_generic["status"] == "NO_DATA" and "no tool allow-list" in none_generic["reason"]


def test_write_controls_equal_truth(demo):
    truth, doc = demo["truth"], demo["audit"]
    m = doc["metrics"]
    assert m["writes_without_gateway_decision"] == truth["gateway"]["without_decision"] > 0
    assert (
        m["unapproved_risky_writes"]
        == truth["risky_writes"]["without_approval"]
        == len(truth["unapproved_risky_writes"])
    )
    assert m["unapproved_writes_after_untrusted_input"] == truth["untrusted_writes"]["unapproved"] > 0
    for check in ("gateway_decisions", "risky_write_approvals", "untrusted_input_writes"):
        for item in _check(doc, check):
            assert item["status"] == "FAIL", check
    gateway = _one(doc, "gateway_decisions")
    assert gateway["evidence"]["writes"] == truth["gateway"]["writes"]
    assert gateway["at_fault"] == sorted(truth["gateway"]["by_tool"])
    untrusted = _one(doc, "untrusted_input_writes")
    assert untrusted["evidence"]["after_untrusted"] == truth["untrusted_writes"]["after_untrusted"]


def test_policy_violation_rate_equals_truth(demo):
    truth, doc = demo["truth"]["policy_violations"], demo["audit"]
    m = doc["metrics"]
    assert m["policy_violation_rate"] == pytest.approx(truth["rate"])
    assert m["attempted_actions"] == truth["attempted_actions"]
    item = _one(doc, "policy_violation_rate")
    assert item["status"] == "FAIL"
    assert item["evidence"]["violating_actions"] == truth["violating_actions"]
    assert item["evidence"]["by_kind"] == {k: v for k, v in truth["by_kind"].items() if v}
    decisions = {(r["rule"], r["decision"]): r["count"] for r in m["dashboards"]["policy_decisions"]}
    assert decisions == {(r["rule"], r["decision"]): r["count"] for r in demo["truth"]["policy_decisions"]}


def test_deny_reasons_equal_truth(demo):
    truth, doc = demo["truth"]["deny_reasons"], demo["audit"]
    item = _one(doc, "deny_reasons")
    missing = {k: v["missing"] for k, v in item["evidence"].items() if isinstance(v, dict) and v.get("missing")}
    expected = {f"decision:{d}": n for d, n in truth["without_reason"].items()}
    expected["approval:approved"] = truth["approvals_without_approver"]
    assert missing == expected
    assert item["status"] == "FAIL" and item["value"] == sum(expected.values())


def test_read_only_agent_has_no_data_for_write_checks(read_only_agent):
    truth, doc = read_only_agent
    assert truth["gateway"]["writes"] == 0
    for check in (
        "gateway_decisions",
        "risky_write_approvals",
        "untrusted_input_writes",
        "audit_trail",
        "policy_violation_rate",
        "deny_reasons",
    ):
        for item in _check(doc, check):
            assert item["status"] == "NO_DATA", check
            assert item["reason"]
    assert doc["metrics"]["dashboards"]["policy_decisions"] == []


def test_writes_without_policy_spans(no_policy_spans):
    truth, doc = no_policy_spans
    assert truth["gateway"]["without_decision"] == truth["gateway"]["writes"] > 0
    gateway = _one(doc, "gateway_decisions")
    assert gateway["status"] == "FAIL" and gateway["value"] == truth["gateway"]["writes"]
    assert _one(doc, "deny_reasons")["status"] == "NO_DATA"
    assert _one(doc, "untrusted_input_writes")["status"] == "NO_DATA"  # nothing marks input trust
    assert doc["metrics"]["policy_violation_rate"] == pytest.approx(truth["policy_violations"]["rate"]) == 1.0
    assert doc["metrics"]["dashboards"]["policy_decisions"] == []


# ---------------------------------------------------------------- section 5


def test_cost_per_task_equals_truth(demo, configured):
    truth, doc = demo["truth"]["cost"], demo["audit"]
    m = doc["metrics"]
    assert m["cost_per_task_p50"] == pytest.approx(truth["per_task_p50"])
    assert m["cost_per_task_p95"] == pytest.approx(truth["per_task_p95"])
    assert m["cost_per_successful_task_p50"] == pytest.approx(truth["successful_task_p50"])
    assert m["cost_per_successful_task"] == pytest.approx(truth["per_successful_task"])
    assert m["cost_total_usd"] == pytest.approx(truth["total_usd"])
    assert m["cost_source"] == {
        "exported_cost_spans": truth["exported_spans"],
        "priced_spans": truth["priced_spans"],
        "unpriced_spans": 0,
        "unusable_cost_spans": 0,
        "price_table_version": truth["price_table_version"],
    }
    rows = {r["workflow"]: r for r in m["dashboards"]["cost_per_task"]}
    assert set(rows) == set(truth["by_workflow"])
    for wf, t in truth["by_workflow"].items():
        assert rows[wf]["tasks"] == t["tasks"]
        assert rows[wf]["p50_usd"] == pytest.approx(t["p50"])
        assert rows[wf]["p95_usd"] == pytest.approx(t["p95"])
        assert rows[wf]["p50_successful_usd"] == pytest.approx(t["successful_p50"])
    item = _one(doc, "cost_per_successful_task")
    limit = item["threshold"]["value"]
    worst = max(t["per_successful_task"] for t in truth["by_workflow"].values())
    assert item["status"] == ("PASS" if worst <= limit else "FAIL")
    overridden = _one(configured[1], "cost_per_successful_task")
    assert overridden["threshold"]["value"] == pytest.approx(truth["per_successful_task"] / 2)
    assert overridden["status"] == "FAIL"


def _otlp_task(n: int, cost) -> dict:
    """One OTLP/JSON export: an agent root and one LLM call (gpt-4o, 1,000 in and 100 out tokens) with an
    exported cost ``cost`` (a number, or proto3 JSON's "NaN" / "Infinity")."""

    def kv(key, **value):
        return {"key": key, "value": value}

    trace, start = f"{n + 1:032x}", 1763000000000000000
    common = {"traceId": trace, "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**9), "kind": 1}
    root = {
        **common,
        "spanId": f"{n + 1:016x}",
        "name": "invoke_agent",
        "attributes": [
            kv("gen_ai.operation.name", stringValue="invoke_agent"),
            kv("gen_ai.conversation.id", stringValue=f"task-{n}"),
            kv("agentops.session.outcome", stringValue="success"),
        ],
    }
    llm = {
        **common,
        "spanId": f"{n + 101:016x}",
        "parentSpanId": root["spanId"],
        "name": "chat gpt-4o",
        "attributes": [
            kv("gen_ai.operation.name", stringValue="chat"),
            kv("gen_ai.conversation.id", stringValue=f"task-{n}"),
            kv("gen_ai.request.model", stringValue="gpt-4o"),
            kv("gen_ai.usage.input_tokens", intValue="1000"),
            kv("gen_ai.usage.output_tokens", intValue="100"),
            kv("agentops.cost.usd", doubleValue=cost),
        ],
    }
    return {"resourceSpans": [{"scopeSpans": [{"scope": {"name": "t"}, "spans": [root, llm]}]}]}


def test_costs_that_are_no_amount_are_left_out_not_fatal(tmp_path):
    """NaN, infinite and absurd exported costs (beyond $1e9 a span) do not stop the audit's money sums (exact
    decimals, which cannot hold them): those spans are priced from their tokens instead, and counted. A task of $20M is
    summed, and only the cost spread, whose squares it would overflow, is left NULL."""
    import json

    costs = [0.01, 1e30, "NaN", "Infinity", -1e12, 2e7]
    path = tmp_path / "odd-costs.jsonl"
    path.write_text("\n".join(json.dumps(_otlp_task(n, c)) for n, c in enumerate(costs)) + "\n")
    con = db.connect(tmp_path / "odd.duckdb")
    ingest.ingest(con, [str(path)])
    params.install(con, {}, None)
    total = metrics.run(con, "cost_per_task").filter(workflow="(all)").row(0, named=True)
    assert (total["exported_cost_spans"], total["priced_spans"], total["unpriced_spans"]) == (2, 4, 0)
    assert total["unusable_cost_spans"] == 4  # 1e30, NaN, Infinity, -1e12: counted, not silently dropped
    priced = [r[0] for r in con.execute("SELECT task_cost_usd FROM task_facts ORDER BY session_id").fetchall()]
    by_table = priced[1]  # task-1's span, priced from its tokens
    assert by_table > 0 and priced[1:5] == [by_table] * 4
    assert priced[0] == 0.01 and priced[5] == 2e7
    assert total["total_usd"] == pytest.approx(0.01 + 4 * by_table + 2e7)
    spread = metrics.run(con, "task_spread").row(0, named=True)
    assert spread["cost_tasks"] == 6 and spread["cost_sd"] is None and spread["tokens_sd"] == 0.0
    cat = catalog.load()
    ctx = AuditContext(con=con, catalog=cat, validator=Validator())
    (item,) = [i for i in cat.items if i.check == "cost_per_successful_task"]
    result = CHECKS["cost_per_successful_task"].fn(ctx, item)
    assert result.evidence["unusable_cost_spans"] == 4
    assert "4 span costs that are no amount left out" in result.display
    con.close()


def test_a_cost_that_is_no_amount_on_a_span_without_tokens_is_no_data(tmp_path):
    """A span whose only cost is NaN and which has no tokens has no cost at all: it is not priced at $0 (which
    passed the cost item), and the NO_DATA reason names the unusable cost."""
    import json

    task = _otlp_task(0, "NaN")
    llm = task["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    llm["attributes"] = [a for a in llm["attributes"] if "usage" not in a["key"]]
    path = tmp_path / "nan-cost.jsonl"
    path.write_text(json.dumps(task) + "\n")
    con = db.connect(tmp_path / "nan.duckdb")
    ingest.ingest(con, [str(path)])
    params.install(con, {}, None)
    total = metrics.run(con, "cost_per_task").filter(workflow="(all)").row(0, named=True)
    assert [total[k] for k in ("exported_cost_spans", "priced_spans", "unpriced_spans", "unusable_cost_spans")] == [
        0,
        0,
        0,
        1,
    ]
    cat = catalog.load()
    ctx = AuditContext(con=con, catalog=cat, validator=Validator())
    (item,) = [i for i in cat.items if i.check == "cost_per_successful_task"]
    result = CHECKS["cost_per_successful_task"].fn(ctx, item)
    assert result.status == "NO_DATA" and "1 span costs are no amount" in result.reason, result.reason
    con.close()


def test_tokens_per_task_equal_truth(demo):
    truth = demo["truth"]["tokens_per_task"]
    rows = {r["workflow"]: r for r in demo["audit"]["metrics"]["dashboards"]["tokens_per_task"]}
    assert set(rows) == set(truth)
    for wf, t in truth.items():
        for k in ("p50", "p95", "mean"):
            assert rows[wf][k] == pytest.approx(t[k])


def test_task_budgets_equal_truth(demo, configured):
    truth, doc = demo["truth"]["budgets"], demo["audit"]
    item = _one(doc, "task_budgets")
    assert item["status"] == "FAIL"
    assert item["evidence"]["budgets_source"] == "default"
    breached = {
        (b["budget"].replace("max_", "").replace("_per_task", "").replace("_ms", ""), b["session_id"])
        for b in item["evidence"]["breaches"]
    }
    expected = {(k, s) for k, sessions in truth["over"].items() for s in sessions}
    assert breached == expected and all(truth["over"].values())
    for name, limit in truth["limits"].items():
        if name in item["evidence"]:
            assert item["evidence"][name]["limit"] == limit
    relaxed = _one(configured[1], "task_budgets")
    assert relaxed["status"] == "PASS" and relaxed["evidence"]["budgets_source"] == "config"


def test_retry_caps_equal_truth(demo):
    truth, doc = demo["truth"], demo["audit"]
    item = _one(doc, "retry_caps")
    assert item["status"] == "FAIL"
    assert item["value"] == truth["retries"]["max_retries"] > 3
    assert item["evidence"]["calls_over_cap"] == truth["retries"]["calls_over_cap"]
    assert item["evidence"]["max_retries_by_tool"] == truth["retries"]["by_tool_max"]
    assert sorted(item["evidence"]["sessions_kept_calling"]) == truth["sessions_kept_calling"]
    assert truth["sessions_kept_calling"]


def test_model_routing_equals_truth(demo):
    truth, doc = demo["truth"]["routing"], demo["audit"]
    rows = {r["purpose"]: r for r in doc["metrics"]["model_routing"]}
    assert set(rows) == {p for p in truth if p in params.ROUTING_PURPOSES}
    assert rows["classify"]["calls"] == truth["classify"]["calls"]
    assert rows["classify"]["small_model_calls"] == truth["classify"]["small"] < truth["classify"]["calls"]
    for item in _check(doc, "model_routing"):
        assert item["status"] == "FAIL" and item["at_fault"] == ["classify"]


def test_strong_model_use_equals_truth(demo):
    """The demo runs every summary and some classifications on the large model: more than half of the
    strong-model calls are not planning, so cost.fast-model-routing fails, naming those purposes."""
    truth, doc = demo["truth"]["routing"], demo["audit"]
    (item,) = _check(doc, "strong_model_use")
    rows = {p: r for p, r in item["evidence"].items() if p in truth}
    assert rows == {p: {"calls": t["calls"], "strong_calls": t["calls"] - t["small"]} for p, t in truth.items()}
    strong = sum(t["calls"] - t["small"] for t in truth.values())
    assert item["evidence"]["strong_calls"] == strong
    outside = {p: t["calls"] - t["small"] for p, t in truth.items() if p != "decide" and t["calls"] > t["small"]}
    assert item["id"] == "cost.fast-model-routing"
    assert item["value"] == pytest.approx(sum(outside.values()) / strong) and item["value"] > 0.5
    assert item["status"] == "FAIL" and sorted(item["at_fault"]) == sorted(outside) == ["classify", "summarize"]
    assert item["evidence"]["query"] == "strong_model_use"


def test_cache_reads_equal_truth(demo):
    truth, doc = demo["truth"]["cache"], demo["audit"]
    m = doc["metrics"]["cache_reads"]
    assert (
        m["llm_calls"],
        m["calls_reporting_cache"],
        m["input_tokens"],
        m["cache_read_tokens"],
        m["oversized_prompts"],
    ) == (
        truth["llm_calls"],
        truth["calls_reporting_cache"],
        truth["input_tokens"],
        truth["cache_read_tokens"],
        truth["oversized_prompts"],
    )
    item = _one(doc, "cache_reads")
    assert item["value"] == pytest.approx(truth["share"])
    assert item["status"] == "FAIL" and item["at_fault"] == ["oversized_prompts"]


def test_cost_predictability_equals_truth(demo):
    truth, doc = demo["truth"]["cost"], demo["audit"]
    item = _one(doc, "cost_p95_predictable")
    assert item["value"] == pytest.approx(truth["daily_p95_cv"])
    assert item["evidence"]["daily_p95_usd"] == pytest.approx(truth["daily_p95"])
    assert item["status"] == ("PASS" if truth["daily_p95_cv"] <= item["threshold"]["value"] else "FAIL")


def test_week_over_week_checks_need_history(demo):
    for check in ("cost_wow_alert", "token_wow_alert", "consecutive_weeks"):
        item = _one(demo["audit"], check)
        assert item["status"] == "NO_DATA" and "needs weekly history" in item["reason"]


# ---------------------------------------------------------------- section 7


def test_versions_equal_truth(demo):
    truth, doc = demo["truth"]["versions"], demo["audit"]
    rows = {r["kind"]: r for r in doc["metrics"]["versions"]}
    assert {k: {"applicable": r["applicable"], "present": r["present"]} for k, r in rows.items()} == truth[
        "completeness"
    ]
    keys = ("kind", "scope", "from_version", "to_version", "changed_at")
    found = sorted(tuple(c[k] for k in keys) for c in doc["metrics"]["version_changes"])
    assert found == sorted(tuple(c[k] for k in keys) for c in truth["changes"]) and truth["changes"]
    item = _one(doc, "versions_present")
    assert item["status"] == "FAIL" and sorted(item["at_fault"]) == ["prompt", "tool_schema"]


# ---------------------------------------------------------------- contract


def test_threshold_overrides_change_the_verdict(demo, configured):
    assert _one(demo["audit"], "escalation_rate")["status"] == "PASS"
    item = _one(configured[1], "escalation_rate")
    assert item["status"] == "FAIL"
    assert item["threshold"]["note"] == "overridden by config"


def test_metrics_and_dashboards_contract(demo):
    m = demo["audit"]["metrics"]
    for key in (
        "sessions",
        "spans",
        "tool_calls",
        "trace_coverage",
        "orphan_spans",
        "tool_success",
        "task_success_rate",
        "escalation_rate",
        "pii_leaks",
        "policy_violation_rate",
        "unapproved_risky_writes",
        "cost_per_task_p50",
        "cost_per_task_p95",
        "cost_per_successful_task_p50",
        "latency_p95_ms",
    ):
        assert key in m and m[key] is not None, key
    shapes = {
        "cost_per_task": {
            "workflow": str,
            "tasks": int,
            "p50_usd": float,
            "p95_usd": float,
            "p50_successful_usd": (float, type(None)),
        },
        "latency_per_step": {"step": str, "calls": int, "p50_ms": float, "p95_ms": float},
        "tokens_per_task": {"workflow": str, "p50": float, "p95": float, "mean": float},
        "escalation": {"workflow": str, "sessions": int, "escalated": int, "rate": float},
        "policy_decisions": {"rule": str, "decision": str, "count": int},
        "failure_reasons": {"category": str, "sessions": int, "share": float},
    }
    assert set(m["dashboards"]) == set(shapes)
    for name, shape in shapes.items():
        assert m["dashboards"][name], name
        for row in m["dashboards"][name]:
            assert set(row) == set(shape), name
            for key, kind in shape.items():
                assert isinstance(row[key], kind) and not isinstance(row[key], bool), (name, key, row[key])


def test_empty_database_is_no_data_never_pass(tmp_path):
    db.connect(tmp_path / "empty.duckdb").close()
    doc = audit.run(tmp_path / "empty.duckdb")
    from agentops_audit.evaluators import CHECKS, cost, instrumentation, security, versions, workflow

    modules = {m.__name__ for m in (workflow, instrumentation, security, cost, versions)}
    mine = {n for n, c in CHECKS.items() if c.fn.__module__ in modules}
    for item in _items(doc).values():
        if item["check"] in mine:
            assert item["status"] == "NO_DATA", (item["id"], item["status"], item["reason"])
            assert item["reason"]
    assert all(rows == [] for rows in doc["metrics"]["dashboards"].values())


# ---------------------------------------------------------------- inputs and derived tables


def _assert_shadows_equal(db_path) -> None:
    con = db.connect(db_path, read_only=True)
    try:
        keys = {"sessions": ["session_id"]}
        schema_views = {v: db.frame(con, f"SELECT * FROM {v}").sort(k) for v, k in keys.items()}  # not yet shadowed
        params.install(con, {})
        for view, expected in schema_views.items():
            shadow = db.frame(con, f"SELECT * FROM {view}").sort(keys[view])
            assert db.scalar(
                con, "SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = ?", [view]
            ) or db.scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [view]), view
            assert shadow.columns == expected.columns, view
            assert shadow.equals(expected), view
    finally:
        con.close()


def test_shadowed_views_equal_the_schema_views(demo):
    """metrics/views shadows the sessions view with a TEMP table: same columns, same rows."""
    _assert_shadows_equal(demo["db"])


def test_shadowed_views_equal_the_schema_views_without_session_ids(tmp_path):
    """Spans without a session id take their trace's session (or the trace id), and sessions split over
    several traces count every trace, in the schema's views and in the audit's copy alike."""
    path = tmp_path / "a.duckdb"
    con = db.connect(path)
    con.execute("""
        INSERT INTO spans BY NAME
        SELECT * FROM (VALUES
            ('t1', 's1', NULL, 'sess-a', 'llm', TIMESTAMP '2026-11-02 10:00:00', 10, 0.5),
            ('t1', 's2', 's1', NULL, 'tool', TIMESTAMP '2026-11-02 10:00:01', NULL, NULL),
            ('t2', 's3', NULL, 'sess-a', 'tool', TIMESTAMP '2026-11-02 10:05:00', 5, 0.25),
            ('t3', 's4', NULL, NULL, 'llm', TIMESTAMP '2026-11-02 11:00:00', 7, NULL),
            ('t3', 's5', 's4', NULL, 'tool', TIMESTAMP '2026-11-02 11:00:02', NULL, NULL)
        ) v(trace_id, span_id, parent_span_id, session_id, span_type, start_time, input_tokens, cost_usd)""")
    con.execute("UPDATE spans SET end_time = start_time + INTERVAL 1 SECOND, source_id = 1")
    con.close()
    _assert_shadows_equal(path)
    con = db.connect(path, read_only=True)
    try:
        keys = db.frame(con, "SELECT span_id, session_key FROM span_sessions ORDER BY span_id").rows()
        params.install(con, {})
        rows = db.frame(con, "SELECT session_id, spans, traces FROM sessions ORDER BY session_id").rows()
    finally:
        con.close()
    assert keys == [("s1", "sess-a"), ("s2", "sess-a"), ("s3", "sess-a"), ("s4", "t3"), ("s5", "t3")]
    assert rows == [("sess-a", 3, 2), ("t3", 2, 1)]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"slo": {"session_p95_ms": "fast"}}, "slo"),
        ({"slo": {"p99_ms": 10}}, "slo"),
        ({"budgets": {"max_cost": 3}}, "budgets"),
        ({"budgets": {"max_tokens_per_task": "many"}}, "budgets"),
        ({"tool_allowlist": {"lookup_order": {"access": "admin"}}}, "tool_allowlist"),
        ({"routing": {"purposes": "classify"}}, "routing"),
        ({"price_table": "no-such-prices.yml"}, "price table"),
    ],
)
def test_bad_measure_settings_are_one_line_errors(tmp_path, setting, message):
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(setting))
    with pytest.raises(InputError, match=message):
        config.load(path)


def test_generic_http_tool_names(tmp_path):
    """Every word of the name generic and one naming a web request: generic; a named business tool is not."""
    names = {
        "http_request": True,
        "fetch": True,
        "fetch_url": True,
        "curl": True,
        "browse": True,
        "requests_get": True,
        "call_api": True,
        "web-fetch": True,
        "fetch_order": False,
        "get_customer": False,
        "send_email": False,
        "lookup_order": False,
    }
    con = db.connect(tmp_path / "tools.duckdb")
    try:
        for i, name in enumerate(names):
            con.execute(
                "INSERT INTO spans (trace_id, span_id, span_type, tool_name, tool_access) "
                "VALUES ('t', ?, 'tool', ?, 'read')",
                [f"s{i}", name],
            )
        params.install(con, {})
        found = {r["tool"]: r["generic_http"] for r in db.frame(con, metrics.METRICS["tool_allowlist"].sql).to_dicts()}
    finally:
        con.close()
    assert found == names


def test_a_per_agent_allow_list_sees_the_agent_a_tool_ran_for(tmp_path):
    """A real OpenAI Agents SDK handoff (OpenInference): refund_payment runs inside the 'billing' agent's span
    and names no agent itself. Allow-listed for billing in the manifest, it is not at fault."""
    export = Path(__file__).parent / "fixtures" / "real" / "openai-agents" / "handoff.otlp.jsonl"
    declared = "manifest_version: 1\ntools:\n  - {name: refund_payment, agent: billing, access: write}\n"
    (tmp_path / "readiness.yml").write_text(declared)
    con = db.connect(tmp_path / "a.duckdb")
    ingest.ingest(con, [str(export)])
    params.install(con, {}, manifest.load(tmp_path / "readiness.yml"))
    rows = metrics.run(con, "tool_allowlist").select("tool", "agent", "allow_listed", "problem").rows()
    assert rows == [("refund_payment", "billing", True, None)]
    con.close()
