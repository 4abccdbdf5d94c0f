"""Evaluators computed from traces: coverage, propagation, tool success, PII leaks."""

from __future__ import annotations

import polars as pl

from agentops_audit import words
from agentops_audit.catalog import Item
from agentops_audit.evaluators.base import AuditContext, check, judge, threshold_of
from agentops_audit.results import NO_DATA, ItemResult


@check("trace_coverage", metrics=("trace_coverage",), evidence=True)
def trace_coverage(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("trace_coverage")
    row = df.row(0, named=True)
    if not row["all_sessions"]:
        return ItemResult(item.id, NO_DATA, reason="no sessions in the traces")
    estimated = row["method"] != "registry"
    how = "estimated from trace completeness (no session registry loaded)" if estimated else "from the registry"
    return judge(
        ctx,
        item,
        df.select("coverage"),
        value=row["coverage"],
        display=f"{row['coverage']:.1%} of sessions ({row['covered_sessions']}/{row['all_sessions']}), {how}",
        evidence={"query": "trace_coverage", **row},
    )


@check("trace_propagation", metrics=("trace_propagation", "volume"), evidence=True)
def trace_propagation(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("trace_propagation")
    spans = ctx.metric("volume")["spans"][0]
    if not spans:
        return ItemResult(item.id, NO_DATA, reason="no spans in the database")
    bad = df.filter(pl.col("count") > 0)
    total = int(df["count"].sum())
    display = ", ".join(words.defects(r["count"], r["defect"]) for r in bad.iter_rows(named=True))
    return judge(
        ctx,
        item,
        df.select("defect", "count"),
        value=total,
        display=display or "no propagation defects",
        evidence={
            "query": "trace_propagation",
            "spans": spans,
            **{r["defect"]: r["count"] for r in df.iter_rows(named=True)},
        },
        at_fault=bad["defect"].to_list(),
    )


@check("tool_success", metrics=("tool_success",), evidence=True, empty="no tool calls in the traces")
def tool_success(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("tool_success")
    threshold = threshold_of(ctx, item)
    worst = df.row(0, named=True)
    failing = [r["tool"] for r in df.iter_rows(named=True) if not threshold.holds(r["success_rate_after_retries"])]
    return judge(
        ctx,
        item,
        df,
        value=worst["success_rate_after_retries"],
        display=f"worst tool {worst['tool']}: {worst['success_rate_after_retries']:.2%} after retries "
        f"({worst['logical_failed']} of {worst['logical_calls']} calls failed)",
        evidence={
            "tools": df.height,
            "attempts": int(df["attempts"].sum()),
            "failed_attempts": int(df["failed_attempts"].sum()),
        },
        at_fault=failing,
    )


@check("pii_leak_rate", evidence=True)
def pii_leak_rate(ctx: AuditContext, item: Item) -> ItemResult:
    by_field, by_entity = ctx.pii_frames()
    if by_field.is_empty():
        return ItemResult(item.id, NO_DATA, reason="no stored prompt, completion or tool text to scan")
    scanned, leaked = int(by_field["records_scanned"].sum()), int(by_field["records_with_leak"].sum())
    findings = int(by_field["findings"].sum())
    rate = leaked / scanned
    # texts and findings are different counts (one text can hold several findings): say which is which
    per_field: dict[str, list[str]] = {}
    for r in by_entity.iter_rows(named=True):
        per_field.setdefault(words.field(r["field"]), []).append(words.entities(r["findings"], r["entity"]))
    kinds = "; ".join(f"{' and '.join(found)} in {field}" for field, found in per_field.items())
    return judge(
        ctx,
        item,
        by_field,
        value=rate,
        display=f"{leaked} of {scanned:,} stored texts leak personal data or secrets"
        + (f": {words.plural(findings, 'finding')} ({kinds})" if kinds else ""),
        evidence={
            "query": "pii_scan",
            "records_scanned": scanned,
            "records_with_leak": leaked,
            "findings": int(by_field["findings"].sum()),
        },
        at_fault=by_field.filter(pl.col("records_with_leak") > 0)["field"].to_list(),
    )
