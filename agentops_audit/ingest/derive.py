"""Tool calls that exist only inside LLM messages become tool spans.

Many instrumentations record a model's tool calls only in its messages: the call in one LLM span's output
(``gen_ai.output.messages`` parts of type ``tool_call``; ``conventions.interpret`` rewrites other shapes
into that one) and the result in a later LLM span's input (``tool_call_response`` parts). The application
runs the tool between the two, without a span. ``derive`` turns each such call into a tool span, set-based,
after a file is loaded:

- its parent is the LLM span that asked for it; it starts when that span ends and ends when the LLM span
  that received the result starts; session, workflow, agent and release are the LLM span's;
- the result is joined by call id from the first later input of the same trace, else of the same session,
  else of the same service (a model call without a parent span or a session is a trace of its own; call
  ids are unique per call);
  a call whose result never arrives carries ``agentops.tool.result_missing`` (as transcripts do);
- a tool span that stands for a call takes from it what the span lacks: the call id, the result, and the
  arguments as an object where the span recorded a bare value;
- a call is not derived where a tool span already stands for it: one of the trace, or of the session (a
  run resumed after a person's approval is a trace of its own), with the same call id, or, for spans
  that record no call id (or calls that have none), the n-th span of that tool name for the n-th call;
  nor is a structured-output "tool" that nothing runs (pydantic-ai's output tools);
- its span id is a hash of the LLM span and the call's position, so loading again derives the same rows.

Derived rows carry ``derived_from = 'llm_message'`` (NULL for every span read from an export), so the
ledger's counts stay the rows read. Every trace a file touches is derived again as a whole: a later file
that brings the tool spans, or the results, replaces what an earlier one derived.
"""

from __future__ import annotations

import duckdb

from agentops_audit.db import scalar

DERIVED = "llm_message"
_PARTS = '[{"role": "VARCHAR", "parts": ["JSON"]}]'


def _parts(column: str) -> str:
    """Every part of every message of a canonical message list in ``column``, in order, as a list of JSON
    (bad JSON or another shape: an empty list, never an error)."""
    return (
        f"(CASE WHEN NOT json_valid({column}) THEN [] WHEN json_type({column}) = 'ARRAY' "
        f"THEN flatten(list_transform(from_json({column}, '{_PARTS}'), lambda m: coalesce(m.parts, []))) "
        f"ELSE [] END)"
    )


def derive(con: duckdb.DuckDBPyConnection, touched: str) -> int:
    """Derive the tool calls of the traces a file touched (``touched``: a query of their trace ids); return
    how many derived rows they hold now (0 at once when no message there holds a tool call and nothing was
    derived before)."""
    asks = (
        "(span_type = 'llm' AND (contains(output_text, '\"tool_call\"') "
        "OR contains(input_text, '\"tool_call_response\"')))"
    )
    mine = f"SELECT count(*) FROM (SELECT 1 FROM spans WHERE trace_id IN ({touched}) AND {asks} LIMIT 1)"
    before = f"SELECT count(*) FROM (SELECT 1 FROM spans WHERE derived_from = '{DERIVED}' LIMIT 1)"
    if not scalar(con, mine) and not scalar(con, before):
        return 0
    con.execute(_TOUCHED.format(touched=touched))
    con.execute(f"DELETE FROM spans WHERE derived_from = '{DERIVED}' AND trace_id IN (SELECT trace_id FROM _touched)")
    con.execute(
        _CALLS.format(
            parts_out=_parts("l.output_text"),
            parts_in=_parts("l.input_text"),
            asks=asks,
            output_tools=_OUTPUT_TOOLS,
            call_id=_CALL_ID,
        )
    )
    raw = _RAW_ARGUMENTS
    con.execute(f"""
        UPDATE spans s SET tool_call_id = coalesce(s.tool_call_id, c.call_id),
                           tool_result = coalesce(s.tool_result, c.response),
                           tool_args = CASE WHEN {raw} THEN coalesce(c.arguments, s.tool_args) ELSE s.tool_args END
        FROM _calls c
        WHERE s.trace_id = c.trace_id AND s.span_id = c.stands_for AND derived_from IS NULL
          AND (s.tool_call_id IS NULL OR (s.tool_result IS NULL AND c.response IS NOT NULL) OR {raw})""")
    derived = scalar(con, _INSERT.format(derived=DERIVED)) or 0
    con.execute("DROP TABLE _touched; DROP TABLE _calls")  # (an error rolls back the file, and these with it)
    return derived


# a part's call id; one given as a list names the call last, as canonical.LAST_OF_LIST reads span attributes
_CALL_ID = "CASE WHEN json_type(part->'id') = 'ARRAY' THEN json_extract_string(part, '$.id[#-1]') ELSE part->>'id' END"

# a tool span's arguments that are not a JSON object (OpenInference's LangChain instrumentation records the
# bare value of a tool's only parameter: 'Paris'), where the model's call names them ({"city": "Paris"})
_RAW_ARGUMENTS = (
    "(c.arguments IS NOT NULL AND json_valid(c.arguments) AND json_type(c.arguments) = 'OBJECT' "
    "AND (s.tool_args IS NULL OR NOT json_valid(s.tool_args) OR json_type(s.tool_args) != 'OBJECT'))"
)

# pydantic-ai answers with a structured output through a tool call ("final_result") that nothing runs: the
# request names such tools in model_request_parameters.output_tools (an object, or its JSON text)
_MRP = "json_extract_string(l.attributes, '$.\"model_request_parameters\"')"
_OUTPUT_TOOLS = (
    f"CASE WHEN NOT contains(l.attributes::VARCHAR, 'output_tools') THEN NULL "
    f"WHEN NOT json_valid({_MRP}) THEN NULL "
    f"ELSE json_extract_string({_MRP}, '$.output_tools[*].name') END"
)

