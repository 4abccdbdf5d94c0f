"""LLM messages in any of the shapes instrumentation writes, as OpenTelemetry GenAI messages.

The canonical form is the one of ``gen_ai.input.messages`` / ``gen_ai.output.messages`` in the current
OpenTelemetry GenAI conventions: a list of ``{"role", "parts"}`` whose parts are ``{"type": "text",
"content"}``, ``{"type": "tool_call", "id", "name", "arguments"}`` and ``{"type": "tool_call_response",
"id", "response"}``. ``parse`` reads, besides that form:

- OpenAI chat messages (``content``, ``tool_calls[].function``, ``tool_call_id``), a chat request
  (``{"messages": [...]}``) or response (``{"choices": [{"message"}]}``);
- OpenAI Responses API items (``function_call``, ``function_call_output``, ``message`` with
  ``output_text`` blocks), a Responses request (``{"input": ...}``) or response (``{"output": [...]}``);
- Anthropic content blocks (``text``, ``tool_use``, ``tool_result``);
- flat tool calls ``{id, name, arguments|args|input}`` (LangChain, Traceloop) and LangChain messages
  (``type: human|ai|tool``, also serialised as ``{"lc": 1, "kwargs": {...}}``);
- Gemini parts (``text``, ``function_call``, ``function_response``);
- a JSON string of any of these.

``from_indexed`` rebuilds a list from flattened, numbered attributes: OpenInference
``llm.input_messages.N.message.*`` and Traceloop/OpenLLMetry ``gen_ai.prompt.N.*``.
"""

from __future__ import annotations

import re

import orjson

_ROLES = {
    "human": "user",
    "ai": "assistant",
    "model": "assistant",
    "developer": "system",
    "function": "tool",
    "humanmessage": "user",
    "aimessage": "assistant",
    "toolmessage": "tool",
    "systemmessage": "system",
    "aimessagechunk": "assistant",
}
_TEXT_BLOCKS = ("text", "input_text", "output_text")
_INDEX = re.compile(r"^(\d+)$")


def _loads(value):
    if isinstance(value, str | bytes):
        text = value.strip() if isinstance(value, str) else value.strip().decode("utf-8", "replace")
        if text[:1] in ("[", "{"):
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return None
        return None
    return value


def _role(message: dict) -> str | None:
    role = message.get("role")
    if role is None:
        kind = message.get("type")
        role = kind if isinstance(kind, str) and kind.lower() in _ROLES else None
        if role is None and isinstance(message.get("id"), list) and message["id"]:  # LangChain serialised
            role = str(message["id"][-1])
    if not isinstance(role, str):
        return None
    return _ROLES.get(role.lower(), role.lower())


def _text_part(text) -> dict | None:
    if text is None or text == "":
        return None
    return {"type": "text", "content": text if isinstance(text, str) else orjson.dumps(text).decode()}


def _call(call_id, name, arguments) -> dict:
    return {"type": "tool_call", "id": None if call_id is None else str(call_id), "name": name, "arguments": arguments}


def _response(call_id, response) -> dict:
    return {"type": "tool_call_response", "id": None if call_id is None else str(call_id), "response": response}


def _tool_call(item) -> dict | None:
    """One entry of a ``tool_calls`` list: OpenAI ``{id, function: {name, arguments}}``, OpenInference
    ``{tool_call: {...}}``, or flat ``{id, name, arguments|args|input}``."""
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("tool_call"), dict):
        item = item["tool_call"]
    function = item.get("function")
    if isinstance(function, dict):
        return _call(item.get("id"), function.get("name"), function.get("arguments"))
    name = item.get("name")
    if not isinstance(name, str):
        return None
    args = next((item[k] for k in ("arguments", "args", "input", "parameters") if k in item), None)
    return _call(item.get("id"), name, args)


def _block(block, role: str | None) -> list[dict]:
    """The parts of one content block (OpenAI, Anthropic, Responses, Gemini, OTel)."""
    if isinstance(block, str):
        part = _text_part(block)
        return [part] if part else []
    if not isinstance(block, dict):
        return []
    kind = block.get("type")
    if kind in ("tool_call", "tool_call_response") and ("name" in block or "response" in block):
        return [dict(block)]  # already canonical
    if kind in _TEXT_BLOCKS or (kind is None and "text" in block and len(block) <= 2):
        part = _text_part(block.get("text", block.get("content")))
        return [part] if part else []
    if kind == "tool_use":  # Anthropic
        return [_call(block.get("id"), block.get("name"), block.get("input"))]
    if kind == "tool_result":  # Anthropic
        return [_response(block.get("tool_use_id"), _plain(block.get("content")))]
    if kind == "function_call":  # OpenAI Responses
        return [_call(block.get("call_id", block.get("id")), block.get("name"), block.get("arguments"))]
    if kind == "function_call_output":
        return [_response(block.get("call_id"), block.get("output"))]
    call = block.get("function_call", block.get("functionCall"))
    if isinstance(call, dict):  # Gemini
        return [_call(call.get("id"), call.get("name"), call.get("args"))]
    answer = block.get("function_response", block.get("functionResponse"))
    if isinstance(answer, dict):
        return [_response(answer.get("id"), answer.get("response"))]
    if kind == "message_content" or "message_content" in block:  # OpenInference contents.N.message_content
        inner = block.get("message_content", block)
        part = _text_part(inner.get("text")) if isinstance(inner, dict) else None
        return [part] if part else []
    if kind is not None:
        return [{"type": str(kind), **{k: v for k, v in block.items() if k != "type"}}]
    return []


