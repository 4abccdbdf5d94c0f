"""How a span is read beyond ``ATTRIBUTE_MAP``: the rules of the conventions registry (``conventions``) that
need more than a name lookup.

- tool spans: arguments and results from each convention's ``tool_columns`` (Traceloop's and Langfuse's
  ``{"args": [], "kwargs": {...}}`` give the keyword arguments), a LangChain ToolMessage result (its content,
  and the call it answers), a decorated name cleaned, an MCP-qualified name kept (``mcp__server__tool``);
- LLM spans: messages of every convention in the OpenTelemetry GenAI form when they hold tool calls or
  results (``messages``), so ``derive`` makes tool calls of them;
- names that need decoding: JSON-keyed (``a#k``) and JSON-encoded (MLflow) values;
- agents: a name from OpenInference's ``graph.node.id`` or the span's name (``invoke_agent X``, ...);
- pauses and decisions: LangGraph's interrupt, Claude Code's permission wait, guardrails and resumes
  (``governance``).

A span that carries no name of another convention only has its tool name cleaned, which the OTLP fast
path does in SQL too.
"""

from __future__ import annotations

import re

import orjson

from agentops_audit.ingest import conventions, governance
from agentops_audit.ingest import messages as msgs

# An agent's name inside its span's name: "invoke_agent triage", "agent_run [triage]" (Google ADK),
# "triage run" (pydantic-ai)
_AGENT_NAMED = re.compile(r"^(?:invoke_agent (?P<a>.+)|agent_run \[(?P<b>.+)\]|(?P<c>\S+) run)$")


def agent_name(name: str | None) -> str | None:
    found = _AGENT_NAMED.match(name or "")
    return next((g for g in found.groups() if g), None) if found else None


def tool_name(name: str | None) -> str | None:
    """A tool's name without the decoration some libraries put before it."""
    if not isinstance(name, str):
        return name
    return conventions.DECORATED.sub("", name, count=1).strip(" ") or name


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _arguments(value):
    """Traceloop records a function's ``{"args": [...], "kwargs": {...}}``: the keyword arguments are the
    tool call's arguments when there are no positional ones."""
    parsed = value
    if isinstance(value, str) and value[:1] == "{":
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    if isinstance(parsed, dict) and set(parsed) <= {"args", "kwargs"} and "kwargs" in parsed and not parsed.get("args"):
        return parsed["kwargs"]
    return value


def interpret(row: dict, attrs: dict) -> None:
    """Apply the conventions ``ATTRIBUTE_MAP`` cannot express: tool spans' arguments and results, decorated
    tool names, JSON-keyed values and LLM messages with tool calls. A span without any name of another
    convention only has its tool name cleaned (what the OTLP fast path does in SQL)."""
    if not conventions.needs_interpretation(attrs):
        if row["span_type"] == "tool":
            row["tool_name"] = tool_name(row.get("tool_name") or row.get("name"))
        return
    for convention in conventions.CONVENTIONS:
        for column, names in convention.columns.items():
            special = (
                convention.quoted
                or any("#" in n for n in names)
                or (convention.own_names and any(n in attrs for n in convention.signatures))
            )
            if row.get(column) is None and special:
                row[column] = _first(attrs, names, convention.quoted, column)
    if str(attrs.get("langfuse.observation.level") or "").upper() == "ERROR":  # Langfuse's level, not OTel status
        row["status_code"] = "ERROR"
        row["status_message"] = row.get("status_message") or _text(attrs.get("langfuse.observation.status_message"))
    if row["span_type"] == "tool" and str(row.get("error_type") or "").endswith("GraphInterrupt"):
        # LangGraph's interrupt(): the tool paused for a person's decision; it runs again once resumed
        row.update(span_type="approval", approval_status="requested", error_type=None)
    if row["span_type"] == "agent" and row.get("agent_name") is None:  # OpenInference's graph node, else its name
        logfire = attrs.get("name") if "logfire.msg_template" in attrs else None
        row["agent_name"] = _text(attrs.get("graph.node.id") or logfire) or agent_name(row.get("name"))
    handoff = _handoff(row, attrs)
    if handoff:  # the OpenAI Agents SDK hands over through a tool call; the span records the handoff, not a run
        row.update(span_type="other", tool_name=f"transfer_to_{handoff}")
    if row["span_type"] == "tool" and attrs.get("gen_ai.tool.name") == "(merged tools)":
        row["span_type"] = "other"  # Google ADK's summary of a batch of parallel calls, each with its own span
    governance.read(row, attrs)  # guardrail verdicts, resumed runs, permission decisions
    if row["span_type"] == "tool":
        if isinstance(attrs.get("tool_name"), str) and attrs["tool_name"].startswith("mcp__"):
            row["tool_name"] = attrs["tool_name"]  # the MCP name (mcp__server__tool) says which server's tool
        for convention in conventions.CONVENTIONS:
            for column, names in convention.tool_columns.items():
                if row.get(column) is None:
                    value = _first(attrs, names, convention.quoted, column)
                    row[column] = _text(_arguments(value)) if column == "tool_args" else _text(value)
        row["tool_name"] = tool_name(row.get("tool_name") or row.get("name"))  # a name the conventions gave
        _tool_message(row)
        for text, tool in (("input_text", "tool_args"), ("output_text", "tool_result")):
            if row.get(text) is not None and row.get(text) == row.get(tool):
                row[text] = None  # the same text once, where it belongs
    elif row["span_type"] == "llm":
        _messages(row, attrs)


