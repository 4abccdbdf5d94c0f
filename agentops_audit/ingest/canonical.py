"""The canonical span row: its columns, their Arrow types, and the attribute names that feed them.

``ATTRIBUTE_MAP`` is what every adapter shares: for each canonical column, the attribute names that fill
it, the current OpenTelemetry GenAI name first, then deprecated aliases and other conventions. It is
merged from the registry in ``conventions``, which also says how each convention names a span's kind,
a tool call's arguments and an LLM call's messages. A source-specific mapping can extend it (``extend_map``).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pyarrow as pa

from agentops_audit.ingest import conventions
from agentops_audit.ingest.interpret import interpret

_S, _I, _F, _T = pa.string(), pa.int64(), pa.float64(), pa.timestamp("us")

ARROW_SCHEMA = pa.schema(
    [
        ("trace_id", _S),
        ("span_id", _S),
        ("parent_span_id", _S),
        ("name", _S),
        ("span_kind", _S),
        ("span_type", _S),
        ("operation", _S),
        ("start_time", _T),
        ("end_time", _T),
        ("duration_ms", _F),
        ("status_code", _S),
        ("status_message", _S),
        ("service_name", _S),
        ("service_version", _S),
        ("session_id", _S),
        ("workflow", _S),
        ("agent_name", _S),
        ("request_model", _S),
        ("response_model", _S),
        ("input_tokens", _I),
        ("output_tokens", _I),
        ("cache_read_tokens", _I),
        ("cost_usd", _F),
        ("tool_name", _S),
        ("tool_call_id", _S),
        ("tool_args", _S),
        ("tool_result", _S),
        ("tool_access", _S),
        ("tool_risk", _S),
        ("error_type", _S),
        ("failure_category", _S),
        ("session_outcome", _S),
        ("policy_decision", _S),
        ("policy_rule", _S),
        ("policy_reason", _S),
        ("policy_enforcer", _S),
        ("approval_status", _S),
        ("approval_approver", _S),
        ("prompt_version", _S),
        ("tool_schema_version", _S),
        ("policy_version", _S),
        ("input_trust", _S),
        ("retry_attempt", _I),
        ("audit_record_id", _S),
        ("audit_actor", _S),
        ("audit_hash", _S),
        ("audit_prev_hash", _S),
        ("input_text", _S),
        ("output_text", _S),
        ("retrieval_doc_ids", _S),
        ("llm_purpose", _S),
        ("attributes", _S),
        ("events", _S),
        ("links", _S),
    ]
)
COLUMNS = ARROW_SCHEMA.names
_INT_COLUMNS = {f.name for f in ARROW_SCHEMA if f.type == _I}
_FLOAT_COLUMNS = {f.name for f in ARROW_SCHEMA if f.type == _F}

ATTRIBUTE_MAP: dict[str, tuple[str, ...]] = conventions.attribute_map()
SPAN_TYPES: dict[str, str] = conventions.OTEL_KINDS  # gen_ai.operation.name -> canonical span_type


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


def span_type_of(operation: str | None, attrs: dict, is_root: bool = False) -> str:
    found = conventions.span_type(attrs, operation, is_root)
    if found:
        return found
    if "agentops.policy.decision" in attrs:
        return "policy"
    if "agentops.approval.status" in attrs:
        return "approval"
    if "gen_ai.tool.name" in attrs or "tool.name" in attrs:
        return "tool"
    return "other"


LAST_OF_LIST = ("tool_call_id",)  # a list there names the call last (Microsoft Agent Framework: [run id, call id])


def _coerce(column: str, value):
    if column in LAST_OF_LIST and isinstance(value, list):
        value = value[-1] if value else None
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
    row["span_type"] = row.get("span_type") or span_type_of(
        row.get("operation"), attrs, row.get("parent_span_id") is None
    )
    interpret(row, attrs)
    row["attributes"] = orjson.dumps(attrs).decode()
