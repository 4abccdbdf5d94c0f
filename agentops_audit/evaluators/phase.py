"""The declared rollout phase against behaviour (``declared_phase_behaviour``): every tool call, by its
access and risk class, judged against what the phase the manifest (or the config) declares allows.

Every traced tool call is classified by the lowest phase that permits it: a read needs phase 1; a write to
a tool the manifest declares ``risk: low`` (drafts, internal notes) and that carries no risk class in the
trace needs phase 2; any other write needs phase 3 when an approval of that tool preceded it in the
session; an unapproved write needs phase 4 and is allowed there only within strict scopes (the manifest
lists the tool with scopes, the policy file allows it for the agent and does not demand approval "always");
otherwise no phase permits it. The item of the declared phase FAILs on any call that needs a higher phase;
the items of the other phases are NOT_APPLICABLE (above: not in force yet; below: superseded by the declared
phase). A call whose access is unknown (not traced, not in the manifest) makes the result NO_DATA unless a
violation is already found."""

from __future__ import annotations

import polars as pl

from agentops_audit.catalog import Item
from agentops_audit.evaluators.attested import NEVER, NO_MANIFEST, declared_phase
from agentops_audit.evaluators.base import AuditContext, check, judge
from agentops_audit.manifest import Manifest
from agentops_audit.results import NO_DATA, NOT_APPLICABLE, PASS, ItemResult


def classify(calls: pl.DataFrame, m: Manifest | None) -> pl.DataFrame:
    """Add ``access_used``, ``risk_used`` and ``needed_phase`` (None when the access is unknown) to the
    ``tool_call_classes`` frame: the lowest rollout phase that permits each group of calls."""
    rows = []
    for r in calls.iter_rows(named=True):  # one row per (agent, tool, access, risk, approval): a few rows
        declared = m.tool(r["tool"], r["agent"]) if m is not None else None
        access = r["access"] or (declared.access if declared else None)
        risk = r["risk"] or (declared.risk if declared else None)
        if access is None:
            needed = None
        elif access == "read":
            needed = 1
        elif risk == "low":
            needed = 2
        elif r["approved"]:
            needed = 3
        elif _within_scope(m, r["agent"], r["tool"]):
            needed = 4
        else:
            needed = NEVER
        rows.append({**r, "access_used": access, "risk_used": risk, "needed_phase": needed})
    return pl.DataFrame(
        rows, schema={**calls.schema, "access_used": pl.String, "risk_used": pl.String, "needed_phase": pl.Int64}
    )


def _within_scope(m: Manifest | None, agent: str | None, tool: str) -> bool:
    if m is None or m.policy is None:
        return False
    declared = m.tool(tool, agent)
    return (
        declared is not None
        and bool(declared.scopes)
        and m.policy.allows(agent, tool)
        and m.policy.approvals.get(tool) != "always"
    )


PHASE_RULES = {
    1: "no write at all",
    2: "writes only to tools declared risk: low (drafts, internal notes)",
    3: "every other write preceded by an approval",
    4: "unapproved writes only within declared scopes",
}


@check("declared_phase_behaviour", metrics=("tool_call_classes", "volume"))
def declared_phase_behaviour(ctx: AuditContext, item: Item) -> ItemResult:
    declared = declared_phase(ctx.manifest, ctx.config)
    if declared is None:
        return ItemResult(
            item.id,
            NO_DATA,
            reason="no declared rollout phase (set declared_phase in the readiness manifest)"
            if ctx.manifest
            else NO_MANIFEST,
        )
    source = ctx.manifest.where("declared_phase") if ctx.manifest and ctx.manifest.declared_phase else "config"
    if item.phase != declared:
        why = (
            f"declared phase {declared}: phase {item.phase} is not in force"
            if item.phase > declared
            else f"superseded by the declared phase {declared}, whose item checks the behaviour"
        )
        return ItemResult(item.id, NOT_APPLICABLE, reason=why, evidence={"declared_phase": declared})
    calls = ctx.metric("tool_call_classes")
    if ctx.metric("volume")["sessions"][0] == 0:
        return ItemResult(item.id, NO_DATA, reason="no sessions in the traces")
    table = classify(calls, ctx.manifest)
    table = table.with_columns(violations=pl.when(pl.col("needed_phase") > declared).then(pl.col("calls")).otherwise(0))
    bad = table.filter(pl.col("violations") > 0)
    unknown = table.filter(pl.col("needed_phase").is_null())
    writes = int(table.filter(pl.col("access_used") == "write")["calls"].sum())
    evidence = {
        "query": "tool_call_classes",
        "declared_phase": declared,
        "declared_in": source,
        "rule": PHASE_RULES[declared],
        "tool_calls": int(table["calls"].sum()),
        "write_calls": writes,
        "calls_beyond_phase": int(bad["calls"].sum()),
        "owner": ctx.manifest.owner_name if ctx.manifest else None,
    }
    if not bad.is_empty():
        evidence["sessions_beyond_phase"] = sorted({s for ss in bad["example_sessions"] for s in ss})[:10]
    if bad.is_empty() and not unknown.is_empty():
        tools = sorted(set(unknown["tool"]))
        return ItemResult(
            item.id,
            NO_DATA,
            reason=f"access unknown for {', '.join(tools)}: label "
            "agentops.tool.access in the traces or list the tools in the manifest",
            evidence=evidence,
        )
    if table.is_empty():
        return ItemResult(
            item.id, PASS, value=0, display=f"declared phase {declared}: no tool call in the traces", evidence=evidence
        )
    at_fault = sorted({f"{r['agent'] or '(no agent name)'}/{r['tool']}" for r in bad.iter_rows(named=True)})
    display = f"declared phase {declared} ({PHASE_RULES[declared]}): " + (
        ", ".join(
            f"{r['calls']} {_describe(r)} by {r['agent'] or '(no agent name)'}" for r in bad.iter_rows(named=True)
        )
        + " beyond the phase"
        if not bad.is_empty()
        else f"all {writes} writes within the phase"
    )
    return judge(
        ctx,
        item,
        table.select("agent", "tool", "access_used", "risk_used", "approved", "calls", "needed_phase", "violations"),
        value=int(bad["calls"].sum()),
        display=display,
        reason=display if not bad.is_empty() else "",
        evidence={k: v for k, v in evidence.items() if v is not None},
        at_fault=at_fault,
    )


def _describe(row: dict) -> str:
    kind = "unapproved" if not row["approved"] else "approved"
    risk = f" {row['risk_used']}" if row["risk_used"] and row["risk_used"] != "low" else ""
    return f"{kind}{risk} {row['tool']} write{'s' if row['calls'] != 1 else ''}"
