"""The ``agentops.*`` attribute names: what no instrumentation convention names yet, in one registry.

The ingest reads them (``ingest/conventions.py`` builds its ``agentops`` entry from ``NAMES``), the
instrumentation helper writes them (``instrument.py``), and ``docs/conventions.md`` is generated from them
(``python -m agentops_audit.names``; a test compares). This module imports nothing heavy, so an application
can use ``instrument`` without the audit's dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCESS = ("read", "write")
RISKS = ("low", "money_movement", "identity_change", "production_change", "external_comms")
OUTCOMES = ("success", "failure", "escalated")
FAILURE_CATEGORIES = ("tool_error", "missing_context", "ambiguity", "model_refusal", "policy_block")
DECISIONS = ("allow", "deny", "require_approval")
APPROVALS = ("approved", "rejected", "requested")
TRUST = ("trusted", "untrusted")


@dataclass(frozen=True)
class Name:
    attribute: str
    column: str | None  # the canonical spans column it fills (None: read from the attributes)
    type: str
    meaning: str
    example: object
    values: tuple[str, ...] = ()


NAMES: tuple[Name, ...] = (
    Name("agentops.workflow", "workflow", "string", "the workflow (task type) a session belongs to", "refunds"),
    Name(
        "agentops.session.outcome",
        "session_outcome",
        "string",
        "how the task ended (on any span of the session)",
        "success",
        OUTCOMES,
    ),
    Name(
        "agentops.failure.category",
        "failure_category",
        "string",
        "why a failed task failed",
        "tool_error",
        FAILURE_CATEGORIES,
    ),
    Name("agentops.tool.access", "tool_access", "string", "whether a tool call reads or writes", "write", ACCESS),
    Name("agentops.tool.risk", "tool_risk", "string", "the risk class of a write", "money_movement", RISKS),
    Name(
        "agentops.tool.schema_version",
        "tool_schema_version",
        "string",
        "the version of the tool's schema",
        "2025-11-01",
    ),
    Name("agentops.tool.result_missing", None, "boolean", "a tool call whose result never arrived", True),
    Name(
        "agentops.policy.decision",
        "policy_decision",
        "string",
        "a policy decision about an action, made before it runs",
        "deny",
        DECISIONS,
    ),
    Name("agentops.policy.rule", "policy_rule", "string", "the rule that decided", "refunds.max_amount"),
    Name("agentops.policy.reason", "policy_reason", "string", "why it decided so", "over the 100 EUR limit"),
    Name(
        "agentops.policy.enforcer",
        "policy_enforcer",
        "string",
        "what decided: 'model' for the model itself, anything else is a layer outside it",
        "gateway",
    ),
    Name("agentops.policy.version", "policy_version", "string", "the version of the policy in force", "v12"),
    Name(
        "agentops.approval.status",
        "approval_status",
        "string",
        "a person's decision on an action",
        "approved",
        APPROVALS,
    ),
    Name("agentops.approval.approver", "approval_approver", "string", "who decided", "alice@example.com"),
    Name("agentops.approval.decided_at", None, "string", "when they decided (ISO 8601)", "2026-11-30T10:15:00Z"),
    Name("agentops.audit.record_id", "audit_record_id", "string", "the audit record of a write", "rec-00042"),
    Name("agentops.audit.actor", "audit_actor", "string", "on whose behalf the write was made", "agent:refunds"),
    Name(
        "agentops.audit.hash",
        "audit_hash",
        "string",
        "sha256 hex of prev_hash|record_id|actor|tool|arguments (the hash chain)",
        "3f1c…",
    ),
    Name(
        "agentops.audit.prev_hash",
        "audit_prev_hash",
        "string",
        "the previous record's hash ('' starts a chain)",
        "9a0b…",
    ),
    Name(
        "agentops.input.trust",
        "input_trust",
        "string",
        "whether the span's input came from an untrusted source",
        "untrusted",
        TRUST,
    ),
    Name("agentops.retry.attempt", "retry_attempt", "int", "the attempt number of a retried call (1 first)", 2),
    Name("agentops.cost.usd", "cost_usd", "double", "the span's own cost in USD", 0.0042),
    Name(
        "agentops.retrieval.document_ids",
        "retrieval_doc_ids",
        "string[]",
        "the documents a retrieval returned",
        ["kb-1042"],
    ),
    Name(
        "agentops.prompt.template_version",
        "prompt_version",
        "string",
        "the version of the prompt template",
        "refund-v4",
    ),
    Name(
        "agentops.llm.purpose",
        "llm_purpose",
        "string",
        "what an LLM call is for (model routing: classify and extract belong on a small model)",
        "classify",
    ),
)


def columns() -> dict[str, tuple[str, ...]]:
    """Canonical column -> its ``agentops.*`` attribute (for the conventions registry)."""
    return {n.column: (n.attribute,) for n in NAMES if n.column}


def markdown() -> str:
    """``docs/conventions.md``: every name with its type, values and an example."""
    lines = [
        "# The `agentops.*` attributes",
        "",
        "Generated from `agentops_audit/names.py` (`python -m agentops_audit.names > docs/conventions.md`); "
        "a test keeps them equal. Where OpenTelemetry's GenAI conventions or another instrumentation name a "
        'concept, the audit reads those names (README, "Canonical attributes"); these are for what none '
        "names. `agentops_audit.instrument` writes them.",
        "",
        "| attribute | type | meaning | values | example |",
        "|---|---|---|---|---|",
    ]
    for n in NAMES:
        values = ", ".join(f"`{v}`" for v in n.values) or "any"
        example = f"`{n.example!r}`" if not isinstance(n.example, str) else f"`{n.example}`"
        lines.append(f"| `{n.attribute}` | {n.type} | {n.meaning} | {values} | {example} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
