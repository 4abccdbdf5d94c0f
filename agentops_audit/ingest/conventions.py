"""The registry of names: how each instrumentation convention says what a span is and what it carries.

One ``Convention`` per source of names, in the order they are tried. Each says which attribute names the
span's kind and what its values mean (``kinds``), which attribute names fill which canonical column
(``columns``; ``tool_columns`` only on tool spans, where ``input.value`` is the call's arguments rather
than a prompt), and where its LLM messages live (``messages``). ``ATTRIBUTE_MAP`` in ``canonical`` is the
merge of every convention's ``columns``; ``interpret`` applies the rest. A name ``a#k`` reads key ``k`` of
attribute ``a`` when that attribute is a JSON object (or a JSON string of one).

``README.md`` ("Canonical attributes") lists this registry and ``tests/test_conventions.py`` checks that
the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import orjson

from agentops_audit import names

CHAIN = "chain"  # a span kind that is the agent at a trace's root and a plumbing step inside it


@dataclass(frozen=True)
class Convention:
    name: str
    doc: str  # where the names are defined
    kind: str | None = None  # the attribute that names the span's kind
    kinds: dict[str, str] = field(default_factory=dict)  # its values, lower-case -> canonical span type
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tool_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    messages: tuple[str, str] | None = None  # (input, output) attribute or numbered-attribute prefix
    signatures: tuple[str, ...] = ()  # attribute names that mark a span of this convention (any one of them)
    quoted: bool = False  # its attribute values are JSON-encoded (MLflow: '"CHAT_MODEL"')
    own_names: bool = False  # its column names are too generic to read on any other span (only ``interpret``)


OTEL_KINDS = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "llm": "llm",
    "execute_tool": "tool",
    "tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "agent": "agent",
    "chain": "agent",
    "embeddings": "embedding",
    "embedding": "embedding",
    "retrieval": "retrieval",
    "retriever": "retrieval",
    "reranker": "retrieval",
    "guardrail": "policy",
}

CONVENTIONS: tuple[Convention, ...] = (
    Convention(
        "OpenTelemetry GenAI",
        "https://opentelemetry.io/docs/specs/semconv/gen-ai/ (current and deprecated names)",
        kind="gen_ai.operation.name",
        kinds=OTEL_KINDS,
        columns={
            "session_id": ("gen_ai.conversation.id",),
            "agent_name": ("gen_ai.agent.name",),
            "request_model": ("gen_ai.request.model",),
            "response_model": ("gen_ai.response.model",),
            "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
            "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
            "cache_read_tokens": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens"),
            "tool_name": ("gen_ai.tool.name",),
            "tool_call_id": ("gen_ai.tool.call.id",),
            "tool_args": ("gen_ai.tool.call.arguments",),
            "tool_result": ("gen_ai.tool.call.result",),
            "error_type": ("error.type", "exception.type"),
            "input_text": ("gen_ai.input.messages", "gen_ai.prompt"),
            "output_text": ("gen_ai.output.messages", "gen_ai.completion"),
            "service_name": ("resource.service.name",),
            "service_version": ("resource.service.version",),
            "operation": ("gen_ai.operation.name",),
        },
    ),
    Convention(
        "agentops",
        "agentops_audit/names.py and docs/conventions.md: what no convention names yet",
        columns=names.columns(),
    ),
    Convention(
        "OpenInference (Arize Phoenix)",
        "https://github.com/Arize-ai/openinference/blob/main/spec/semantic_conventions.md",
        kind="openinference.span.kind",
        kinds={
            "llm": "llm",
            "tool": "tool",
            "agent": "agent",
            "chain": CHAIN,
            "retriever": "retrieval",
            "reranker": "retrieval",
            "embedding": "embedding",
            "guardrail": "policy",
            "evaluator": "other",
            "prompt": "other",
            "unknown": "other",
        },
        columns={
            "session_id": ("session.id",),
            "agent_name": ("agent.name",),
            "request_model": ("llm.model_name",),
            "input_tokens": ("llm.token_count.prompt",),
            "output_tokens": ("llm.token_count.completion",),
            "cache_read_tokens": ("llm.token_count.prompt_details.cache_read",),
            "cost_usd": ("llm.cost.total",),
            "tool_name": ("tool.name",),
            "tool_call_id": ("tool_call.id",),
            "prompt_version": ("llm.prompt_template.version",),
            "input_text": ("input.value",),
            "output_text": ("output.value",),
        },
        tool_columns={"tool_args": ("input.value",), "tool_result": ("output.value",)},
        messages=("llm.input_messages", "llm.output_messages"),
        signatures=("openinference.span.kind",),
    ),
    Convention(
        "OpenLLMetry (Traceloop)",
        "https://github.com/traceloop/openllmetry (opentelemetry-semantic-conventions-ai)",
        kind="traceloop.span.kind",
        kinds={"workflow": CHAIN, "agent": "agent", "task": "other", "tool": "tool"},
        columns={
            "session_id": ("traceloop.association.properties.session_id",),
            "workflow": ("traceloop.workflow.name",),
            "input_tokens": ("llm.usage.prompt_tokens",),
            "output_tokens": ("llm.usage.completion_tokens",),
        },
        tool_columns={
            "tool_name": ("traceloop.entity.name",),
            "tool_args": ("traceloop.entity.input",),
            "tool_result": ("traceloop.entity.output",),
        },
        messages=("gen_ai.prompt", "gen_ai.completion"),
        signatures=(
            "traceloop.span.kind",
            "traceloop.workflow.name",
            "traceloop.entity.name",
            "llm.request.type",
            "gen_ai.prompt.0.role",
            "gen_ai.prompt.0.content",
            "gen_ai.completion.0.role",
            "gen_ai.completion.0.content",
        ),
        own_names=True,
    ),
    Convention(
        "OpenLLMetry LLM calls",
        "Traceloop's llm.request.type on model-call spans",
        kind="llm.request.type",
        kinds={"chat": "llm", "completion": "llm", "embedding": "embedding"},
    ),
    Convention(
        "MLflow tracing",
        "https://mlflow.org/docs/latest/genai/tracing/ (span attributes are JSON-encoded)",
        kind="mlflow.spanType",
        kinds={
            "chat_model": "llm",
            "llm": "llm",
            "tool": "tool",
            "agent": "agent",
            "chain": CHAIN,
            "retriever": "retrieval",
            "reranker": "retrieval",
            "embedding": "embedding",
            "parser": "other",
            "guardrail": "policy",
            "unknown": "other",
        },
        columns={
            "request_model": ("mlflow.spanInputs#model",),
            "response_model": ("mlflow.spanOutputs#model", "mlflow.llm.model"),
            "input_tokens": ("mlflow.chat.tokenUsage#input_tokens",),
            "output_tokens": ("mlflow.chat.tokenUsage#output_tokens",),
            "cache_read_tokens": ("mlflow.chat.tokenUsage#cache_read_input_tokens",),
            "cost_usd": ("mlflow.llm.cost#total_cost",),
            "session_id": ("mlflow.trace.session",),
            "input_text": ("mlflow.spanInputs",),
            "output_text": ("mlflow.spanOutputs",),
        },
        tool_columns={"tool_args": ("mlflow.spanInputs",), "tool_result": ("mlflow.spanOutputs",)},
        messages=("mlflow.spanInputs", "mlflow.spanOutputs"),
        signatures=("mlflow.spanType", "mlflow.traceRequestId"),
        quoted=True,
    ),
    Convention(
        "Google ADK",
        "google-adk's native OpenTelemetry spans (gcp.vertex.agent.*)",
        tool_columns={
            "tool_args": ("gcp.vertex.agent.tool_call_args",),
            "tool_result": ("gcp.vertex.agent.tool_response",),
        },
        columns={"session_id": ("gcp.vertex.agent.session_id",)},
        messages=("gcp.vertex.agent.llm_request", "gcp.vertex.agent.llm_response"),
        signatures=(
            "gcp.vertex.agent.event_id",
            "gcp.vertex.agent.invocation_id",
            "gcp.vertex.agent.llm_request",
            "gcp.vertex.agent.tool_call_args",
        ),
        own_names=True,
    ),
    Convention(
        "Claude Code / Claude Agent SDK",
        "Claude Code's session tracing (com.anthropic.claude_code.tracing)",
        kind="span.type",
        kinds={
            "llm_request": "llm",
            "interaction": "agent",
            "tool": "tool",
            "tool.blocked_on_user": "approval",
            "tool.execution": "other",
        },
        columns={
            "input_tokens": ("input_tokens",),
            "output_tokens": ("output_tokens",),
            "cache_read_tokens": ("cache_read_tokens",),
            "request_model": ("model",),
        },
        tool_columns={"tool_name": ("tool_name",), "tool_result": ("claude_code.tool.output",)},
        signatures=("span.type",),
        own_names=True,
    ),
    Convention(
        "Langfuse (OpenTelemetry SDK)",
        "https://langfuse.com/docs/opentelemetry (langfuse.* attributes)",
        kind="langfuse.observation.type",
        kinds={
            "generation": "llm",
            "tool": "tool",
            "agent": "agent",
            "retriever": "retrieval",
            "embedding": "embedding",
            "guardrail": "policy",
            "chain": CHAIN,
            "span": "other",
            "event": "other",
            "evaluator": "other",
        },
        columns={
            "session_id": ("langfuse.session.id",),
            "request_model": ("langfuse.observation.model.name",),
            "input_tokens": (
                "langfuse.observation.usage_details#input",
                "langfuse.observation.usage_details#prompt_tokens",
                "langfuse.observation.usage_details#input_tokens",
            ),
            "output_tokens": (
                "langfuse.observation.usage_details#output",
                "langfuse.observation.usage_details#completion_tokens",
                "langfuse.observation.usage_details#output_tokens",
            ),
            "cost_usd": ("langfuse.observation.cost_details#total",),
            "input_text": ("langfuse.observation.input",),
            "output_text": ("langfuse.observation.output",),
        },
        tool_columns={"tool_args": ("langfuse.observation.input",), "tool_result": ("langfuse.observation.output",)},
        messages=("langfuse.observation.input", "langfuse.observation.output"),
        signatures=(
            "langfuse.record",
            "langfuse.observation.type",
            "langfuse.observation.input",
            "langfuse.observation.output",
            "langfuse.environment",
        ),
        own_names=True,
    ),
    Convention(
        "OpenAI Agents SDK via logfire",
        "logfire.instrument_openai_agents(): span names are message templates",
        kind="logfire.msg_template",
        kinds={
            "openai agents trace: {name}": CHAIN,
            "agent run: {name!r}": "agent",
            "function: {name}": "tool",
            "guardrail {name!r} {triggered=}": "policy",
            "handoff: {from_agent} → {to_agent}": "other",
        },
        columns={"session_id": ("group_id",)},
        tool_columns={"tool_name": ("name",), "tool_args": ("input",), "tool_result": ("output",)},
        messages=("raw_input", "response"),  # the Responses API request's input items and the raw response
        signatures=("logfire.msg_template",),
        quoted=True,
    ),
    Convention(
        "pydantic-ai",
        "pydantic_ai's OpenTelemetry instrumentation (tool spans before GenAI names)",
        tool_columns={"tool_args": ("tool_arguments",), "tool_result": ("tool_response",)},
        signatures=("tool_arguments", "tool_response", "logfire.msg"),
    ),
)

# Tool names as some libraries decorate them (`execute_tool get_weather`, `running tool: get_weather`)
# (RE2 and Python alike: the OTLP fast path applies it in SQL)
DECORATED_TOOL = r"^(?:execute_tool|running tools?:?|call_tool|invoke_tool|tool:|function:)[ \t]+"
DECORATED = re.compile(DECORATED_TOOL, re.IGNORECASE)


def attribute_map() -> dict[str, tuple[str, ...]]:
    """Canonical column -> attribute names, every convention's ``columns`` merged in registry order."""
    merged: dict[str, tuple[str, ...]] = {}
    for convention in CONVENTIONS:
        if convention.quoted or convention.own_names:  # read by ``interpret``, on its own spans only
            continue
        for column, given in convention.columns.items():
            plain = (n for n in given if "#" not in n and n not in merged.get(column, ()))
            merged[column] = (*merged.get(column, ()), *plain)
    return merged


