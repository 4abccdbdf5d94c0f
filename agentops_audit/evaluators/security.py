"""Evaluators of section 4 (security and permissions): tools against the allow-list and generic HTTP
tools, gateway decisions before writes, approvals of risky writes, writes after untrusted input, the
policy violation rate, and reasons/approvers recorded on decisions."""

from __future__ import annotations

import polars as pl

from agentops_audit.catalog import Item
from agentops_audit.evaluators.base import AuditContext, check, judge, no_writes, with_classes
from agentops_audit.metrics import params
from agentops_audit.results import NO_DATA, ItemResult

KIND_WORDS = {"deny": "denied"}  # policy violation kinds in words


def _writes(ctx: AuditContext) -> int:
    return int(ctx.metric("gateway_decisions")["writes"].sum())


@check("tool_allowlist", metrics=("tool_allowlist",), empty="no tool calls in the traces")
def tool_allowlist(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("tool_allowlist")
    allow, source = params.allowlist_of(ctx.config, ctx.manifest)
    allowed = sorted({e["tool"] for e in allow})
    bad = df.filter(pl.col("problem").is_not_null())
    generic = df.filter(pl.col("generic_http"))["tool"].unique(maintain_order=True).to_list()
    evidence = {
        "query": "tool_allowlist",
        "tools_seen": df["tool"].n_unique(),
        "allow_list": allowed,
        "allow_list_source": source,
        "generic_http_tools": generic,
        "problems": {_who(r): r["problem"] for r in bad.iter_rows(named=True)},
        "unused_allowed_tools": sorted(set(allowed) - set(df["tool"])),
    }
    if not allow and not generic:
        return ItemResult(
            item.id,
            NO_DATA,
            evidence=evidence,
            reason="no tool allow-list declared (the readiness manifest's tools); "
            f"tools seen: {', '.join(df['tool'].unique(maintain_order=True))}",
        )
    problems = "; ".join(f"{_who(r)}: {r['problem']}" for r in bad.iter_rows(named=True))
    prefix = "" if allow else "no allow-list declared, but "
    return judge(
        ctx,
        item,
        df.select("tool", "agent", "calls", "problem"),
        value=bad["tool"].n_unique(),
        display=prefix
        + (
            f"{bad['tool'].n_unique()} of {df['tool'].n_unique()} tools at fault ({problems})"
            if bad.height
            else f"all {df['tool'].n_unique()} tools seen are allow-listed with the access they use"
        ),
        evidence=evidence,
        at_fault=sorted(bad["tool"].unique()),
    )


def _unmet(df: pl.DataFrame, column: str) -> tuple[int, pl.DataFrame]:
    """How many writes lack what ``column`` counts (a decision, an approval), and the rows that have some."""
    return int(df[column].sum()), df.filter(pl.col(column) > 0)


def _who(row: dict) -> str:
    return row["tool"] if row["agent"] in (None, "(unknown)") else f"{row['tool']} ({row['agent']})"


@check("gateway_decisions", metrics=("gateway_decisions",), evidence=True)
def gateway_decisions(ctx: AuditContext, item: Item) -> ItemResult:
    if not _writes(ctx):
        return no_writes(ctx, item)
    return _lacking(
        ctx, item, "gateway_decisions", "without_decision", "write calls had no policy decision", "writes", "tool"
    )


@check("risky_write_approvals", metrics=("risky_writes",), evidence=True)
def risky_write_approvals(ctx: AuditContext, item: Item) -> ItemResult:
    if not _writes(ctx):
        return no_writes(ctx, item)
    if ctx.metric("risky_writes").is_empty():
        return ItemResult(
            item.id,
            NO_DATA,
            reason="no write carries a risk class (agentops.tool.risk, the manifest's "
            "tools or words in its name: money_movement, identity_change, "
            "production_change, external_comms)",
        )
    return _lacking(
        ctx, item, "risky_writes", "without_approval", "risky writes had no approval", "risky_writes", "risk"
    )


def _lacking(ctx: AuditContext, item: Item, metric: str, column: str, what: str, total: str, by: str) -> ItemResult:
    """Judged on the writes that lack what ``column`` of ``metric`` counts (a decision, an approval), per tool
    (and ``by``): ``what`` says it of the writes, ``total`` names their count in the evidence."""
    df = ctx.metric(metric)
    missing, bad = _unmet(df, column)
    rows = bad.iter_rows(named=True)
    listed = ", ".join(r["tool"] + (f" [{r[by]}]" if by != "tool" else "") + f" {r[column]}" for r in rows)
    writes = int(df["writes"].sum())
    return with_classes(
        ctx,
        judge(
            ctx,
            item,
            df,
            value=missing,
            display=f"{missing} of {writes} {what} before them" + (f" ({listed})" if missing else ""),
            evidence={
                "query": metric,
                total: writes,
                column: missing,
                f"by_{by}": {r[by]: r[column] for r in df.iter_rows(named=True)},
            },
            at_fault=bad["tool"].unique(maintain_order=True).to_list(),
        ),
    )


@check("untrusted_input_writes", metrics=("untrusted_writes",), evidence=True)
def untrusted_input_writes(ctx: AuditContext, item: Item) -> ItemResult:
    if not _writes(ctx):
        return no_writes(ctx, item)
    df = ctx.metric("untrusted_writes")
    marked = int(df["trust_marked_spans"].max())
    if not marked:
        return ItemResult(
            item.id,
            NO_DATA,
            reason="no span marks its input as untrusted (agentops.input.trust), "
            "so writes cannot be traced to untrusted text",
        )
    after = int(df["after_untrusted"].sum())
    missing, bad = _unmet(df, "without_approval")
    return with_classes(
        ctx,
        judge(
            ctx,
            item,
            df.drop("trust_marked_spans"),
            value=missing,
            display=f"{missing} writes followed untrusted input without an approval ({after} writes after untrusted "
            f"input, of {int(df['writes'].sum())})",
            evidence={
                "query": "untrusted_writes",
                "writes": int(df["writes"].sum()),
                "after_untrusted": after,
                "without_approval": missing,
                "trust_marked_spans": marked,
            },
            at_fault=bad["tool"].to_list(),
        ),
    )


@check("policy_violation_rate", metrics=("policy_violation_rate", "policy_violations"))
def policy_violation_rate(ctx: AuditContext, item: Item) -> ItemResult:
    row = ctx.metric("policy_violation_rate").row(0, named=True)
    if not row["attempted_actions"]:
        return ItemResult(item.id, NO_DATA, reason="no attempted actions (write tool calls or denied attempts)")
    detail = ctx.metric("policy_violations")
    by_kind = detail.group_by("kind").agg(pl.col("violations").sum()).sort("kind")
    return with_classes(
        ctx,
        judge(
            ctx,
            item,
            ctx.metric("policy_violation_rate"),
            value=row["rate"],
            display=f"{row['violating_actions']} of {row['attempted_actions']} attempted actions violated policy "
            f"({row['rate']:.2%}: "
            + ", ".join(
                f"{r['violations']} {KIND_WORDS.get(r['kind'], r['kind'].replace('_', ' '))}"
                for r in by_kind.iter_rows(named=True)
            )
            + ")",
            evidence={
                "query": "policy_violation_rate, policy_violations",
                **row,
                "by_kind": {r["kind"]: r["violations"] for r in by_kind.iter_rows(named=True)},
                "by_rule": _sum_by(detail, "rule"),
                "by_tool": _sum_by(detail, "tool"),
                "by_agent": _sum_by(detail, "agent"),
            },
            at_fault=detail["rule"].unique(maintain_order=True).to_list(),
        ),
    )


def _sum_by(df: pl.DataFrame, key: str) -> dict:
    return {
        r[key]: r["violations"]
        for r in df.group_by(key)
        .agg(pl.col("violations").sum())
        .sort(["violations", key], descending=[True, False])
        .iter_rows(named=True)
    }


@check("deny_reasons", metrics=("deny_reasons",), evidence=True, empty="no policy decisions or approvals in the traces")
def deny_reasons(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("deny_reasons")
    missing = int(df["missing"].sum())
    bad = df.filter(pl.col("missing") > 0)
    what = ", ".join(
        f"{r['missing']} {r['record'].replace(':', ' ')} without "
        f"{'an approver' if r['record'].startswith('approval') else 'a reason'}"
        for r in bad.iter_rows(named=True)
    )
    return judge(
        ctx,
        item,
        df,
        value=missing,
        display=what or f"every one of {int(df['records'].sum())} decisions and approvals is explained",
        evidence={
            "query": "deny_reasons",
            **{r["record"]: {"records": r["records"], "missing": r["missing"]} for r in df.iter_rows(named=True)},
        },
        at_fault=bad["record"].to_list(),
    )
