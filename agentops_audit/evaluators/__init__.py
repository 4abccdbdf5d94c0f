"""Evaluators: one function per ``check`` name of the catalog, turning metrics into an item result.

The metric SQL computes, the catalog states the threshold, Great Expectations asserts, and an evaluator
only wires them together and explains the outcome. Each module of this package holds the evaluators of
one area in its own ``EVALUATORS`` dict; ``EVALUATORS`` below is the merged registry. A catalog item
whose check is not registered is NO_DATA ("not evaluated yet"), never a pass.
"""

from __future__ import annotations

from collections.abc import Callable

from agentops_audit.catalog import Item
from agentops_audit.evaluators import (
    attested,
    cost,
    evals,
    instrumentation,
    security,
    traces,
    versions,
    weekly,
    workflow,
)
from agentops_audit.evaluators.base import AuditContext
from agentops_audit.results import ERROR, ItemResult, not_evaluated

__all__ = ["EVALUATORS", "AuditContext", "evaluate"]


def evaluate(ctx: AuditContext, item: Item) -> ItemResult:
    """The item's result. An evaluator that raises gives ERROR with its message, not a crash."""
    if item.check in EVALUATORS:
        try:
            return EVALUATORS[item.check](ctx, item)
        except Exception as exc:  # reported in the audit as ERROR, the other items still run
            return ItemResult(item.id, ERROR, reason=f"{type(exc).__name__}: {exc}")
    if item.check and item.check.startswith("manifest."):
        return not_evaluated(item.id, "declared in the readiness manifest: not evaluated yet")
    return not_evaluated(item.id)


EVALUATORS: dict[str, Callable[[AuditContext, Item], ItemResult]] = {
    **traces.EVALUATORS,
    **attested.EVALUATORS,
    **workflow.EVALUATORS,
    **instrumentation.EVALUATORS,
    **security.EVALUATORS,
    **cost.EVALUATORS,
    **versions.EVALUATORS,
    **weekly.EVALUATORS,
    **evals.EVALUATORS,
}
