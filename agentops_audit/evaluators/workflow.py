"""Evaluators of section 1 (workflow and success criteria): task success, escalation, latency SLOs.

``tool_success`` (also section 1) lives in ``traces.py``.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from agentops_audit.catalog import Item, Threshold
from agentops_audit.evaluators.base import AuditContext, check, judge, threshold_of, totals
from agentops_audit.metrics import params
from agentops_audit.results import NO_DATA, ItemResult

HUMAN_STEPS = ("approval",)  # waiting on a person is not agent latency: left out of the step SLO

# NO_DATA: the main metric has no rows
NO_OUTCOMES = "no task carries an outcome (agentops.session.outcome)"


@check("task_success_rate", metrics=("task_success",), evidence=True, empty="no tasks (sessions) in the traces")
def task_success_rate(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("task_success")
    counts = totals(df, "sessions", "judged", "successes")
    sessions, judged, successes = counts.values()
    source = params.success_source(ctx.config, ctx.manifest)
    if not judged:
        return ItemResult(
            item.id,
            NO_DATA,
            reason=f"no task can be judged pass/fail: {source} is missing on all {sessions} tasks",
            evidence={"query": "task_success"},
        )
    rate = successes / judged
    threshold = threshold_of(ctx, item)
    return judge(
        ctx,
        item,
        df,
        value=judged / sessions,
        display=f"{judged / sessions:.1%} of tasks judged pass or fail ({judged:,} of {sessions:,}, by {source}); "
        f"of those, {rate:.1%} succeeded ({successes:,})",
        evidence={
            "query": "task_success",
            "success_source": source,
            **counts,
            "success_rate": rate,
            "by_workflow": {r["workflow"]: r["success_rate"] for r in df.iter_rows(named=True)},
        },
        at_fault=[r["workflow"] for r in df.iter_rows(named=True) if not threshold.holds(r["judged_share"])],
    )


@check("escalation_rate", metrics=("escalation",), evidence=True, empty=NO_OUTCOMES)
def escalation_rate(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("escalation")
    counts = totals(df, "sessions", "escalated")
    sessions, escalated = counts.values()
    low, high, threshold, source = _escalation_range(ctx, item)
    table = df.with_columns(low=pl.lit(low), high=pl.lit(high))
    out = [r["workflow"] for r in df.iter_rows(named=True) if not (r["rate"] > 0 and low <= r["rate"] <= high)]
    per = ", ".join(f"{r['workflow']} {r['rate']:.1%}" for r in df.iter_rows(named=True))
    return judge(
        ctx,
        item,
        table,
        threshold=threshold,
        value=escalated / sessions,
        display=f"{escalated} of {sessions} tasks handed off ({escalated / sessions:.1%}; {per}); expected "
        f"{f'at least {low:.0%}' if low else 'above 0'} and at most {high:.0%} ({source})",
        evidence={
            "query": "escalation",
            **counts,
            "expected_range": [low, high],
            "range_source": source,
        },
        at_fault=out,
    )


def _escalation_range(ctx: AuditContext, item: Item) -> tuple[float, float, Threshold, str]:
    """(low, high, threshold to record, source): the manifest's escalation_rate when declared, a config
    threshold override replacing its upper end; else (0, the item's threshold)."""
    default = threshold_of(ctx, item)
    declared = ctx.manifest.escalation_rate if ctx.manifest is not None else None
    overridden = item.id in (ctx.config.get("thresholds") or {})
    if declared and not overridden:
        low, high = declared
        note = f"manifest escalation_rate ({ctx.manifest.where('workflow.escalation_rate')}): from {low:g} to {high:g}"
        return low, high, replace(default, value=high, note=note), "manifest"
    return 0.0, default.value, default, "config threshold" if overridden else "toolkit default"


@check("latency_slo", metrics=("session_latency", "step_latency"))
def latency_slo(ctx: AuditContext, item: Item) -> ItemResult:
    session = ctx.metric("session_latency").row(0, named=True)
    steps = ctx.metric("step_latency")
    observed = {
        "session_p50_ms": session["p50_ms"],
        "session_p95_ms": session["p95_ms"],
        "session_p99_ms": session["p99_ms"],
        **{f"{r['step']}_p95_ms": r["p95_ms"] for r in steps.iter_rows(named=True)},
    }
    if not session["sessions"]:
        return ItemResult(item.id, NO_DATA, reason="no tasks with a start and end time in the traces")
    slo = params.slo_of(ctx.config, ctx.manifest)
    if slo["session_p95_ms"] is None and not slo["step_p95_ms"]:
        return ItemResult(
            item.id,
            NO_DATA,
            reason="no latency SLO declared (readiness manifest workflow.slos: "
            "session_p95_ms, step_p95_ms); observed task P95 "
            f"{session['p95_ms']:,.0f} ms",
            evidence={"query": "session_latency, step_latency", **observed},
        )
    rows = []
    if slo["session_p95_ms"] is not None:
        rows.append({"scope": "session", "p95_ms": session["p95_ms"], "budget_ms": slo["session_p95_ms"]})
    for r in steps.iter_rows(named=True):
        budget = slo["step_p95_ms"].get(r["step"], None if r["step"] in HUMAN_STEPS else slo["step_p95_ms"].get("*"))
        if budget is not None:
            rows.append({"scope": f"step:{r['step']}", "p95_ms": r["p95_ms"], "budget_ms": budget})
    if not rows:
        return ItemResult(
            item.id,
            NO_DATA,
            reason="the declared SLO names no step type seen in the traces",
            evidence={"query": "step_latency", **observed},
        )
    table = pl.DataFrame(rows)
    over = [r["scope"] for r in rows if r["p95_ms"] > r["budget_ms"]]
    worst = max(rows, key=lambda r: r["p95_ms"] / r["budget_ms"])
    budgets = ", ".join(f"{r['scope']} {r['budget_ms']:,.0f} ms" for r in rows)
    threshold = Threshold(
        metric=f"{worst['scope']}_p95_ms",
        op="<=",
        value=worst["budget_ms"],
        unit="ms",
        note=f"P95 latency SLO from {slo['source']}: {budgets}",
    )
    return judge(
        ctx,
        item,
        table,
        threshold=threshold,
        value=worst["p95_ms"],
        display=f"{worst['scope']} P95 {worst['p95_ms']:,.0f} ms against an SLO of {worst['budget_ms']:,.0f} ms"
        + (f"; over: {', '.join(over)}" if over else "; every declared SLO met"),
        evidence={"query": "session_latency, step_latency", "slo": slo, **observed},
        at_fault=over,
    )
