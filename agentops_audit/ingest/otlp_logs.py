"""OTLP log records: the collector file exporter's JSON Lines of ``ExportLogsServiceRequest`` (``resourceLogs``).

Several instrumentations write an LLM call's messages as log events next to its span rather than on it:
OpenTelemetry's openai-v2 in its default mode (``gen_ai.system.message``, ``gen_ai.user.message``,
``gen_ai.assistant.message``, ``gen_ai.tool.message``, ``gen_ai.choice``, the body holding the message),
the current GenAI conventions' ``gen_ai.client.inference.operation.details`` (``gen_ai.input.messages`` and
``gen_ai.output.messages`` as attributes), Traceloop's events mode, Google ADK, Claude Code. Every record is
kept in ``log_events`` with the trace and span it names (same ledger rules as spans: one transaction, sha256
idempotence, quarantine, a ``sources`` row); a message event also keeps its messages in the canonical form
(``messages``). ``loader.load_records`` loads a file with ``read`` and ``commit``; ``attach`` gives a span
without messages of its own the messages its events carry, in time order, whichever file came first;
``derive`` then finds the tool calls in them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa

from agentops_audit.db import scalar
from agentops_audit.ingest import messages, otlp
from agentops_audit.ingest.canonical import Quarantined
from agentops_audit.ingest.documents import json_documents

NAME = "otlp-logs"
DETAILS = "gen_ai.client.inference.operation.details"
_SCHEMA = pa.schema(
    [
        ("trace_id", pa.string()),
        ("span_id", pa.string()),
        ("event_name", pa.string()),
        ("time", pa.timestamp("us")),
        ("seq", pa.int64()),
        ("input_messages", pa.string()),
        ("output_messages", pa.string()),
        ("body", pa.string()),
        ("attributes", pa.string()),
    ]
)


def sniff(head: bytes) -> bool:
    return b'"resourceLogs"' in head or b'"resource_logs"' in head


def _messages(name: str | None, body, attrs: dict) -> tuple[str | None, str | None]:
    """(input, output) messages of a GenAI event, as canonical JSON lists, or (None, None)."""
    if name in otlp.MESSAGE_EVENTS:
        fields = body if isinstance(body, dict) else {"content": body}
        found = messages.parse([otlp.event_message(name, {**attrs, **fields})])
        text = messages.dumps(found) if found else None
        return (text, None) if otlp.MESSAGE_EVENTS[name][1] == "in" else (None, text)
    if name == DETAILS:
        pair = [messages.parse(attrs.get(key)) for key in ("gen_ai.input.messages", "gen_ai.output.messages")]
        return tuple(messages.dumps(m) if m else None for m in pair)  # type: ignore[return-value]
    return None, None


def record_row(record, resource, locator: str, seq: int) -> dict | Quarantined:
    if not isinstance(record, dict):
        return Quarantined(locator, "log record is not a JSON object", otlp.excerpt_of(record))
    try:
        attrs = otlp.attributes_of(record.get("attributes"))
        body = otlp.value_of(record.get("body"))
        moment = int(record.get("timeUnixNano") or record.get("observedTimeUnixNano") or 0)
    except (TypeError, ValueError, OverflowError) as exc:
        return Quarantined(locator, f"attribute of the wrong type: {exc}", otlp.excerpt_of(record))
    if moment < otlp.MIN_NS:
        return Quarantined(locator, "impossible timestamp (missing, or before 2000)", otlp.excerpt_of(record))
    name = record.get("eventName") or attrs.get("event.name")
    inputs, outputs = _messages(name if isinstance(name, str) else None, body, attrs)
    return {
        "trace_id": otlp.hex_id(record.get("traceId"), 16),
        "span_id": otlp.hex_id(record.get("spanId"), 8),
        "event_name": name if isinstance(name, str) else None,
        "time": moment // 1000,
        "seq": seq,
        "input_messages": inputs,
        "output_messages": outputs,
        "body": None if body is None else orjson.dumps(body).decode(),
        "attributes": orjson.dumps({**attrs, **otlp.attributes_of(resource, prefix="resource.")}).decode(),
    }


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    seq = 0
    for locator, doc in json_documents(path, data):
        if isinstance(doc, Quarantined):
            yield doc
            continue
        batches = doc.get("resourceLogs", doc.get("resource_logs")) if isinstance(doc, dict) else None
        if not isinstance(batches, list):
            yield Quarantined(locator, "not an OTLP logs request (no resourceLogs)", otlp.excerpt_of(doc))
            continue
        index = 0
        for batch in batches:
            batch = batch if isinstance(batch, dict) else {}
            resource = (
                (batch.get("resource") or {}).get("attributes") if isinstance(batch.get("resource"), dict) else None
            )
            for scope in batch.get("scopeLogs") or batch.get("scope_logs") or ():
                for record in (
                    (scope.get("logRecords") or scope.get("log_records") or ()) if isinstance(scope, dict) else ()
                ):
                    seq += 1
                    yield record_row(record, resource, f"{locator}#{index}", seq)
                    index += 1


def commit(con: duckdb.DuckDBPyConnection, rows: list[dict], source_id: int) -> int:
    """Insert the records not stored yet (the same record exported twice is one); return how many."""
    if not rows:
        return 0
    con.register("_log_batch", pa.Table.from_pylist(rows, schema=_SCHEMA))
    try:
        inserted = scalar(
            con,
            f"""
            INSERT INTO log_events BY NAME
            SELECT * EXCLUDE (seq, n), {source_id} AS source_id FROM (
                SELECT *, row_number() OVER (PARTITION BY trace_id, span_id, event_name, time, body ORDER BY seq) AS n
                FROM _log_batch) b
            WHERE n = 1 AND NOT EXISTS (
                SELECT 1 FROM log_events e WHERE e.trace_id IS NOT DISTINCT FROM b.trace_id
                  AND e.span_id IS NOT DISTINCT FROM b.span_id AND e.event_name IS NOT DISTINCT FROM b.event_name
                  AND e.time = b.time AND e.body IS NOT DISTINCT FROM b.body::JSON)""",
        )
    finally:
        con.unregister("_log_batch")
    return inserted


_LISTS = "'[' || string_agg(substr({c}, 2, length({c}) - 2), ',' ORDER BY time) FILTER (WHERE {c} <> '[]') || ']'"


def attach(con: duckdb.DuckDBPyConnection, touched: str) -> None:
    """Give each span of the ``touched`` traces (a SQL predicate on ``trace_id``) that has no messages of its
    own the messages of its log events, in time order (the span's own text, where it has some, wins)."""
    con.execute(f"""
        UPDATE spans s SET input_text = coalesce(s.input_text, e.inputs), output_text = coalesce(s.output_text,
                                                                                                   e.outputs)
        FROM (SELECT trace_id, span_id, {_LISTS.format(c="input_messages")} AS inputs,
                     {_LISTS.format(c="output_messages")} AS outputs
              FROM log_events
              WHERE {touched} AND span_id IS NOT NULL
                AND (input_messages IS NOT NULL OR output_messages IS NOT NULL)
              GROUP BY trace_id, span_id) e
        WHERE s.trace_id = e.trace_id AND s.span_id = e.span_id AND s.derived_from IS NULL
          AND ((s.input_text IS NULL AND e.inputs IS NOT NULL) OR (s.output_text IS NULL AND e.outputs IS NOT NULL))""")
