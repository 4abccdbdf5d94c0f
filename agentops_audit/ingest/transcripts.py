"""Chat transcripts: one conversation per record, as a JSON list, JSON Lines, or a list under a key; or an
agent's session log of one message per line (Claude Code: ``type`` user/assistant, ``message``, ``sessionId``).

Each conversation becomes an agent root span, one llm span per assistant message and one tool span per
tool call. Tool calls may be OpenAI style (``tool_calls[].function {name, arguments}``), flat
(``tool_calls[] {id, name, arguments}``) or Anthropic ``tool_use`` content blocks; results (``role: tool``
messages or ``tool_result`` blocks) are joined to their call by id. A call without a result keeps
``tool_result`` NULL and carries ``agentops.tool.result_missing``. Where a record keeps its fields is
the ``transcript`` section of the mapping file (``mapping.TranscriptSpec``). Ids are derived from the
session id and the message index, so re-ingesting an overlapping export de-duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import orjson

from agentops_audit.ingest import transcript_messages as msg
from agentops_audit.ingest.canonical import Quarantined, fill_from_attributes
from agentops_audit.ingest.convert import MIN_MICROS, dig, excerpt, text_of, to_micros
from agentops_audit.ingest.documents import json_documents
from agentops_audit.ingest.mapping import TranscriptSpec, transcript_spec

NAME = "transcript"
SYNTHETIC_BASE = MIN_MICROS  # 2000-01-01T00:00:00Z: synthetic clocks are visibly not real dates
STEP = 1_000_000  # one second per message on a synthetic clock
_CONTAINERS = ("conversations", "records", "data", "results", "items", "sessions")
_SESSION_KEYS = ("session_id", "sessionId", "conversation_id", "thread_id", "id")
_MESSAGE_KEYS = ("messages", "conversation", "traj", "trajectory")
_ASSISTANT = {"assistant", "model", "ai"}


def sniff(head: bytes) -> bool:
    return b'"role"' in head and any(k in head for k in (b'"assistant"', b'"tool_calls"', b'"tool_use"'))


def is_conversation(record) -> bool:
    """A record with a message list (messages, conversation, traj, trajectory) whose items have roles."""
    if not isinstance(record, dict):
        return False
    messages = next((record[k] for k in _MESSAGE_KEYS if isinstance(record.get(k), list)), None)
    return (
        bool(messages) and all(isinstance(m, dict) for m in messages[:20]) and any("role" in m for m in messages[:20])
    )


def conversations_key(doc) -> str | None:
    """The key under which a JSON object keeps a list of conversations, whatever its name (tau2-bench's
    ``simulations``, ...): the conventional names first, then any key whose list holds conversations."""
    if not isinstance(doc, dict):
        return None
    keys = [k for k in _CONTAINERS if k in doc] + [k for k in doc if k not in _CONTAINERS]
    return next((k for k in keys if isinstance(doc[k], list) and doc[k] and is_conversation(doc[k][0])), None)


def sniff_document(doc) -> bool:
    """Whether a whole parsed JSON document is chat-shaped: a conversation, a list of them, or an object
    holding a list of them under any key (the byte sniff may not reach the messages of a large header)."""
    if isinstance(doc, list):
        return bool(doc) and is_conversation(doc[0])
    return is_conversation(doc) or conversations_key(doc) is not None


def _id(*parts) -> str:
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()


def _records(locator: str, doc, spec: TranscriptSpec) -> Iterator[tuple[str, object]]:
    """(locator, conversation record) pairs of one JSON document."""
    if spec.records:
        found = dig(doc, spec.records)
        if not isinstance(found, list):
            yield locator, Quarantined(locator, f"no list of conversations at '{spec.records}'", excerpt(doc))
            return
        doc = found
    elif isinstance(doc, dict) and not _messages_path(doc, spec):
        key = conversations_key(doc) or next((k for k in _CONTAINERS if isinstance(doc.get(k), list)), None)
        if key is not None:
            doc = doc[key]
    if isinstance(doc, list):
        for index, record in enumerate(doc):
            yield f"{locator}#{index}", record
    else:
        yield locator, doc


def _messages_path(record: dict, spec: TranscriptSpec) -> str | None:
    if spec.messages:
        return spec.messages
    return next((k for k in _MESSAGE_KEYS if isinstance(record.get(k), list)), None)


def _session_id(record: dict, spec: TranscriptSpec) -> tuple[str | None, bool]:
    """(session id, derived?). Without a mapped or conventional field, the id is a hash of the record."""
    if spec.session_id is not None:
        return spec.session_id.resolve(record), False
    for key in _SESSION_KEYS:
        value = record.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value), False
    return "sha256:" + hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32], True


def _clock(record: dict, messages: list, spec: TranscriptSpec) -> tuple[list[int], bool]:
    """Per-message times in microseconds, and whether they are synthetic. Raises ValueError."""
    stamps = [to_micros(dig(m, spec.message["timestamp"])) for m in messages]
    if messages and all(s is not None for s in stamps):
        for index in range(1, len(stamps)):
            if stamps[index] < stamps[index - 1]:
                raise ValueError("impossible timestamps: a message is earlier than the one before it")
        return stamps, False
    base = to_micros(dig(record, spec.started_at)) if spec.started_at else None
    if base is None:
        base = next((s for s in stamps if s is not None), SYNTHETIC_BASE)
    return [base + index * STEP for index in range(len(messages))], True


def conversation_rows(record, locator: str, spec: TranscriptSpec) -> Iterator[dict | Quarantined]:
    """The spans of one conversation record, or one quarantine record when it cannot be read."""
    if not isinstance(record, dict):
        yield Quarantined(locator, "conversation record is not a JSON object", excerpt(record))
        return
    where = _messages_path(record, spec)
    messages = dig(record, where) if where else None
    if not isinstance(messages, list):
        yield Quarantined(
            locator, f"conversation without a message list at '{where or '|'.join(_MESSAGE_KEYS)}'", excerpt(record)
        )
        return
    bad = next((i for i, m in enumerate(messages) if not isinstance(m, dict)), None)
    if bad is not None:
        yield Quarantined(locator, "message is not a JSON object", excerpt(messages[bad]))
        return
    session, derived = _session_id(record, spec)
    if session is None:
        yield Quarantined(
            locator, f"conversation without a session id at '{spec.session_id.describe()}'", excerpt(record)
        )
        return
    try:
        times, synthetic = _clock(record, messages, spec)
        if messages and times[0] < MIN_MICROS:
            raise ValueError("impossible start timestamp (missing, or before 2000)")
    except ValueError as exc:
        reason = str(exc) if str(exc).startswith("impossible") else f"unreadable timestamp ({exc})"
        yield Quarantined(locator, reason, excerpt(record))
        return
    yield from _spans(record, messages, session, derived, times, synthetic, spec)


def _spans(
    record: dict, messages: list, session: str, derived: bool, times: list[int], synthetic: bool, spec: TranscriptSpec
) -> Iterator[dict]:
    names = spec.message
    trace_id = _id("transcript", session)[:32]
    root_id = _id(session, "root")[:16]
    workflow = spec.workflow.resolve(record) if spec.workflow else None
    model = spec.model.resolve(record) if spec.model else None
    agent = spec.agent_name.resolve(record) if spec.agent_name else None
    common = {
        "trace_id": trace_id,
        "session_id": session,
        "workflow": workflow,
        "agent_name": agent,
        "span_kind": "INTERNAL",
        "status_code": "UNSET",
    }
    flags = {"gen_ai.conversation.id": session}
    if synthetic:
        flags["agentops.synthetic_time"] = True

    calls: list[dict] = []  # every tool call, in order, with its result once joined
    pending: dict[str, list[dict]] = {}
    llm_rows: list[dict] = []
    orphan_results = 0
    inputs: list[str] = []
    # where assistant messages report usage, one that reports none and calls no tool was not written by the
    # model (tau2-bench's fixed greeting): a step of the conversation, not an LLM call
    metered = any(str(dig(m, names["role"]) or "").lower() in _ASSISTANT and dig(m, names["usage"]) for m in messages)
    for index, message in enumerate(messages):
        role = str(dig(message, names["role"]) or "").lower()
        for result in msg.results(message, names, role):
            waiting = pending.get(str(result["id"])) if result["id"] is not None else None
            if waiting:
                call = waiting.pop(0)
                call.update(result=result["result"], is_error=result["is_error"], result_index=index)
            else:
                orphan_results += 1
        if role not in _ASSISTANT:
            if role in ("system", "developer", "user") and (text := msg.text(dig(message, names["content"]))):
                inputs.append(text)
            continue
        tokens_in, tokens_out, cached = msg.usage(dig(message, names["usage"]))
        message_calls = msg.calls(message, names)
        msg_model = dig(message, names["model"]) or dig(message, "raw_data.model")  # tau2: the raw response
        scripted = metered and not dig(message, names["usage"]) and not message_calls
        attrs = {**flags, "agentops.transcript.message_index": index}
        if not scripted:
            attrs["gen_ai.operation.name"] = "chat"
        if message_calls:
            attrs["agentops.transcript.tool_calls"] = len(message_calls)
        llm_rows.append(
            {
                **common,
                "span_id": _id(session, index)[:16],
                "parent_span_id": root_id,
                "name": "assistant message"
                if scripted
                else f"chat {msg_model or model}"
                if (msg_model or model)
                else "chat",
                "operation": None if scripted else "chat",
                "span_type": "other" if scripted else "llm",
                "start_time": times[index - 1] if index else times[index],
                "end_time": times[index],
                "request_model": text_of(msg_model) or model,
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "cache_read_tokens": cached,
                "cost_usd": msg.number(dig(message, names["cost"])),
                "input_text": "\n\n".join(inputs) or None,
                "output_text": msg.text(dig(message, names["content"])),
                "_attrs": attrs,
            }
        )
        inputs = []
        for number, call in enumerate(message_calls):
            call.update(index=index, number=number, result=None, is_error=False, result_index=None)
            calls.append(call)
            if call["id"] is not None:
                pending.setdefault(str(call["id"]), []).append(call)

    start, end = (times[0], times[-1]) if times else (SYNTHETIC_BASE, SYNTHETIC_BASE)
    raw_outcome = dig(record, spec.outcome.path) if spec.outcome else record.get("outcome")
    outcome = (
        spec.outcome.resolve(raw_outcome)
        if spec.outcome
        else raw_outcome.lower()
        if isinstance(raw_outcome, str) and raw_outcome.lower() in ("success", "failure", "escalated")
        else None
    )
    root_attrs = {**flags, "gen_ai.operation.name": "invoke_agent", "agentops.transcript.messages": len(messages)}
    if outcome:
        root_attrs["agentops.session.outcome"] = outcome
    if raw_outcome is not None:
        root_attrs["agentops.transcript.outcome_raw"] = raw_outcome
    if derived:
        root_attrs["agentops.transcript.derived_session_id"] = True
    if orphan_results:
        root_attrs["agentops.transcript.results_without_call"] = orphan_results
    yield _finish(
        {
            **common,
            "span_id": root_id,
            "parent_span_id": None,
            "name": f"invoke_agent {agent or workflow or ''}".strip(),
            "operation": "invoke_agent",
            "span_type": "agent",
            "start_time": start,
            "end_time": end,
            "session_outcome": outcome,
            "request_model": model,
            "cost_usd": msg.number(dig(record, spec.cost)) if spec.cost else None,
            "_attrs": root_attrs,
        }
    )
    yield from (_finish(row) for row in llm_rows)
    for call in calls:
        attrs = {
            **flags,
            "gen_ai.operation.name": "execute_tool",
            "agentops.transcript.message_index": call["index"],
            "agentops.transcript.tool_call_style": call["style"],
        }
        if call["result_index"] is None:
            attrs["agentops.tool.result_missing"] = True
        failed = call["is_error"]
        yield _finish(
            {
                **common,
                "span_id": _id(session, call["index"], call["number"])[:16],
                "parent_span_id": root_id,
                "name": f"execute_tool {call['name']}" if call["name"] else "execute_tool",
                "operation": "execute_tool",
                "span_type": "tool",
                "start_time": times[call["index"]],
                "end_time": times[call["result_index"]] if call["result_index"] is not None else None,
                "tool_name": text_of(call["name"]),
                "tool_call_id": text_of(call["id"]),
                "tool_args": text_of(call["args"]),
                "tool_result": call["result"],
                "status_code": "ERROR" if failed else "UNSET",
                "_attrs": attrs,
            }
        )


def _finish(row: dict) -> dict:
    attrs = row.pop("_attrs")
    if row.get("end_time") is not None:
        row["duration_ms"] = (row["end_time"] - row["start_time"]) / 1000
    fill_from_attributes(row, attrs)
    return row


def _is_message_event(doc) -> bool:
    """A line of an agent's session log that holds one message (Claude Code's session files)."""
    return (
        isinstance(doc, dict)
        and doc.get("type") in ("user", "assistant")
        and isinstance(doc.get("message"), dict)
        and doc.get("sessionId") is not None
    )


def _event_conversations(events: list[tuple[str, dict]]) -> Iterator[tuple[str, dict]]:
    """Message lines grouped into one conversation per session. One model response may be written over
    several lines (one per content block) that repeat its message id and usage: they become one message."""
    sessions: dict[str, tuple[str, list[dict]]] = {}
    by_id: dict[tuple[str, str], dict] = {}
    for locator, doc in events:
        session = str(doc["sessionId"])
        first, messages = sessions.setdefault(session, (locator, []))
        message = {**doc["message"], "timestamp": doc.get("timestamp")}
        content = message.get("content")
        key = (session, str(message.get("id"))) if message.get("id") else None
        if key and key in by_id:  # the next block of a response already started
            earlier = by_id[key]
            blocks = earlier["content"] if isinstance(earlier.get("content"), list) else []
            more = content if isinstance(content, list) else [{"type": "text", "text": content}]
            earlier["content"] = blocks + more
            continue
        if key:
            by_id[key] = message
        messages.append(message)
    for session, (locator, messages) in sessions.items():
        yield locator, {"session_id": session, "messages": messages}


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    spec = transcript_spec(options)
    events: list[tuple[str, dict]] = []
    for locator, doc in json_documents(path, data):
        if isinstance(doc, Quarantined):
            yield doc
            continue
        if _is_message_event(doc):
            events.append((locator, doc))
            continue
        if isinstance(doc, dict) and doc.get("sessionId") is not None and "messages" not in doc:
            continue  # another event of a session log (title, attachment, queue): not a message
        for where, record in _records(locator, doc, spec):
            if isinstance(record, Quarantined):
                yield record
            else:
                yield from conversation_rows(record, where, spec)
    for where, record in _event_conversations(events):
        yield from conversation_rows(record, where, spec)
