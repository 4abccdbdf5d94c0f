"""What the readiness manifest declares about the workflow's setup (``check: manifest.<field>``): the
workflow (against the traces' labels), the owner, the dashboards, the capability tiers, the backpressure
rule and the policy-as-code file (against the traced agent/tool pairs). The rules they share are in
``attested.py``.
"""

from __future__ import annotations

import polars as pl

from agentops_audit.catalog import Item
from agentops_audit.db import frame
from agentops_audit.evaluators.attested import (
    attested,
    manifest_evidence,
    not_declared,
    outcome,
)
from agentops_audit.evaluators.base import AuditContext
from agentops_audit.manifest import Manifest
from agentops_audit.results import FAIL, NO_DATA, PASS, WARN, ItemResult

# Which dashboard views each dashboard item asks for (item ids are stable, see checks/catalog.yml).
DASHBOARD_ITEMS = {
    "observe.workflow-dashboards": ("success_rate", "escalation_rate", "cost_per_successful_task", "latency"),
    "observe.three-dashboards": ("cost_per_task", "tool_success", "failure_reasons"),
}


@attested("manifest.workflow")
def workflow(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if not m.workflow:
        return not_declared(m, item, "workflow.name", "the workflow")
    seen = frame(ctx.con, "SELECT workflow, count(*) AS sessions FROM sessions GROUP BY ALL ORDER BY sessions DESC")
    total = int(seen["sessions"].sum()) if not seen.is_empty() else 0
    labelled = {r["workflow"]: r["sessions"] for r in seen.iter_rows(named=True) if r["workflow"] is not None}
    ev = manifest_evidence(ctx, m, None, workflow=m.workflow, sessions=total, sessions_by_workflow=labelled or None)
    ev["manifest"] = m.where("workflow.name")
    if not labelled:
        return ItemResult(
            item.id, PASS, display=f"{m.workflow} (the traces carry no workflow label to compare)", evidence=ev
        )
    share = labelled.get(m.workflow, 0) / total
    if m.workflow not in labelled:
        text = f"declared workflow {m.workflow} is not in the traces (seen: {', '.join(sorted(labelled))})"
        return ItemResult(item.id, FAIL, value=0.0, display=text, reason=text, evidence=ev, at_fault=["workflow.name"])
    others = {w: n for w, n in labelled.items() if w != m.workflow}
    if others:
        text = (
            f"{m.workflow} declared, but {sum(others.values())} of {total} sessions belong to other workflows "
            f"({', '.join(f'{w}: {n}' for w, n in sorted(others.items()))}); audit one workflow at a time"
        )
        return ItemResult(item.id, WARN, value=share, display=text, reason=text, evidence=ev, at_fault=sorted(others))
    return ItemResult(
        item.id, PASS, value=share, display=f"{m.workflow}: {labelled[m.workflow]} of {total} sessions", evidence=ev
    )


@attested("manifest.owner")
def owner(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if m.owner is None:
        return not_declared(m, item, "owner", "an owner")
    o = m.owner
    return ItemResult(
        item.id,
        PASS,
        display=f"{o.owner} ({o.data['contact']})",
        evidence=manifest_evidence(ctx, m, o, contact=o.data["contact"]),
    )


@attested("manifest.dashboards")
def dashboards(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if not m.dashboards:
        return not_declared(m, item, "dashboards", "dashboards")
    wanted = DASHBOARD_ITEMS[item.id]
    per_workflow = item.id == "observe.workflow-dashboards"
    boards = [d for d in m.dashboards if not per_workflow or d.data["workflow"] in (None, m.workflow)]
    shown = {view for d in boards for view in d.data["shows"]}
    problems = [
        (
            "dashboards",
            f"no dashboard shows {view.replace('_', ' ')}"
            + (f" for {m.workflow}" if per_workflow and m.workflow else ""),
        )
        for view in wanted
        if view not in shown
    ]
    ev = manifest_evidence(ctx, m, None, **{d.data["name"]: d.link for d in boards})
    ev["manifest"] = m.where("dashboards")
    return outcome(
        item,
        problems,
        f"{', '.join(v.replace('_', ' ') for v in wanted)} shown on {', '.join(d.data['name'] for d in boards)}",
        value=sum(v in shown for v in wanted),
        evidence=ev,
    )


@attested("manifest.capability_tiers")
def capability_tiers(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    entry = m.capability_tiers
    if entry is None:
        return not_declared(m, item, "capability_tiers", "capability tiers")
    tiers, current = entry.data["tiers"], entry.data["current"]
    problems = [] if len(tiers) >= 2 else [("capability_tiers.tiers", "a single tier is not a ladder of permissions")]
    return outcome(
        item,
        problems,
        f"{len(tiers)} tiers ({' → '.join(tiers)}); current: {current}",
        value=len(tiers),
        evidence=manifest_evidence(ctx, m, entry, current=current),
    )


@attested("manifest.backpressure")
def backpressure(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    entry = m.backpressure
    if entry is None:
        return not_declared(m, item, "backpressure", "a backpressure rule")
    trigger = entry.data["trigger"]
    when = " or ".join(
        [f"tool P95 latency > {trigger['tool_p95_ms']:g} ms"] * ("tool_p95_ms" in trigger)
        + [f"tool error rate > {trigger['tool_error_rate']:.0%}"] * ("tool_error_rate" in trigger)
    )
    action = entry.data["action"].replace("_", "-")
    return ItemResult(
        item.id,
        PASS,
        display=f"when {when}: {action}",
        evidence=manifest_evidence(ctx, m, entry, action=entry.data["action"], **trigger),
    )


@attested("manifest.policy_file", metrics=("tool_call_classes",))
def policy_file(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    """The policy file sets allowed tools per agent, max spend and approvals, and covers the traced tools."""
    policy = m.policy
    if policy is None:
        return not_declared(m, item, "policy_file", "a policy-as-code file")
    calls = ctx.metric("tool_call_classes")
    ev = {
        "manifest": m.where("policy_file"),
        "owner": m.owner_name,
        "policy_file": policy.path.name,
        "policy_version": policy.version,
        "policy_sha256": policy.sha256,
    }
    problems = []
    if not policy.allowed_tools:
        problems.append(("allowed_tools", f"{policy.path.name} lists no allowed tools per agent"))
    if calls.is_empty():
        if problems:
            return outcome(item, problems, "", evidence=ev)
        return ItemResult(
            item.id,
            NO_DATA,
            reason=f"{policy.path.name} is complete, but there are no tool calls in the traces to check it against",
            evidence=ev,
        )
    pairs = (
        calls.group_by("agent", "tool")
        .agg(pl.col("calls").sum(), (pl.col("access") == "write").any().alias("write"))
        .sort("agent", "tool", nulls_last=False)
    )
    writes = set()
    for r in pairs.iter_rows(named=True):
        declared = m.tool(r["tool"], r["agent"])
        if r["write"] or (declared is not None and declared.access == "write"):
            writes.add(r["tool"])
        if not policy.allows(r["agent"], r["tool"]):
            agent = r["agent"] or "(no agent name)"
            problems.append(
                (
                    f"{agent}/{r['tool']}",
                    f"{agent} called {r['tool']} {r['calls']} times but {policy.path.name} does not allow it",
                )
            )
    for tool in sorted(writes):
        if tool not in policy.max_spend and tool not in policy.approvals:
            problems.append((tool, f"write tool {tool} has no max spend and no approval rule"))
    ev.update(
        agent_tools_seen=pairs.height,
        write_tools=", ".join(sorted(writes)) or None,
        max_spend_rules=len(policy.max_spend),
        approval_rules=len(policy.approvals),
    )
    ok = (
        f"{policy.path.name} allows all {pairs.height} agent/tool pairs seen; every write tool "
        f"({', '.join(sorted(writes)) or 'none'}) has a max spend or approval rule"
    )
    return outcome(item, problems, ok, value=len(problems), evidence={k: v for k, v in ev.items() if v is not None})
