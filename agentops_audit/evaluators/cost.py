"""Evaluators of section 5 (cost controls and unit economics): cost per successful task, task budgets,
retry caps, model routing, cache reads and the predictability of P95 cost per task.

Week-over-week alerts need audit history and are in ``weekly.py``.
"""

from __future__ import annotations

import polars as pl

from agentops_audit import words
from agentops_audit.catalog import Item
from agentops_audit.evaluators.base import AuditContext, check, judge, metric_of, threshold_of
from agentops_audit.metrics import overall_cost, params
from agentops_audit.results import NO_DATA, ItemResult

SPAN_COUNTS = ("exported_cost_spans", "priced_spans", "unpriced_spans", "unusable_cost_spans")


def cost_source(ctx: AuditContext) -> dict:
    """Where the cost figures come from: exported span costs, the price table (and its version), or neither;
    and how many span costs were no amount (NaN, infinite, beyond $1e9) and left out."""
    total = ctx.metric("cost_per_task").filter(pl.col("workflow") == "(all)")
    if total.is_empty():
        return {**dict.fromkeys(SPAN_COUNTS, 0), "price_table_version": None}
    row = total.row(0, named=True)
    return {k: row[k] for k in (*SPAN_COUNTS, "price_table_version")}


@check("cost_per_successful_task", metrics=("cost_per_task",))
def cost_per_successful_task(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("cost_per_task")
    source = cost_source(ctx)
    basis = {"query": "cost_per_task", **source}  # where the costs come from: the evidence of a NO_DATA
    if not overall_cost(ctx.metric("cost_per_task")):
        reasons = [
            f"{source['unpriced_spans']} LLM spans have tokens but a model missing from price table "
            f"{source['price_table_version']}"
            if source["unpriced_spans"]
            else "",
            f"{source['unusable_cost_spans']} span costs are no amount (NaN, infinite or beyond $1e9)"
            if source["unusable_cost_spans"]
            else "",
        ]
        why = "; ".join(r for r in reasons if r) or "no span exports a cost or tokens"
        return ItemResult(item.id, NO_DATA, reason=f"no cost information: {why}", evidence=basis)
    total = df.filter(pl.col("workflow") == "(all)").row(0, named=True)
    if not total["successful_tasks"]:
        return ItemResult(item.id, NO_DATA, reason="no successful task to divide the spend by", evidence=basis)
    workflows = df.filter(pl.col("workflow") != "(all)")
    threshold = threshold_of(ctx, item)
    over = [
        r["workflow"]
        for r in workflows.iter_rows(named=True)
        if r["cost_per_successful_task"] is None or not threshold.holds(r["cost_per_successful_task"])
    ]
    how = (
        f"{source['exported_cost_spans']} spans with exported cost, {source['priced_spans']} priced by table "
        f"{source['price_table_version']}"
        + (f", {source['unpriced_spans']} unpriced" if source["unpriced_spans"] else "")
        + (
            f", {source['unusable_cost_spans']} span costs that are no amount left out"
            if source["unusable_cost_spans"]
            else ""
        )
    )
    return judge(
        ctx,
        item,
        workflows,
        value=total["cost_per_successful_task"],
        display=f"${total['cost_per_successful_task']:.4f} per successful task (${total['total_usd']:.2f} over "
        f"{total['successful_tasks']} successes); per task P50 ${total['p50_usd']:.4f}, "
        f"P95 ${total['p95_usd']:.4f}; {how}",
        evidence={
            "query": "cost_per_task",
            **source,
            "total_usd": total["total_usd"],
            "tasks": total["tasks"],
            "successful_tasks": total["successful_tasks"],
            "cost_per_task_p50": total["p50_usd"],
            "cost_per_task_p95": total["p95_usd"],
            "by_workflow": {r["workflow"]: r["cost_per_successful_task"] for r in workflows.iter_rows(named=True)},
        },
        at_fault=over,
    )


@check("task_budgets", metrics=("task_budgets", "budget_breaches"), evidence=True)
def task_budgets(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("task_budgets")
    if df.is_empty() or not int(df["tasks"].max() or 0):
        return ItemResult(item.id, NO_DATA, reason="no tasks in the traces")
    breaches = ctx.metric("budget_breaches")
    source = df["source"][0]
    over = df.filter(pl.col("over_budget") > 0)
    return judge(
        ctx,
        item,
        df.select("budget", "limit_value", "tasks", "over_budget"),
        value=int(df["over_budget"].sum()),
        display=(
            ", ".join(
                f"{words.plural(r['over_budget'], 'task')} over {r['budget'].replace('_', ' ')} "
                f"({r['limit_value']:,.0f}; "
                f"largest {r['max_seen']:,.0f})"
                for r in over.iter_rows(named=True)
            )
            or f"no task over its budgets ({df['tasks'][0]} tasks)"
        )
        + ("" if source == "config" else "; budgets not declared, the toolkit defaults were used"),
        evidence={
            "query": "task_budgets, budget_breaches",
            "budgets_source": source,
            **{
                r["budget"]: {"limit": r["limit_value"], "over_budget": r["over_budget"], "max_seen": r["max_seen"]}
                for r in df.iter_rows(named=True)
            },
            "breaches": breaches.select("session_id", "budget", "value").to_dicts(),
        },
        at_fault=over["budget"].to_list() + breaches["session_id"].unique(maintain_order=True).head(10).to_list(),
    )


@check("retry_caps", metrics=("retry_counts", "error_streaks"), evidence=True, empty="no tool calls in the traces")
def retry_caps(ctx: AuditContext, item: Item) -> ItemResult:
    counts = ctx.metric("retry_counts")
    cap = threshold_of(ctx, item)
    streaks = ctx.metric("error_streaks")
    over = counts.filter(~pl.col("retries").map_elements(cap.holds, return_dtype=pl.Boolean))
    over_calls = int(over["logical_calls"].sum())
    table = pl.DataFrame(
        {
            "max_retries": [int(counts["retries"].max())],
            "calls_over_cap": [over_calls],
            "sessions_kept_calling": [streaks.height],
        }
    )
    parts = []
    if over_calls:
        parts.append(
            f"{words.plural(over_calls, 'call')} retried more than {cap.value:g} times (max "
            f"{int(counts['retries'].max())}: {', '.join(over['tool'].unique(maintain_order=True))})"
        )
    if streaks.height:
        parts.append(
            f"{words.plural(streaks.height, 'task')} kept calling tools after {params.ERROR_STREAK} failures in a row"
        )
    return judge(
        ctx,
        item,
        table,
        value=int(counts["retries"].max()),
        display="; ".join(parts)
        or f"no call retried more than {cap.value:g} times, no task kept calling after "
        f"{params.ERROR_STREAK} failures in a row",
        evidence={
            "query": "retry_counts, error_streaks",
            "logical_calls": int(counts["logical_calls"].sum()),
            "calls_over_cap": over_calls,
            "error_streak": params.ERROR_STREAK,
            "max_retries_by_tool": {
                r["tool"]: r["retries"]
                for r in counts.group_by("tool").agg(pl.col("retries").max()).sort("tool").iter_rows(named=True)
            },
            "sessions_kept_calling": streaks["session_id"].to_list(),
        },
        at_fault=over["tool"].unique(maintain_order=True).to_list() + streaks["session_id"].head(10).to_list(),
    )


@check("model_routing", metrics=("model_routing",))
def model_routing(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("model_routing")
    small = [p.model for p in params.price_table(ctx.config).models.values() if p.tier == "small"]
    small += (ctx.config.get("routing") or {}).get("small_models") or []
    if not small:
        return ItemResult(item.id, NO_DATA, reason="the price table names no small-tier model")
    if df.is_empty():
        purposes = (ctx.config.get("routing") or {}).get("purposes") or list(params.ROUTING_PURPOSES)
        return ItemResult(
            item.id, NO_DATA, reason=f"no LLM call says its purpose is {' or '.join(purposes)} (agentops.llm.purpose)"
        )
    calls, on_small = int(df["calls"].sum()), int(df["small_model_calls"].sum())
    threshold = threshold_of(ctx, item)
    return judge(
        ctx,
        item,
        df.select("purpose", "calls", "small_model_calls", "small_share"),
        value=on_small / calls,
        display=f"{on_small} of {calls} {'/'.join(df['purpose'])} calls on a small model ({on_small / calls:.1%})"
        + "".join(
            f"; {r['purpose']} also on {r['other_models']}" for r in df.iter_rows(named=True) if r["other_models"]
        ),
        evidence={
            "query": "model_routing",
            "small_models": sorted(small),
            **{
                r["purpose"]: {"calls": r["calls"], "small_model_calls": r["small_model_calls"]}
                for r in df.iter_rows(named=True)
            },
        },
        at_fault=[r["purpose"] for r in df.iter_rows(named=True) if not threshold.holds(r["small_share"])],
    )


@check(
    "strong_model_use",
    metrics=("strong_model_use",),
    suite={
        "table": "strong_model_use",
        "default": {
            "metric": "strong_calls_outside_planning",
            "op": "<=",
            "value": 0.5,
            "unit": "ratio",
            "note": "002: a stronger model only for complex planning",
        },
        "expectations": [{"type": "expect_column_values_to_be_between", "column": "outside_planning", "bound": True}],
    },
)
def strong_model_use(ctx: AuditContext, item: Item) -> ItemResult:
    """The share of strong-model calls (a model the price table does not tier small) spent on anything
    but planning; the purposes that take most of them are at fault."""
    df = metric_of(ctx, item)
    strong = int(df["strong_calls"].sum()) if not df.is_empty() else 0
    if not strong:
        return ItemResult(
            item.id,
            NO_DATA,
            reason="no LLM call on a strong model (every model is tiered small, or there are no LLM calls)",
        )
    outside = df.filter(~pl.col("planning") & (pl.col("strong_calls") > 0))
    share = int(outside["strong_calls"].sum()) / strong
    shown = ", ".join(f"{r['purpose']} {r['strong_calls']}" for r in outside.iter_rows(named=True))
    return judge(
        ctx,
        item,
        pl.DataFrame({"outside_planning": [share]}),
        value=share,
        display=f"{share:.0%} of {strong} strong-model calls are not planning" + (f" ({shown})" if shown else ""),
        evidence={
            "strong_calls": strong,
            **{
                r["purpose"]: {"calls": r["calls"], "strong_calls": r["strong_calls"]} for r in df.iter_rows(named=True)
            },
        },
        at_fault=outside["purpose"].to_list(),
    )


@check("cache_reads", metrics=("cache_reads",))
def cache_reads(ctx: AuditContext, item: Item) -> ItemResult:
    row = ctx.metric("cache_reads").row(0, named=True)
    if not row["llm_calls"]:
        return ItemResult(item.id, NO_DATA, reason="no LLM calls in the traces")
    if not row["calls_reporting_cache"]:
        return ItemResult(
            item.id,
            NO_DATA,
            reason="no LLM call reports cache-read tokens (gen_ai.usage.cache_read.input_tokens)",
            evidence={"query": "cache_reads", **row},
        )
    share = row["cache_read_share"] or 0.0
    return judge(
        ctx,
        item,
        ctx.metric("cache_reads").with_columns(pl.col("cache_read_share").fill_null(0.0)),
        value=share,
        display=f"{share:.1%} of input tokens read from cache ({row['cache_read_tokens']:,} of "
        f"{row['input_tokens']:,}; "
        f"{row['calls_reporting_cache']:,} of {row['llm_calls']:,} calls report cache reads); "
        f"{words.plural(row['oversized_prompts'], 'prompt')} over {row['max_input_tokens_per_call']:,.0f} "
        "tokens",
        evidence={"query": "cache_reads", **row},
        at_fault=(["oversized_prompts"] if row["oversized_prompts"] else []),
    )


@check("cost_p95_predictable", metrics=("cost_daily_p95", "task_budgets", "cost_per_task"))
def cost_p95_predictable(ctx: AuditContext, item: Item) -> ItemResult:
    days = ctx.metric("cost_daily_p95")
    if not overall_cost(ctx.metric("cost_per_task")):
        return ItemResult(item.id, NO_DATA, reason="no cost information (no exported or priceable spans)")
    if days.height < params.MIN_DAYS:
        return ItemResult(
            item.id,
            NO_DATA,
            reason=f"{days.height} days with at least {params.MIN_TASKS_PER_DAY} "
            f"tasks; {params.MIN_DAYS} are needed to judge day-to-day variation",
        )
    mean, std = days["p95_usd"].mean(), days["p95_usd"].std()
    cv = std / mean if mean else 0.0
    breaches = int(ctx.metric("task_budgets")["over_budget"].sum())
    return judge(
        ctx,
        item,
        pl.DataFrame({"days": [days.height], "daily_p95_cv": [cv]}),
        value=cv,
        display=f"daily P95 cost per task varies by {cv:.1%} of its mean over {days.height} days "
        f"(${days['p95_usd'].min():.4f} to ${days['p95_usd'].max():.4f}); {breaches} budget breaches",
        evidence={
            "query": "cost_daily_p95",
            "days": days.height,
            "mean_p95_usd": mean,
            "std_p95_usd": std,
            "daily_p95_usd": {str(r["day"]): r["p95_usd"] for r in days.iter_rows(named=True)},
            "budget_breaches": breaches,
        },
        at_fault=[],
    )