SIGNATURES: tuple[str, ...] = tuple(dict.fromkeys(n for c in CONVENTIONS for n in c.signatures))


def needs_interpretation(attrs: dict) -> bool:
    """Whether a span carries a signature name of a convention other than OpenTelemetry's, or holds tool calls
    in a message attribute in another shape (the OTLP fast path leaves such spans to the reference reader:
    ``otlp_sql`` tests the same names, which its attribute parse already extracts)."""
    return any(n in attrs for n in SIGNATURES) or _has_message_calls(attrs)


MESSAGE_CALL_WORDS = ("tool_calls", "tool_use", "function_call", "tool_call_id")  # non-canonical tool calls
MESSAGE_NAMES = ("gen_ai.input.messages", "gen_ai.output.messages")


def _has_message_calls(attrs: dict) -> bool:
    """Messages under the OpenTelemetry names that hold tool calls or results in another shape (OpenAI,
    Anthropic): ``interpret`` rewrites them in the canonical one."""
    return any(
        isinstance(attrs.get(name), str) and any(w in attrs[name] for w in MESSAGE_CALL_WORDS) for name in MESSAGE_NAMES
    )


def value_of(attrs: dict, name: str, quoted: bool = False):
    """The value a registry name reads: ``a#k`` is key ``k`` of attribute ``a`` (a JSON object or its text);
    ``quoted`` decodes a JSON-encoded value."""
    attribute, _, key = name.partition("#")
    value = attrs.get(attribute)
    if (key or quoted) and isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None if key else value
    if key:
        return value.get(key) if isinstance(value, dict) else None
    return value


def span_type(attrs: dict, operation: str | None, is_root: bool) -> str | None:
    """The canonical span type the first convention that names this span's kind gives, or None."""
    for convention in CONVENTIONS:
        if convention.kind is None:
            continue
        raw = (
            operation
            if convention.kind == "gen_ai.operation.name" and operation
            else value_of(attrs, convention.kind, convention.quoted)
        )
        if not isinstance(raw, str) or not raw:
            continue
        found = convention.kinds.get(raw.lower())
        if found == CHAIN:
            return "agent" if is_root else "other"
        if found:
            return found
    return None
