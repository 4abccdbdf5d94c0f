"""Hand-made audit-document parts for the report tests.

These are literal inputs for the rendering code (charts, template), not results of an audit: tests of the
audit itself take their ground truth from the seeded generator's ``truth.json``.
"""

from __future__ import annotations

import copy

# The shapes of ``metrics.dashboards`` in audit.json (lists of plain dicts).
DASHBOARDS = {
    "cost_per_task": [
        {"workflow": "ticket-triage", "tasks": 310, "p50_usd": 0.041, "p95_usd": 0.182, "p50_successful_usd": 0.038},
        {
            "workflow": "refund-eligibility",
            "tasks": 90,
            "p50_usd": 0.122,
            "p95_usd": 0.394,
            "p50_successful_usd": 0.117,
        },
    ],
    "latency_per_step": [
        {"step": "llm", "calls": 1013, "p50_ms": 1480.0, "p95_ms": 3920.5},
        {"step": "tool", "calls": 905, "p50_ms": 320.0, "p95_ms": 1210.0},
        {"step": "retrieval", "calls": 400, "p50_ms": 45.0, "p95_ms": 160.0},
        {"step": "policy", "calls": 220, "p50_ms": 3.0, "p95_ms": 9.0},
    ],
    "tokens_per_task": [
        {"workflow": "ticket-triage", "p50": 2140, "p95": 6120, "mean": 2710.5},
        {"workflow": "refund-eligibility", "p50": 3880, "p95": 9410, "mean": 4420.0},
    ],
    "escalation": [
        {"workflow": "ticket-triage", "sessions": 310, "escalated": 22, "rate": 22 / 310},
        {"workflow": "refund-eligibility", "sessions": 90, "escalated": 14, "rate": 14 / 90},
    ],
    "policy_decisions": [
        {"rule": "refund.max_amount", "decision": "allow", "count": 61},
        {"rule": "refund.max_amount", "decision": "require_approval", "count": 12},
        {"rule": "refund.max_amount", "decision": "deny", "count": 3},
        {"rule": "ticket.update", "decision": "allow", "count": 140},
        {"rule": "email.external", "decision": "require_approval", "count": 9},
        {"rule": "email.external", "decision": "deny", "count": 2},
    ],
    "failure_reasons": [
        {"category": "tool_error", "sessions": 14, "share": 0.4},
        {"category": "missing_context", "sessions": 9, "share": 9 / 35},
        {"category": "ambiguity", "sessions": 7, "share": 0.2},
        {"category": "model_refusal", "sessions": 5, "share": 5 / 35},
    ],
}

TOOL_SUCCESS = {
    "lookup_order": {
        "attempts": 240,
        "failed_attempts": 38,
        "payload_only_failures": 9,
        "raw_success_rate": 0.842,
        "logical_calls": 213,
        "success_rate_after_retries": 0.9577,
    },
    "search_kb": {
        "attempts": 410,
        "failed_attempts": 12,
        "payload_only_failures": 0,
        "raw_success_rate": 0.971,
        "logical_calls": 400,
        "success_rate_after_retries": 1.0,
    },
}

PII_BY_FIELD = [
    {"field": "tool_result", "records_scanned": 905, "records_with_leak": 10, "findings": 11, "leak_rate": 10 / 905},
    {"field": "tool_args", "records_scanned": 905, "records_with_leak": 0, "findings": 0, "leak_rate": 0.0},
]

TRENDS = [
    {"metric": metric, "key": key, "week": week, "value": value}
    for (metric, key), values in {
        ("tool success (worst tool)", "tool_success_min"): [0.991, 0.987, 0.962],
        ("cost per task P95 (USD)", "cost_per_task_p95"): [0.15, 0.17, 0.21],
        ("trace coverage", "trace_coverage"): [0.93, 0.96, 0.975],
        ("tokens per task (mean)", "tokens_per_task"): [2500, 2620, 2900],
    }.items()
    for week, value in zip(["2026-W44", "2026-W45", "2026-W46"], values, strict=True)
]

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> <a href="javascript:window.__xss=3">x</a>'


def with_dashboards(doc: dict) -> dict:
    """A copy of ``doc`` with every dashboard and a three-week history filled from the literals above
    (tool success and PII per field only where ``doc`` has none)."""
    doc = copy.deepcopy(doc)
    doc["metrics"]["dashboards"] = copy.deepcopy(DASHBOARDS)
    if not doc["metrics"].get("tool_success"):
        doc["metrics"]["tool_success"] = copy.deepcopy(TOOL_SUCCESS)
    if not (doc["metrics"].get("pii_leaks") or {}).get("by_field"):
        doc["metrics"]["pii_leaks"] = {"by_field": copy.deepcopy(PII_BY_FIELD), "by_entity": []}
    doc["trends"] = copy.deepcopy(TRENDS)
    if doc.get("examples"):
        doc["examples"][0]["failure_category"] = "tool_error"
    return doc


def _item(n: int, status: str, hostile: str, **extra) -> dict:
    return {
        "id": f"x.item-{n}",
        "title": f"Item {n} {hostile}",
        "severity": "blocker",
        "phase": 1,
        "evidence_kind": "measured",
        "check": "tool_success" if n == 1 else f"check_{n}",
        "explain": f"Explains {hostile}",
        "source": {"document": "000", "title": f"Checklist {hostile}", "text": f"Source line {hostile}"},
        "threshold": {
            "metric": f"metric_{n}",
            "op": ">",
            "value": 0.995,
            "unit": "ratio",
            "note": f"overridden by config {hostile}" if n == 1 else hostile,
        },
        "status": status,
        "value": 0.5 if status == "FAIL" else None,
        "display": f"worst tool {hostile}: 50%" if status == "FAIL" else "",
        "reason": f"no data because {hostile}" if status == "NO_DATA" else "",
        "evidence": {"query": f"q {hostile}", "rows": 3, "note": hostile},
        "at_fault": [f"tool {hostile}"],
        "expectations": [],
        **extra,
    }


