"""The canonical span row: its columns, their Arrow types, and the attribute names that feed them.

``ATTRIBUTE_MAP`` is the registry every adapter shares: for each canonical column, the attribute names
that fill it, the current OpenTelemetry GenAI name first, then deprecated aliases and other
conventions. A source-specific mapping can extend it (``extend_map``).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pyarrow as pa

_S, _I, _F, _T = pa.string(), pa.int64(), pa.float64(), pa.timestamp("us")

ARROW_SCHEMA = pa.schema([
    ("trace_id", _S), ("span_id", _S), ("parent_span_id", _S), ("name", _S), ("span_kind", _S),
    ("span_type", _S), ("operation", _S), ("start_time", _T), ("end_time", _T), ("duration_ms", _F),
    ("status_code", _S), ("status_message", _S), ("service_name", _S), ("service_version", _S),
    ("session_id", _S), ("workflow", _S), ("agent_name", _S), ("request_model", _S), ("response_model", _S),
    ("input_tokens", _I), ("output_tokens", _I), ("cache_read_tokens", _I), ("cost_usd", _F),
    ("tool_name", _S), ("tool_call_id", _S), ("tool_args", _S), ("tool_result", _S), ("tool_access", _S),
    ("tool_risk", _S), ("error_type", _S), ("failure_category", _S), ("session_outcome", _S),
    ("policy_decision", _S), ("policy_rule", _S), ("policy_reason", _S), ("policy_enforcer", _S),
    ("approval_status", _S), ("approval_approver", _S), ("prompt_version", _S), ("tool_schema_version", _S),
    ("policy_version", _S), ("input_trust", _S), ("retry_attempt", _I), ("audit_record_id", _S),
    ("audit_actor", _S), ("audit_hash", _S), ("audit_prev_hash", _S), ("input_text", _S), ("output_text", _S),
    ("retrieval_doc_ids", _S), ("llm_purpose", _S), ("attributes", _S), ("events", _S), ("links", _S),
])
COLUMNS = ARROW_SCHEMA.names
_INT_COLUMNS = {f.name for f in ARROW_SCHEMA if f.type == _I}
_FLOAT_COLUMNS = {f.name for f in ARROW_SCHEMA if f.type == _F}

ATTRIBUTE_MAP: dict[str, tuple[str, ...]] = {
    "session_id": ("gen_ai.conversation.id", "session.id", "langfuse.session.id"),
    "workflow": ("agentops.workflow",),
    "agent_name": ("gen_ai.agent.name", "agent.name"),
    "request_model": ("gen_ai.request.model", "llm.model_name"),
    "response_model": ("gen_ai.response.model",),
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                      "llm.token_count.completion"),
    "cache_read_tokens": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                          "llm.token_count.prompt_details.cache_read"),
    "cost_usd": ("agentops.cost.usd", "llm.cost.total"),
    "tool_name": ("gen_ai.tool.name", "tool.name"),
    "tool_call_id": ("gen_ai.tool.call.id", "tool_call.id"),
    "tool_args": ("gen_ai.tool.call.arguments", "tool.parameters"),
    "tool_result": ("gen_ai.tool.call.result",),
    "tool_access": ("agentops.tool.access",),
    "tool_risk": ("agentops.tool.risk",),
    "error_type": ("error.type", "exception.type"),
    "failure_category": ("agentops.failure.category",),
    "session_outcome": ("agentops.session.outcome",),
    "policy_decision": ("agentops.policy.decision",),
    "policy_rule": ("agentops.policy.rule",),
    "policy_reason": ("agentops.policy.reason",),
    "policy_enforcer": ("agentops.policy.enforcer",),
    "approval_status": ("agentops.approval.status",),
    "approval_approver": ("agentops.approval.approver",),
    "prompt_version": ("agentops.prompt.template_version", "llm.prompt_template.version"),
    "tool_schema_version": ("agentops.tool.schema_version",),
    "policy_version": ("agentops.policy.version",),
    "input_trust": ("agentops.input.trust",),
    "retry_attempt": ("agentops.retry.attempt",),
    "audit_record_id": ("agentops.audit.record_id",),
    "audit_actor": ("agentops.audit.actor",),
    "audit_hash": ("agentops.audit.hash",),
    "audit_prev_hash": ("agentops.audit.prev_hash",),
    "input_text": ("gen_ai.input.messages", "gen_ai.prompt", "input.value"),
    "output_text": ("gen_ai.output.messages", "gen_ai.completion", "output.value"),
    "retrieval_doc_ids": ("agentops.retrieval.document_ids",),
    "llm_purpose": ("agentops.llm.purpose",),
    "service_name": ("resource.service.name",),
    "service_version": ("resource.service.version",),
    "operation": ("gen_ai.operation.name",),
}

# gen_ai.operation.name (and OpenInference span kinds, lower-cased) -> canonical span_type
SPAN_TYPES: dict[str, str] = {
    "chat": "llm", "text_completion": "llm", "generate_content": "llm", "llm": "llm",
    "execute_tool": "tool", "tool": "tool",
    "invoke_agent": "agent", "create_agent": "agent", "agent": "agent", "chain": "agent",
    "embeddings": "embedding", "embedding": "embedding",
    "retrieval": "retrieval", "retriever": "retrieval", "reranker": "retrieval",
    "guardrail": "policy",
}


@dataclass(frozen=True)
class Quarantined:
    """A record that could not be loaded: where it was, why, and a raw excerpt (masked before storage)."""

    locator: str
    reason: str
    excerpt: str = ""


def extend_map(extra: dict[str, list[str]] | None) -> dict[str, tuple[str, ...]]:
    """ATTRIBUTE_MAP with a source's own attribute names tried first."""
    if not extra:
        return ATTRIBUTE_MAP
    merged = dict(ATTRIBUTE_MAP)
    for column, names in extra.items():
        if column not in COLUMNS:
            raise ValueError(f"mapping names unknown canonical column {column!r}")
        merged[column] = (*names, *merged.get(column, ()))
    return merged


def span_type_of(operation: str | None, attrs: dict) -> str:
    if operation:
        found = SPAN_TYPES.get(operation.lower())
        if found:
            return found
    if "agentops.policy.decision" in attrs:
        return "policy"
    if "agentops.approval.status" in attrs:
        return "approval"
    if "gen_ai.tool.name" in attrs or "tool.name" in attrs:
        return "tool"
    return "other"


def _coerce(column: str, value):
    if value is None:
        return None
    if column in _INT_COLUMNS:
        return int(value)
    if column in _FLOAT_COLUMNS:
        return float(value)
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def fill_from_attributes(row: dict, attrs: dict, mapping: dict[str, tuple[str, ...]] = ATTRIBUTE_MAP) -> None:
    """Set every canonical column that ``row`` lacks from the first attribute present in ``attrs``."""
    for column, names in mapping.items():
        if row.get(column) is not None:
            continue
        for name in names:
            value = attrs.get(name)
            if value is not None:
                row[column] = _coerce(column, value)
                break
    row["span_type"] = row.get("span_type") or span_type_of(row.get("operation"), attrs)
    row["attributes"] = orjson.dumps(attrs).decode()
