"""Record on your spans what no agent framework emits, with exactly the names the audit reads.

Built on the OpenTelemetry API only (``pip install opentelemetry-api``, or the ``instrument`` extra): each
function sets ``agentops.*`` attributes (``names.yml``, ``docs/conventions.md``) on the span you pass, or on
the current span. The audit reads them as the trace's own facts, which win over declared and inferred ones::

    from opentelemetry import trace
    from agentops_audit import instrument

    tracer = trace.get_tracer("refund-agent")

    def issue_refund(order_id: str, amount: float, actor: str, previous_hash: str) -> str:
        with tracer.start_as_current_span("execute_tool issue_refund") as span:
            span.set_attribute("gen_ai.operation.name", "execute_tool")
            span.set_attribute("gen_ai.tool.name", "issue_refund")
            instrument.record_policy_decision("allow", rule="refunds.max_amount", reason="under 100 EUR",
                                              enforcer="gateway")
            instrument.record_approval("approved", approver="alice@example.com")
            arguments = f'{{"order_id": "{order_id}", "amount": {amount}}}'
            record_hash = instrument.record_write("issue_refund", arguments, record_id=f"rec-{order_id}",
                                                  actor=actor, prev_hash=previous_hash, risk="money_movement")
            ...  # the refund itself
            return record_hash  # the next write's prev_hash

``record_write`` computes the audit hash chain as the audit verifies it:
``sha256(prev_hash|record_id|actor|tool|arguments)``, ``prev_hash`` empty for the first record.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from agentops_audit import names


def _span(span=None):
    if span is not None:
        return span
    try:
        from opentelemetry import trace
    except ImportError as exc:  # pragma: no cover - the message is the point
        raise ImportError(
            "agentops_audit.instrument needs the OpenTelemetry API: pip install opentelemetry-api "
            "(or agentops-audit[instrument])"
        ) from exc
    return trace.get_current_span()


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _set(span, attributes: dict) -> None:
    target = _span(span)
    for key, value in attributes.items():
        if value is not None:
            target.set_attribute(key, value)


def record_policy_decision(
    decision: str,
    *,
    rule: str | None = None,
    reason: str | None = None,
    enforcer: str = "gateway",
    version: str | None = None,
    tool: str | None = None,
    span=None,
) -> None:
    """A policy decision about an action, made before it runs. ``enforcer`` 'model' means the model decided
    itself; anything else (a gateway, a guardrail service) is a layer outside the model."""
    _set(
        span,
        {
            "agentops.policy.decision": _check(decision, names.DECISIONS, "decision"),
            "agentops.policy.rule": rule,
            "agentops.policy.reason": reason,
            "agentops.policy.enforcer": enforcer,
            "agentops.policy.version": version,
            "gen_ai.tool.name": tool,
        },
    )


def record_approval(
    status: str,
    *,
    approver: str | None = None,
    decided_at: datetime | str | None = None,
    tool: str | None = None,
    span=None,
) -> None:
    """A person's decision on an action (``approved``, ``rejected``, ``requested``)."""
    when = decided_at.isoformat() if isinstance(decided_at, datetime) else decided_at
    _set(
        span,
        {
            "agentops.approval.status": _check(status, names.APPROVALS, "status"),
            "agentops.approval.approver": approver,
            "agentops.approval.decided_at": when,
            "gen_ai.tool.name": tool,
        },
    )


def audit_hash(prev_hash: str | None, record_id: str, actor: str, tool: str, arguments: str) -> str:
    """The hash of an audit record, as the audit trail check verifies it."""
    return hashlib.sha256("|".join((prev_hash or "", record_id, actor, tool, arguments)).encode()).hexdigest()


def record_write(
    tool: str,
    arguments: str,
    *,
    record_id: str,
    actor: str,
    prev_hash: str | None = None,
    risk: str | None = None,
    span=None,
) -> str:
    """A write tool call and its audit record: sets the tool's access (write), its risk, its arguments and
    the record with its place in the hash chain; returns the record's hash (the next record's prev_hash)."""
    digest = audit_hash(prev_hash, record_id, actor, tool, arguments)
    _set(
        span,
        {
            "agentops.tool.access": "write",
            "agentops.tool.risk": _check(risk, names.RISKS, "risk") if risk else None,
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.arguments": arguments,
            "agentops.audit.record_id": record_id,
            "agentops.audit.actor": actor,
            "agentops.audit.hash": digest,
            "agentops.audit.prev_hash": prev_hash or "",
        },
    )
    return digest


def record_input_trust(trust: str, span=None) -> None:
    """Whether the span's input came from an untrusted source (a web page, an email, a user upload)."""
    _set(span, {"agentops.input.trust": _check(trust, names.TRUST, "trust")})


def record_llm_purpose(purpose: str, span=None) -> None:
    """What an LLM call is for (``classify`` and ``extract`` belong on a small model: model routing)."""
    _set(span, {"agentops.llm.purpose": purpose})


def record_outcome(
    outcome: str, *, failure_category: str | None = None, workflow: str | None = None, span=None
) -> None:
    """How the task ended, on any span of its session (usually the root)."""
    _set(
        span,
        {
            "agentops.session.outcome": _check(outcome, names.OUTCOMES, "outcome"),
            "agentops.failure.category": _check(failure_category, names.FAILURE_CATEGORIES, "failure_category")
            if failure_category
            else None,
            "agentops.workflow": workflow,
        },
    )
