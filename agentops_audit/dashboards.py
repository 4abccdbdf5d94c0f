"""The measured numbers of ``audit.json``: headline metrics and the dashboard tables the report renders.

Both read the audit context's cached metric frames (DuckDB has computed them), so they add no query of
their own; each dashboard is a list of plain dicts, empty when there is no data.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from agentops_audit.evaluators.base import AuditContext
from agentops_audit.evaluators.cost import cost_source
from agentops_audit.metrics import overall_cost, params

DASHBOARD_COLUMNS = {
    "cost_per_task": ("workflow", "tasks", "p50_usd", "p95_usd", "p50_successful_usd"),
    "latency_per_step": ("step", "calls", "p50_ms", "p95_ms"),
    "tokens_per_task": ("workflow", "p50", "p95", "mean"),
    "escalation": ("workflow", "sessions", "escalated", "rate"),
    "policy_decisions": ("rule", "decision", "count"),
    "failure_reasons": ("category", "sessions", "share"),
}


def _plain(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def _rows(df: pl.DataFrame, columns: tuple[str, ...] | None = None) -> list[dict]:
    df = df.select(columns) if columns else df
    return [{k: _plain(v) for k, v in r.items()} for r in df.iter_rows(named=True)]


def dashboards(ctx: AuditContext) -> dict[str, list[dict]]:
    """The dashboard tables: cost and tokens per task, step latency, escalation, policy decisions,
    failure reasons (failed tasks without a category as 'uncategorised')."""
    cost = ctx.metric("cost_per_task").filter(pl.col("workflow") != "(all)")
    return {
        "cost_per_task": _rows(cost, DASHBOARD_COLUMNS["cost_per_task"]),
        "latency_per_step": _rows(ctx.metric("step_latency"), DASHBOARD_COLUMNS["latency_per_step"]),
        "tokens_per_task": _rows(ctx.metric("tokens_per_task"), DASHBOARD_COLUMNS["tokens_per_task"]),
        "escalation": _rows(ctx.metric("escalation"), DASHBOARD_COLUMNS["escalation"]),
        "policy_decisions": _rows(ctx.metric("policy_decisions"), DASHBOARD_COLUMNS["policy_decisions"]),
        "failure_reasons": _rows(ctx.metric("failure_taxonomy"), DASHBOARD_COLUMNS["failure_reasons"]),
    }


def headline(ctx: AuditContext) -> dict:
    """The measured metrics of sections 1, 3, 4, 5 and 7 (beyond volume, coverage, tool success and PII)."""
    tasks = ctx.metric("task_success")
    judged = int(tasks["judged"].sum()) if not tasks.is_empty() else 0
    escalation = ctx.metric("escalation")
    outcomes = int(escalation["sessions"].sum()) if not escalation.is_empty() else 0
    cost = overall_cost(ctx.metric("cost_per_task"))
    latency = ctx.metric("session_latency").row(0, named=True)
    violations = ctx.metric("policy_violation_rate").row(0, named=True)
    risky = ctx.metric("risky_writes")
    counts = ctx.metric("retry_counts")
    return {
        "task_success_rate": int(tasks["successes"].sum()) / judged if judged else None,
        "task_success_source": params.success_source(ctx.config, ctx.manifest),
        "escalation_rate": int(escalation["escalated"].sum()) / outcomes if outcomes else None,
        "latency_p50_ms": latency["p50_ms"],
        "latency_p95_ms": latency["p95_ms"],
        "latency_p99_ms": latency["p99_ms"],
        "cost_per_task_p50": cost.get("p50_usd"),
        "cost_per_task_p95": cost.get("p95_usd"),
        "cost_per_successful_task": cost.get("cost_per_successful_task"),
        "cost_per_successful_task_p50": cost.get("p50_successful_usd"),
        "cost_total_usd": cost.get("total_usd"),
        "cost_source": cost_source(ctx),
        "policy_violation_rate": violations["rate"],
        "policy_violations": _rows(ctx.metric("policy_violations")),
        "attempted_actions": violations["attempted_actions"],
        "unapproved_risky_writes": int(risky["without_approval"].sum()) if not risky.is_empty() else 0,
        "writes_without_gateway_decision": int(ctx.metric("gateway_decisions")["without_decision"].sum()),
        "unapproved_writes_after_untrusted_input": int(ctx.metric("untrusted_writes")["without_approval"].sum()),
        "decisions_without_reason": _rows(ctx.metric("deny_reasons")),
        "generic_http_tools": sorted(ctx.metric("tool_allowlist").filter(pl.col("generic_http"))["tool"].unique()),
        "required_fields": _rows(ctx.metric("required_fields")),
        "failure_categories": _rows(ctx.metric("failure_taxonomy")),
        "audit_trail": {r["defect"]: r["count"] for r in ctx.metric("audit_trail").iter_rows(named=True)},
        "audit_chain_breaks": _rows(ctx.metric("audit_chain_breaks")),
        "max_retries": int(counts["retries"].max()) if not counts.is_empty() else None,
        "sessions_kept_calling_after_errors": ctx.metric("error_streaks")["session_id"].to_list(),
        "model_routing": _rows(ctx.metric("model_routing")),
        "cache_reads": ctx.metric("cache_reads").row(0, named=True),
        "task_budgets": _rows(ctx.metric("task_budgets")),
        "daily_p95_cost": _rows(ctx.metric("cost_daily_p95")),
        "versions": _rows(ctx.metric("versions")),
        "version_changes": _rows(ctx.metric("version_changes")),
    }
