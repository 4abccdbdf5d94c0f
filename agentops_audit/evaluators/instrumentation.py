"""Evaluators of section 3 (instrumentation and observability): required log fields, failure taxonomy,
the write audit trail and its hash chain.

Coverage, propagation and PII leaks live in ``traces.py``.
"""

from __future__ import annotations

import polars as pl

from agentops_audit import words
from agentops_audit.catalog import Item
from agentops_audit.evaluators.base import AuditContext, check, judge, no_writes, threshold_of, with_classes
from agentops_audit.results import ItemResult

TAXONOMY = ("tool_error", "missing_context", "ambiguity", "model_refusal", "policy_block")
UNCATEGORISED = "uncategorised"

# NO_DATA: the main metric has no rows
NO_FAILED_TASKS = "no failed tasks (agentops.session.outcome = failure) to categorise"


@check("required_fields", metrics=("required_fields",), empty="no spans in the traces")
def required_fields(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("required_fields")
    threshold = threshold_of(ctx, item)
    short = [r["field"] for r in df.iter_rows(named=True) if not threshold.holds(r["completeness"])]
    worst = df.row(0, named=True)
    absent = sorted(
        {
            "model_name",
            "model_version",
            "prompt_version",
            "retrieval_doc_ids",
            "retrieval_timestamp",
            "tool_args",
            "tool_result",
            "latency",
            "outcome",
        }
        - set(df["field"])
    )
    return judge(
        ctx,
        item,
        df,
        value=worst["completeness"],
        display=f"least complete: {words.field(worst['field'])}, on {worst['completeness']:.1%} of "
        f"{words.RECORDS.get(worst['applies_to'], worst['applies_to'])} ({worst['present']:,} of "
        f"{worst['applicable']:,})"
        + (f"; no {', '.join(words.field(a) for a in absent)} to check (no spans of that type)" if absent else ""),
        evidence={
            "query": "required_fields",
            "not_applicable": absent,
            **{r["field"]: {"applicable": r["applicable"], "present": r["present"]} for r in df.iter_rows(named=True)},
        },
        at_fault=short,
    )


@check("failure_taxonomy", metrics=("failure_taxonomy",), evidence=True, empty=NO_FAILED_TASKS)
def failure_taxonomy(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("failure_taxonomy")
    failed = int(df["sessions"].sum())
    uncategorised = int(df.filter(pl.col("category") == UNCATEGORISED)["sessions"].sum())
    categorised = failed - uncategorised
    share = categorised / failed
    outside = sorted(c for c in df["category"] if c not in TAXONOMY and c != UNCATEGORISED)
    table = pl.DataFrame({"failed": [failed], "categorised": [categorised], "categorised_share": [share]})
    top = ", ".join(f"{str(r['category']).replace('_', ' ')} {r['sessions']}" for r in df.head(5).iter_rows(named=True))
    return judge(
        ctx,
        item,
        table,
        value=share,
        display=f"{categorised} of {failed} failed tasks carry a category ({share:.1%}); {top}",
        evidence={
            "query": "failure_taxonomy",
            "failed": failed,
            "categorised": categorised,
            "by_category": {r["category"]: r["sessions"] for r in df.iter_rows(named=True)},
            "outside_taxonomy": outside,
        },
        at_fault=[UNCATEGORISED] if uncategorised else [],
    )


@check("audit_trail", metrics=("gateway_decisions", "audit_trail", "audit_chain_breaks"), evidence=True)
def audit_trail(ctx: AuditContext, item: Item) -> ItemResult:
    writes = int(ctx.metric("gateway_decisions")["writes"].sum())
    if not writes:
        return no_writes(ctx, item)
    df = ctx.metric("audit_trail")
    breaks = ctx.metric("audit_chain_breaks")
    bad = df.filter(pl.col("count") > 0)
    first = breaks.row(0, named=True) if not breaks.is_empty() else None
    display = ", ".join(words.defects(r["count"], r["defect"]) for r in bad.iter_rows(named=True))
    if first:
        display += f"; first broken link: record {first['record_id']} ({first['tool']}, {first['problem']})"
    return with_classes(
        ctx,
        judge(
            ctx,
            item,
            df.select("defect", "count"),
            value=int(df["count"].sum()),
            display=display or f"all {words.plural(writes, 'write')} have an audit record and the hash chain verifies",
            evidence={
                "query": "audit_trail",
                "writes": writes,
                **{r["defect"]: r["count"] for r in df.iter_rows(named=True)},
                "first_broken_record": first["record_id"] if first else None,
                "broken_records": breaks["record_id"].to_list(),
            },
            at_fault=bad["defect"].to_list() + breaks["record_id"].head(5).to_list(),
        ),
    )