def _plain(content):
    """A tool result's content as text where it is text blocks only."""
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") in _TEXT_BLOCKS]
        if texts and len(texts) == len(content):
            return "\n".join(t for t in texts if isinstance(t, str))
    return content


def message(raw) -> dict | None:
    """One message in any known shape as ``{"role", "parts"}``; None when it is not a message."""
    if not isinstance(raw, dict):
        return None
    if isinstance(raw.get("message"), dict) and "role" not in raw:  # OpenInference {message: {...}}, choices
        raw = raw["message"]
    if raw.get("lc") == 1 and isinstance(raw.get("kwargs"), dict):  # LangChain serialised message
        raw = {**raw["kwargs"], "id": raw.get("id")} if "type" not in raw["kwargs"] else raw["kwargs"]
    kind = raw.get("type")
    if kind in ("function_call", "function_call_output"):  # a Responses API item on its own
        role = "assistant" if kind == "function_call" else "tool"
        return {"role": role, "parts": _block(raw, role)}
    role = _role(raw)
    if role is None:
        return None
    parts: list[dict] = []
    if isinstance(raw.get("parts"), list):
        for part in raw["parts"]:
            parts.extend(_block(part, role))
    content = raw.get("content", raw.get("contents"))
    if isinstance(content, list):
        for block in content:
            parts.extend(_block(block, role))
    elif content is not None and not (role == "tool" and _call_id_of(raw) is not None):
        part = _text_part(content)
        if part:
            parts.append(part)
    extra = raw.get("additional_kwargs") if isinstance(raw.get("additional_kwargs"), dict) else {}
    for item in raw.get("tool_calls") or extra.get("tool_calls") or ():  # LangChain keeps OpenAI's in kwargs
        call = _tool_call(item)
        if call:
            parts.append(call)
    legacy = raw.get("function_call")
    if isinstance(legacy, dict) and legacy.get("name"):
        parts.append(_call(None, legacy.get("name"), legacy.get("arguments")))
    if role == "tool" and _call_id_of(raw) is not None:
        parts.append(_response(_call_id_of(raw), _plain(content)))
    return {"role": role, "parts": parts}


def _call_id_of(raw: dict):
    return raw.get("tool_call_id", raw.get("tool_use_id", raw.get("call_id")))


def _items(doc) -> list | None:
    """The list of messages inside a request, response or bare list."""
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    for key in ("messages", "input", "output", "inputs", "outputs"):
        inner = doc.get(key)
        if isinstance(inner, list) and inner and all(isinstance(m, dict | list) for m in inner):
            return inner
        if isinstance(inner, str) and key in ("input", "inputs") and "model" in doc:  # Responses: input text
            return [{"role": "user", "content": inner}]
        if isinstance(inner, dict) and key in ("messages",):
            return [inner]
    choices = doc.get("choices")
    if isinstance(choices, list):
        return [c.get("message") or c.get("delta") for c in choices if isinstance(c, dict)]
    generations = doc.get("generations")
    if isinstance(generations, list):  # LangChain LLMResult: [[{text, message}]]
        flat = [g for group in generations for g in (group if isinstance(group, list) else [group])]
        return [
            g.get("message") or {"role": "assistant", "content": g.get("text")} for g in flat if isinstance(g, dict)
        ]
    if "role" in doc or "parts" in doc or doc.get("type") in ("function_call", "function_call_output"):
        return [doc]
    return None


def parse(value) -> list[dict] | None:
    """Canonical messages from ``value`` (a JSON string or a parsed value), or None when it holds none."""
    items = _items(_loads(value))
    if not items:
        return None
    out = []
    for item in items:
        if isinstance(item, list):  # LangChain batches: [[messages]]
            out.extend(m for m in (message(i) for i in item) if m)
            continue
        found = message(item)
        if found:
            out.append(found)
    return out or None


def _nest(flat: dict[str, object]) -> object:
    """Dotted keys (``0.message.role``) as nested dicts, numeric segments as list positions."""
    root: dict = {}
    for key, value in flat.items():
        node = root
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    if node and all(_INDEX.match(k) for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


def from_indexed(attrs: dict, prefix: str) -> list[dict] | None:
    """Messages kept as numbered attributes under ``prefix`` (``llm.input_messages``, ``gen_ai.prompt``),
    or as one list-valued attribute of that name (a nested export)."""
    whole = attrs.get(prefix)
    if isinstance(whole, list | str):
        return parse(whole)
    start = prefix + "."
    flat = {k[len(start) :]: v for k, v in attrs.items() if k.startswith(start) and k[len(start) :][:1].isdigit()}
    if not flat:
        return None
    nested = _nest(flat)
    return parse(nested if isinstance(nested, list) else list(nested.values()))


def tool_calls(messages: list[dict] | None) -> list[dict]:
    return [p for m in messages or () for p in m["parts"] if p.get("type") == "tool_call"]


def dumps(messages: list[dict]) -> str:
    return orjson.dumps(messages).decode()