# the traces of the file, those sharing a session with them, and
# those whose derived calls still wait for a result (an instrumentation without a parent span or a session
# puts every model call in a trace of its own)
_TOUCHED = """
CREATE OR REPLACE TEMP TABLE _touched AS
WITH mine AS (SELECT DISTINCT trace_id, session_id FROM spans WHERE trace_id IN ({touched}))
SELECT trace_id FROM mine
UNION
SELECT trace_id FROM spans
WHERE session_id IN (SELECT session_id FROM mine WHERE session_id IS NOT NULL)
UNION
SELECT trace_id FROM spans WHERE derived_from IS NOT NULL AND tool_result IS NULL
"""

# every tool call the touched traces' LLM messages request, its result, and the tool span standing for it
_CALLS = """
CREATE OR REPLACE TEMP TABLE _calls AS
WITH llm AS (
    SELECT * FROM spans
    WHERE trace_id IN (SELECT trace_id FROM _touched) AND derived_from IS NULL AND {asks}
), requested AS (
    SELECT l.trace_id, l.span_id AS llm_span_id, l.session_id, l.workflow, l.agent_name, l.service_name,
           l.service_version, l.end_time AS asked_at, l.source_id, {output_tools} AS output_tools,
           unnest({parts_out}) AS part, generate_subscripts({parts_out}, 1) AS position
    FROM llm l
    WHERE contains(l.output_text, '"tool_call"')
), calls AS (
    SELECT * EXCLUDE (part), {call_id} AS call_id, part->>'name' AS tool,
           CASE WHEN json_type(part->'arguments') = 'VARCHAR' THEN part->>'arguments'
                WHEN json_type(part->'arguments') = 'NULL' THEN NULL
                ELSE (part->'arguments')::VARCHAR END AS arguments,
           row_number() OVER (PARTITION BY trace_id, part->>'name' ORDER BY asked_at, llm_span_id, position) AS nth
    FROM requested
    WHERE part->>'type' = 'tool_call' AND part->>'name' IS NOT NULL
      AND NOT coalesce(list_contains(output_tools, part->>'name'), false)
), answered AS (
    SELECT trace_id, session_id, service_name, answered_at, {call_id} AS call_id,
           CASE WHEN json_type(part->'response') = 'VARCHAR' THEN part->>'response'
                ELSE (part->'response')::VARCHAR END AS response
    FROM (SELECT l.trace_id, l.session_id, l.service_name, l.start_time AS answered_at, unnest({parts_in}) AS part
          FROM llm l WHERE contains(l.input_text, '"tool_call_response"'))
    WHERE part->>'type' = 'tool_call_response' AND {call_id} IS NOT NULL
), tools AS (
    SELECT trace_id, session_id, span_id, tool_call_id, tool_name,
           row_number() OVER (PARTITION BY trace_id, tool_name, tool_call_id IS NULL
                              ORDER BY start_time, span_id) AS nth,
           row_number() OVER (PARTITION BY trace_id, tool_name ORDER BY start_time, span_id) AS nth_of_name
    FROM spans  -- a tool span, or another span that stands for a call (an Agents SDK handoff: interpret)
    WHERE trace_id IN (SELECT trace_id FROM _touched) AND derived_from IS NULL
      AND (span_type = 'tool' OR (span_type = 'other' AND tool_name IS NOT NULL))
)
SELECT c.*,
       coalesce((SELECT any_value(t.span_id) FROM tools t WHERE t.trace_id = c.trace_id AND t.tool_call_id = c.call_id),
                (SELECT any_value(t.span_id) FROM tools t
                 WHERE t.session_id = c.session_id AND t.tool_call_id = c.call_id),
                (SELECT any_value(t.span_id) FROM tools t WHERE t.trace_id = c.trace_id AND t.tool_call_id IS NULL
                                                           AND t.tool_name = c.tool AND t.nth = c.nth),
                (SELECT any_value(t.span_id) FROM tools t WHERE c.call_id IS NULL AND t.trace_id = c.trace_id
                                                           AND t.tool_name = c.tool AND t.nth_of_name = c.nth)
       ) AS stands_for,
       r.answered_at, r.response
FROM calls c
LEFT JOIN LATERAL (
    SELECT a.answered_at, a.response FROM answered a
    WHERE a.call_id = c.call_id AND a.answered_at >= c.asked_at
      AND a.service_name IS NOT DISTINCT FROM c.service_name
    ORDER BY (a.trace_id = c.trace_id) DESC, (a.session_id = c.session_id) DESC NULLS LAST, a.answered_at
    LIMIT 1
) r ON true
"""

_INSERT = """
INSERT INTO spans BY NAME
SELECT trace_id,
       substr(md5(trace_id || ':' || llm_span_id || ':' || position::VARCHAR), 1, 16) AS span_id,
       llm_span_id AS parent_span_id, 'execute_tool ' || tool AS name, 'INTERNAL' AS span_kind,
       'tool' AS span_type, 'execute_tool' AS operation, asked_at AS start_time, answered_at AS end_time,
       date_diff('microsecond', asked_at, answered_at) / 1000.0 AS duration_ms, 'UNSET' AS status_code,
       service_name, service_version, session_id, workflow, agent_name, tool AS tool_name, call_id AS tool_call_id,
       arguments AS tool_args, response AS tool_result,
       CASE WHEN answered_at IS NULL
            THEN json_object('agentops.derived.llm_span_id', llm_span_id, 'agentops.tool.result_missing', true)
            ELSE json_object('agentops.derived.llm_span_id', llm_span_id) END AS attributes,
       source_id, '{derived}' AS derived_from
FROM _calls
WHERE stands_for IS NULL
"""
