"""The registry of names: how each instrumentation convention says what a span is and what it carries.

One ``Convention`` per source of names, in the order they are tried, read from ``conventions.yml`` (data: a
new convention is an entry there). Each says which attribute names the span's kind and what its values mean
(``kinds``), which attribute names fill which canonical column (``columns``; ``tool_columns`` only on tool
spans, where ``input.value`` is the call's arguments rather than a prompt), and where its LLM messages live
(``messages``). ``ATTRIBUTE_MAP`` in ``canonical`` is the merge of every convention's ``columns``;
``interpret`` applies the rest. A name ``a#k`` reads key ``k`` of attribute ``a`` when that attribute is a
JSON object (or a JSON string of one).

``README.md`` ("Canonical attributes") lists this registry and ``tests/test_conventions.py`` checks that
the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import yaml

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


FILE = Path(__file__).resolve().parent / "conventions.yml"


def _load(path: Path = FILE) -> tuple[Convention, ...]:
    """The registry from ``conventions.yml``; names as tuples, ``columns: agentops`` from ``names``."""
    loaded = []
    for entry in yaml.safe_load(path.read_text()):
        for key in ("columns", "tool_columns"):
            given = entry.get(key) or {}
            entry[key] = names.columns() if given == "agentops" else {k: tuple(v) for k, v in given.items()}
        for key in ("messages", "signatures"):
            if key in entry:
                entry[key] = tuple(entry[key])
        loaded.append(Convention(**entry))
    return tuple(loaded)


CONVENTIONS: tuple[Convention, ...] = _load()
OTEL_KINDS = CONVENTIONS[0].kinds  # gen_ai.operation.name's values

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
