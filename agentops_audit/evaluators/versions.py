"""Evaluators of section 7 (operational process) measured from traces: prompt, tool-schema and policy
versions present on the spans they apply to, and the version changes over the audited window."""

from __future__ import annotations

from agentops_audit.catalog import Item
from agentops_audit.evaluators.base import AuditContext, check, judge, threshold_of
from agentops_audit.results import ItemResult

SPAN_WORDS = {"llm": "model calls", "tool": "tool calls", "policy decision": "policy decisions"}

# NO_DATA: the main metric has no rows
NO_VERSIONED_SPANS = "no LLM, tool or policy-decision spans to carry versions"


@check("versions_present", metrics=("versions", "version_changes"), evidence=True, empty=NO_VERSIONED_SPANS)
def versions_present(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("versions")
    changes = ctx.metric("version_changes")
    threshold = threshold_of(ctx, item)
    short = [r["kind"] for r in df.iter_rows(named=True) if not threshold.holds(r["completeness"])]
    worst = df.row(0, named=True)
    return judge(
        ctx,
        item,
        df,
        value=worst["completeness"],
        display=", ".join(
            f"{r['kind'].replace('_', ' ')} version on {r['completeness']:.1%} of "
            f"{SPAN_WORDS.get(r['applies_to'], r['applies_to'] + ' spans')}"
            for r in df.iter_rows(named=True)
        )
        + f"; {changes.height} version change{'s' if changes.height != 1 else ''} in the window",
        evidence={
            "query": "versions, version_changes",
            **{
                r["kind"]: {"applicable": r["applicable"], "present": r["present"], "versions": r["versions"]}
                for r in df.iter_rows(named=True)
            },
            "changes": [{**c, "changed_at": c["changed_at"].isoformat()} for c in changes.to_dicts()],
        },
        at_fault=short,
    )
