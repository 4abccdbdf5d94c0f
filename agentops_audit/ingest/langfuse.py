"""Langfuse exports of traces and observations: JSON Lines, a JSON list, or an API page ``{"data": [...]}``.

An observation (GENERATION, SPAN, EVENT, TOOL, AGENT, RETRIEVER, ...) becomes a span of its trace; a
trace record (``sessionId``, ``name``, ``tags``, ``input``, ``output``) becomes the agent root span,
whose span id is the trace id. Observations without a parent hang under that root, so an export of
observations without their traces shows up as orphan spans. Ids are kept as Langfuse gives them.
camelCase (API) and snake_case (database export) field names are both read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from agentops_audit.ingest import interpret
from agentops_audit.ingest.canonical import Quarantined, extend_map, fill_from_attributes
from agentops_audit.ingest.convert import excerpt, flatten, text_of, time_problem, to_micros
from agentops_audit.ingest.documents import json_documents, rows_of

NAME = "langfuse"
# observation types; a SPAN, EVENT or CHAIN is typed by its attributes (conventions), else "other"
TYPES = {
    "GENERATION": "llm",
    "TOOL": "tool",
    "AGENT": "agent",
    "RETRIEVER": "retrieval",
    "EMBEDDING": "embedding",
    "GUARDRAIL": "policy",
    "EVALUATOR": "other",
}


def sniff(head: bytes) -> bool:
    if b'"parentObservationId"' in head or b'"parent_observation_id"' in head:
        return True
    if b'"traceId"' in head and (b'"startTime"' in head or b'"usageDetails"' in head):
        return True
    return b'"sessionId"' in head and (b'"htmlPath"' in head or b'"observations"' in head)


def _get(record: dict, *names):
    for name in names:
        value = record.get(name)
        if value is not None:
            return value
    return None


def _id(value) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def _tokens(record: dict) -> tuple[int | None, int | None, int | None]:
    usage = _get(record, "usageDetails", "usage_details", "usage")
    usage = usage if isinstance(usage, dict) else {}

    def first(*keys):
        for key in keys:
            value = usage.get(key, record.get(key))
            if isinstance(value, int | float) and not isinstance(value, bool):
                return int(value)
        return None

    return (
        first("input", "promptTokens", "prompt_tokens", "input_tokens"),
        first("output", "completionTokens", "completion_tokens", "output_tokens"),
        first("cache_read_input_tokens", "input_cached_tokens", "input_cache_read"),
    )


def _cost(record: dict) -> float | None:
    value = _get(record, "calculatedTotalCost", "calculated_total_cost", "totalCost", "total_cost")
    if value is None:
        details = _get(record, "costDetails", "cost_details")
        value = details.get("total") if isinstance(details, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _metadata(record: dict) -> dict:
    """The record's metadata as attributes. Spans that reached Langfuse over OpenTelemetry keep their
    attributes under ``metadata.attributes`` and their resource's under ``metadata.resourceAttributes``:
    those come back under their own names (``resource.*`` for the resource), as the OTLP reader gives them."""
    metadata = record.get("metadata")
    if isinstance(metadata, str):
        try:
            metadata = orjson.loads(metadata)
        except orjson.JSONDecodeError:
            return {"langfuse.metadata": metadata}
    if not isinstance(metadata, dict):
        return {}
    otel = metadata.get("attributes") if isinstance(metadata.get("attributes"), dict) else {}
    resource = metadata.get("resourceAttributes") if isinstance(metadata.get("resourceAttributes"), dict) else {}
    rest = {
        k: v for k, v in metadata.items() if not (k in ("attributes", "resourceAttributes") and isinstance(v, dict))
    }
    out = flatten(rest)
    out.update({f"resource.{k}": v for k, v in resource.items() if v is not None})
    out.update({k: v for k, v in otel.items() if v is not None})
    return out


def _times(record: dict, start_names: tuple, end_names: tuple) -> tuple[int | None, int | None]:
    return to_micros(_get(record, *start_names)), to_micros(_get(record, *end_names))


def trace_row(record: dict, locator: str, mapping) -> dict | Quarantined:
    trace_id = _id(record.get("id"))
    if trace_id is None:
        return Quarantined(locator, "span without a valid trace id", excerpt(record))
    try:
        start, end = _times(record, ("timestamp", "startTime"), ("endTime",))
    except ValueError as exc:
        return Quarantined(locator, f"unreadable timestamp ({exc})", excerpt(record))
    latency = record.get("latency")
    if end is None and start is not None and isinstance(latency, int | float) and not isinstance(latency, bool):
        end = start + int(latency * 1_000_000)  # Langfuse reports trace latency in seconds
    problem = time_problem(start, end)
    if problem:
        return Quarantined(locator, problem, excerpt(record))
    attrs = {**_metadata(record), "langfuse.record": "trace"}
    for name in ("userId", "tags", "release", "version", "environment", "totalCost"):
        if record.get(name) is not None:
            attrs[f"langfuse.{name}"] = record[name]
    row = {
        "trace_id": trace_id,
        "span_id": trace_id,
        "parent_span_id": None,
        "name": text_of(record.get("name")),
        "span_type": "agent",
        "start_time": start,
        "end_time": end,
        "duration_ms": (end - start) / 1000 if end is not None else None,
        "status_code": "UNSET",
        "session_id": _id(_get(record, "sessionId", "session_id")),
        "service_version": text_of(record.get("release")),
        "input_text": text_of(record.get("input")),
        "output_text": text_of(record.get("output")),
    }
    return _fill(row, attrs, mapping, locator, record)


def observation_row(record: dict, locator: str, mapping) -> dict | Quarantined:
    trace_id = _id(_get(record, "traceId", "trace_id"))
    span_id = _id(record.get("id"))
    if trace_id is None:
        return Quarantined(locator, "span without a valid trace id", excerpt(record))
    if span_id is None:
        return Quarantined(locator, "span without a valid span id", excerpt(record))
    try:
        start, end = _times(record, ("startTime", "start_time"), ("endTime", "end_time"))
    except ValueError as exc:
        return Quarantined(locator, f"unreadable timestamp ({exc})", excerpt(record))
    problem = time_problem(start, end)
    if problem:
        return Quarantined(locator, problem, excerpt(record))
    kind = str(record.get("type") or "SPAN").upper()
    span_type = TYPES.get(kind)  # a generic SPAN, EVENT or CHAIN: what its attributes or output say it is
    answer = interpret.tool_message(record.get("output"))
    if span_type is None and answer is not None:
        span_type = "tool"  # a LangGraph/LangChain tool run, recorded as a plain span
    level = str(record.get("level") or "DEFAULT").upper()
    tokens_in, tokens_out, cached = _tokens(record)
    attrs = {**_metadata(record), "langfuse.record": "observation", "langfuse.type": kind, "langfuse.level": level}
    for name in ("promptName", "promptVersion", "modelParameters", "environment", "version"):
        if record.get(name) is not None:
            attrs[f"langfuse.{name}"] = record[name]
    row = {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": _id(_get(record, "parentObservationId", "parent_observation_id")) or trace_id,
        "name": text_of(record.get("name")),
        "span_type": span_type,
        "start_time": start,
        "end_time": end,
        "duration_ms": (end - start) / 1000 if end is not None else None,
        "status_code": "ERROR" if level == "ERROR" else "UNSET",
        "status_message": text_of(_get(record, "statusMessage", "status_message")),
        "request_model": text_of(_get(record, "model", "providedModelName", "provided_model_name")),
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cache_read_tokens": cached,
        "cost_usd": _cost(record),
        "prompt_version": text_of(record.get("promptVersion")),
    }
    # the observation's input and output: a tool call's arguments and result, an LLM call's messages, unless
    # the span's own attributes say it more exactly (conventions: the Langfuse names come after the others)
    for key in ("input", "output"):
        if record.get(key) is not None:
            attrs.setdefault(f"langfuse.observation.{key}", record[key])
    if answer is not None:  # the ToolMessage names the tool and the call it answers
        row.update(
            tool_name=text_of(answer.get("name")),
            tool_call_id=text_of(answer.get("tool_call_id")),
            tool_result=text_of(answer.get("content")),
        )
        if answer.get("status") == "error":
            row["status_code"] = "ERROR"
    if span_type is None:
        del row["span_type"]  # typed from the attributes
    return _fill(row, attrs, mapping, locator, record)


def _fill(row: dict, attrs: dict, mapping, locator: str, record: dict) -> dict | Quarantined:
    try:
        fill_from_attributes(row, attrs, mapping)
    except (TypeError, ValueError) as exc:
        return Quarantined(locator, f"attribute of the wrong type: {exc}", excerpt(record))
    return row


def _records(doc) -> list:
    """The trace and observation records of one JSON document, nested observations after their trace: an
    API page ``{"data": [...]}``, the UI's and API's ``{"trace": {...}, "observations": [...]}``, a trace
    with its ``observations`` inside, or a list of any of these."""
    if isinstance(doc, dict) and isinstance(doc.get("data"), list) and "id" not in doc:
        doc = doc["data"]
    if isinstance(doc, dict) and isinstance(doc.get("trace"), dict) and "id" not in doc:
        doc = [{**doc["trace"], "observations": doc.get("observations") or doc["trace"].get("observations")}]
    if isinstance(doc, list) and any(isinstance(d, dict) and isinstance(d.get("trace"), dict) for d in doc):
        return [r for d in doc for r in _records(d)]
    out = []
    for record in doc if isinstance(doc, list) else [doc]:
        out.append(record)
        if isinstance(record, dict) and not _get(record, "traceId", "trace_id"):
            out.extend(o for o in record.get("observations") or () if isinstance(o, dict))
    return out


def row_of(record, locator: str, mapping) -> dict | Quarantined:
    if not isinstance(record, dict):
        return Quarantined(locator, "record is not a JSON object", excerpt(record))
    if _get(record, "traceId", "trace_id") is not None or "parentObservationId" in record or "type" in record:
        return observation_row(record, locator, mapping)
    return trace_row(record, locator, mapping)


def document_rows(doc, locator: str, mapping) -> Iterator[dict | Quarantined]:
    """The rows of one document: a single record at the document's locator, several at ``locator#index``."""
    records = _records(doc)
    if len(records) == 1 and not isinstance(doc, list):
        yield row_of(records[0], locator, mapping)
    else:
        for index, record in enumerate(records):
            yield row_of(record, f"{locator}#{index}", mapping)


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    mapping = extend_map(options.get("attributes"))
    yield from rows_of(json_documents(path, data), lambda locator, doc: document_rows(doc, locator, mapping))
