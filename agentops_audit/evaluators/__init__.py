"""Evaluators: one function per ``check`` name of the catalog, turning metrics into an item result.

The metric SQL computes, the catalog states the threshold, Great Expectations asserts, and an evaluator
only wires them together and explains the outcome. Each module of this package holds the evaluators of
one area, each declared once with ``@check`` (``base.py``); ``EVALUATORS`` below is the registry they
fill. A catalog item whose check is not registered is NO_DATA ("not evaluated yet"), never a pass.
"""

from __future__ import annotations

from agentops_audit.evaluators import (  # noqa: F401  (imported for their @check registrations)
    attested,
    cost,
    declared,
    eval_suite,
    instrumentation,
    operations,
    phase,
    release_gate,
    security,
    traces,
    versions,
    weekly,
    workflow,
)
from agentops_audit.evaluators.base import CHECKS, AuditContext, Evaluator, evaluate

__all__ = ["CHECKS", "EVALUATORS", "AuditContext", "evaluate"]


EVALUATORS: dict[str, Evaluator] = {name: c.fn for name, c in CHECKS.items()}
