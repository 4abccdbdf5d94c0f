"""What one chat-transcript message holds: its text, the tool calls it makes (OpenAI, flat or Anthropic
``tool_use`` style), the tool results it carries (``role: tool`` or ``tool_result`` blocks), its token usage
(OpenAI or Anthropic style) and its cost. ``transcripts`` turns a conversation of these into spans."""

from __future__ import annotations

from agentops_audit.ingest.convert import dig, text_of


def text(content) -> str | None:
    """A message's text: a string as is, the text blocks of a block list joined, anything else as JSON."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        others = [
            b for b in content if not (isinstance(b, dict) and b.get("type") in ("text", "tool_use", "tool_result"))
        ]
        if texts and not others:
            return "\n".join(t for t in texts if t) or None
        if not texts and not others:
            return None
    return text_of(content)


def calls(message: dict, names: dict) -> list[dict]:
    """The tool calls an assistant message makes: (id, name, args) in message order."""
    out = []
    for item in dig(message, names["tool_calls"]) or ():
        if not isinstance(item, dict):
            continue
        function = item.get("function") if isinstance(item.get("function"), dict) else None
        if function is not None:  # OpenAI: {id, type, function: {name, arguments}}
            out.append(
                {
                    "id": item.get("id"),
                    "name": function.get("name"),
                    "args": function.get("arguments"),
                    "style": "openai",
                }
            )
        else:  # flat: {id, name, arguments}
            args = next((item[k] for k in ("arguments", "args", "input", "parameters") if k in item), None)
            out.append({"id": item.get("id"), "name": item.get("name"), "args": args, "style": "flat"})
    content = dig(message, names["content"])
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict) and block.get("type") == "tool_use":  # Anthropic content block
            out.append(
                {"id": block.get("id"), "name": block.get("name"), "args": block.get("input"), "style": "anthropic"}
            )
    return out


def results(message: dict, names: dict, role: str) -> list[dict]:
    """The tool results a message carries: a ``role: tool`` message, or ``tool_result`` blocks."""
    out = []
    content = dig(message, names["content"])
    if role in ("tool", "function"):  # the call it answers: tool_call_id, tool_use_id, or its own id (tau2)
        call_id = dig(message, names["tool_call_id"]) or message.get("tool_use_id") or message.get("id")
        out.append(
            {
                "id": call_id,
                "result": text(content) if isinstance(content, list) else text_of(content),
                "is_error": bool(message.get("is_error") or message.get("error") is True),
            }
        )
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict) and block.get("type") == "tool_result":
            inner = block.get("content")
            out.append(
                {
                    "id": block.get("tool_use_id"),
                    "result": text(inner) if isinstance(inner, list) else text_of(inner),
                    "is_error": bool(block.get("is_error")),
                }
            )
    return out


def first_int(mapping: dict, *keys) -> int | None:
    return next(
        (
            int(mapping[k])
            for k in keys
            if isinstance(mapping.get(k), int | float) and not isinstance(mapping.get(k), bool)
        ),
        None,
    )


def usage(usage) -> tuple[int | None, int | None, int | None]:
    """(input, output, cache-read) tokens from OpenAI or Anthropic style usage."""
    if not isinstance(usage, dict):
        return None, None, None
    cached = first_int(usage, "cache_read_input_tokens", "cache_read_tokens")
    details = usage.get("prompt_tokens_details")
    if cached is None and isinstance(details, dict):
        cached = first_int(details, "cached_tokens")
    return (
        first_int(usage, "input_tokens", "prompt_tokens", "input"),
        first_int(usage, "output_tokens", "completion_tokens", "output"),
        cached,
    )


def number(value) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