def hostile_doc() -> dict:
    """A hand-made audit document whose every free text (tools, rules, reasons, examples) carries XSS."""
    h = XSS
    sections = []
    for sid in range(1, 8):
        status = "FAIL" if sid == 1 else "NO_DATA"
        items = [_item(sid, status, h)]
        sections.append(
            {"id": sid, "title": f"Section {sid} {h}", "status": status, "counts": {status: 1}, "items": items}
        )
    tool = f"lookup {h}"
    return {
        "schema_version": "1",
        "toolkit_version": "0.1.0",
        "generated_at": f"2026-11-16T00:00:00+00:00 {h}",
        "database": f"/tmp/{h}.duckdb",
        "config_hash": "0" * 64,
        "config": {"declared_phase": 2, "note": h},
        "window": {"start": "2026-11-08 23:59:59.999000", "end": "2026-11-15 23:34:53.781783"},
        "verdict": "NO-GO",
        "recommended_phase": 0,
        "declared_phase": 2,
        "phases": {"1": f"Read-only {h}", "2": f"Drafts {h}", "3": "Constrained writes", "4": "Autonomous"},
        "next_phase_blockers": ["x.item-1"],
        "blockers": [
            {
                "item": "x.item-1",
                "title": f"Item 1 {h}",
                "section": 1,
                "section_title": f"Section 1 {h}",
                "severity": "blocker",
                "phase": 1,
                "status": "FAIL",
                "value": 0.5,
                "display": f"worst tool {h}: 50%",
                "threshold": "> 0.995 ratio",
                "at_fault": [tool],
                "owner": f"owner {h}",
            }
        ],
        "sections": sections,
        "metrics": {
            "sessions": 3,
            "traces": 3,
            "spans": 9,
            "llm_calls": 3,
            "tool_calls": 3,
            "trace_coverage": 1.0,
            "trace_coverage_method": "registry",
            "orphan_spans": 0,
            "propagation_defects": {},
            "tool_success": {
                tool: {
                    "attempts": 2,
                    "failed_attempts": 1,
                    "payload_only_failures": 1,
                    "raw_success_rate": 0.5,
                    "logical_calls": 1,
                    "success_rate_after_retries": 0.5,
                }
            },
            "pii_leaks": {
                "by_field": [
                    {
                        "field": f"tool_result {h}",
                        "records_scanned": 3,
                        "records_with_leak": 1,
                        "findings": 1,
                        "leak_rate": 1 / 3,
                    }
                ],
                "by_entity": [
                    {
                        "field": f"tool_result {h}",
                        "entity": f"email {h}",
                        "kind": "pii",
                        "records_with_leak": 1,
                        "findings": 1,
                        "masked_example": h,
                    }
                ],
            },
            "dashboards": {
                "cost_per_task": [
                    {"workflow": f"wf {h}", "tasks": 3, "p50_usd": 0.1, "p95_usd": 0.2, "p50_successful_usd": 0.1}
                ],
                "latency_per_step": [{"step": f"step {h}", "calls": 3, "p50_ms": 10.0, "p95_ms": 20.0}],
                "tokens_per_task": [{"workflow": f"wf {h}", "p50": 100, "p95": 200, "mean": 120.0}],
                "escalation": [{"workflow": f"wf {h}", "sessions": 3, "escalated": 1, "rate": 1 / 3}],
                "policy_decisions": [
                    {"rule": f"rule {h}", "decision": f"deny {h}", "count": 2},
                    {"rule": f"rule {h}", "decision": "allow", "count": 1},
                ],
                "failure_reasons": [{"category": f"reason {h}", "sessions": 1, "share": 1.0}],
            },
        },
        "trends": [{"metric": f"metric {h}", "week": f"W{w} {h}", "value": float(w)} for w in (1, 2)],
        "examples": [
            {
                "session_id": f"s {h}",
                "trace_id": f"t {h}",
                "failed_tools": tool,
                "failure_category": f"reason {h}",
                "spans": [
                    {
                        "depth": 0,
                        "name": f"agent {h}",
                        "span_type": "agent",
                        "status_code": "OK",
                        "duration_ms": 5.0,
                        "tool_name": None,
                        "error_type": None,
                        "tool_args": None,
                        "tool_result": None,
                    },
                    {
                        "depth": 1,
                        "name": f"execute_tool {tool}",
                        "span_type": "tool",
                        "status_code": "ERROR",
                        "duration_ms": 2.0,
                        "tool_name": tool,
                        "error_type": f"err {h}",
                        "tool_args": h,
                        "tool_result": h,
                    },
                ],
            }
        ],
        "provenance": {
            "inputs": [
                {
                    "path": f"/data/{h}.jsonl",
                    "format": "otlp",
                    "sha256": "a" * 64,
                    "size_bytes": 10,
                    "rows_read": 10,
                    "rows_loaded": 8,
                    "rows_duplicate": 1,
                    "rows_quarantined": 1,
                    "ingested_at": "2026-11-16T00:00:00",
                    "toolkit_version": "0.1.0",
                }
            ],
            "quarantine_by_reason": [{"reason": f"invalid JSON {h}", "rows": 1}],
        },
    }