def _handoff(row: dict, attrs: dict) -> str | None:
    """The agent an OpenAI Agents SDK handoff span hands to (OpenInference ``handoff to X``, logfire's
    ``Handoff: {from_agent} → {to_agent}``), or None."""
    if attrs.get("logfire.msg_template", "").startswith("Handoff:") and isinstance(attrs.get("to_agent"), str):
        return attrs["to_agent"]
    name = row.get("name") or ""
    if row["span_type"] == "tool" and name.startswith("handoff to ") and "openinference.span.kind" in attrs:
        return name.removeprefix("handoff to ").strip() or None
    return None


def tool_message(value) -> dict | None:
    """A LangChain ToolMessage, as LangChain tools return it and LangGraph's ToolNode records it (plain,
    ``{"type": "tool", "data": {...}}`` or serialised ``{"lc": 1, "kwargs": {...}}``), or None."""
    if isinstance(value, str) and value[:1] == "{":
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(value, dict):
        return None
    inner = value.get("data") if isinstance(value.get("data"), dict) else value.get("kwargs")
    if isinstance(inner, dict) and (value.get("type") == "tool" or "ToolMessage" in str(value.get("id"))):
        value = {"type": "tool", **inner}
    if value.get("type") == "tool" and value.get("tool_call_id") is not None:
        return value
    return None


def _tool_message(row: dict) -> None:
    """A tool span whose result is a ToolMessage: the result is its content; it names the call it answers."""
    answer = tool_message(row.get("tool_result"))
    if answer is None:
        return
    row["tool_result"] = _text(answer.get("content"))
    row["tool_call_id"] = row.get("tool_call_id") or _text(answer.get("tool_call_id"))
    if answer.get("status") == "error":
        row["status_code"] = "ERROR"


def _first(attrs: dict, names: tuple[str, ...], quoted: bool, column: str):
    for name in names:
        value = conventions.value_of(attrs, name, quoted)
        if value is not None:
            if column in ("input_tokens", "output_tokens", "cache_read_tokens") and not isinstance(value, int):
                try:
                    return int(value)
                except (TypeError, ValueError):
                    continue
            return value if column not in ("input_text", "output_text") else _text(value)
    return None


def _messages(row: dict, attrs: dict) -> None:
    """An LLM span's messages in the OpenTelemetry GenAI form when its output requests tool calls or its
    input returns tool results (so ``derive`` can make tool calls of them), or when no text was set."""
    for convention in conventions.CONVENTIONS:
        if convention.messages is None:
            continue
        for column, where in zip(("input_text", "output_text"), convention.messages, strict=True):
            found = (
                msgs.parse(conventions.value_of(attrs, where, True))
                if convention.quoted
                else msgs.from_indexed(attrs, where)
            )
            if not found:
                continue
            typed = any(p.get("type") in ("tool_call", "tool_call_response") for m in found for p in m["parts"])
            if typed or row.get(column) is None:
                row[column] = msgs.dumps(found)
    for column in ("input_text", "output_text"):
        current = row.get(column)
        if isinstance(current, str) and (
            "tool_calls" in current or "tool_use" in current or "function_call" in current
        ):
            found = msgs.parse(current)
            if found and any(p.get("type") in ("tool_call", "tool_call_response") for m in found for p in m["parts"]):
                row[column] = msgs.dumps(found)
