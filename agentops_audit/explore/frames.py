"""The SQL of the explorer's frames (sessions, tool calls, LLM calls, failures) and the filters they share.

Each function returns one ordered query over the canonical views; ``Explorer`` (``explore/explorer.py``) runs
it read-only and masks the result. The filters select sessions the same way in every frame and in the
evidence queries."""

from __future__ import annotations

from typing import TypedDict

from agentops_audit.explore.scope import week_range


class Selection(TypedDict, total=False):
    """The filters every frame and ``evidence`` take, as keywords: ``workflow``, ``outcome`` and ``week`` (ISO)
    select sessions; ``tool`` keeps the sessions that called that tool."""

    workflow: str | None
    tool: str | None
    week: str | None
    outcome: str | None


def sessions_where(selection: Selection, alias: str = "s") -> tuple[str, dict]:
    """A WHERE condition over the ``sessions`` view (as ``alias``) for ``selection``, and its named
    parameters."""
    unknown = set(selection) - set(Selection.__annotations__)
    if unknown:
        raise TypeError(
            f"unknown filter {', '.join(sorted(unknown))} (filters: {', '.join(Selection.__annotations__)})"
        )
    given = {k: v for k, v in selection.items() if v is not None}
    conds, params = ["true"], {}
    for column in ("workflow", "outcome"):
        if column in given:
            conds.append(f"{alias}.{column} = ${column}")
            params[column] = given[column]
    if "week" in given:
        params["week_start"], params["week_end"] = week_range(given["week"])
        conds.append(f"{alias}.started_at >= $week_start AND {alias}.started_at < $week_end")
    if "tool" in given:
        conds.append(f"{alias}.session_id IN (SELECT session_key FROM tool_calls WHERE tool_name = $tool)")
        params["tool"] = given["tool"]
    return " AND ".join(conds), params


def sessions_sql(where: str, filtered: bool) -> str:
    """One row per session (``Explorer.sessions``); ``filtered``: the filters select some sessions."""
    return f"""
            WITH sel AS MATERIALIZED (SELECT * FROM sessions s WHERE {where}),
            tc AS (
                SELECT session_key,
                       count(*) FILTER (WHERE failed_status OR failed_payload) AS failed_tool_calls,
                       array_to_string(list_sort(list_distinct(list(tool_name))), ', ') AS tools
                FROM tool_calls {"WHERE session_key IN (SELECT session_id FROM sel)" if filtered else ""}
                GROUP BY session_key)
            SELECT s.session_id, s.workflow, s.outcome, s.failure_category,
                   strftime(s.started_at, '%G-W%V') AS week, s.started_at, s.ended_at, s.duration_ms,
                   s.spans, s.traces, s.llm_calls, s.tool_calls,
                   coalesce(tc.failed_tool_calls, 0) AS failed_tool_calls, tc.tools, s.tokens::BIGINT AS tokens,
                   s.cost_usd
            FROM sel s LEFT JOIN tc ON tc.session_key = s.session_id
            ORDER BY s.started_at, s.session_id"""


def tool_calls_sql(where: str, only_tool: str) -> str:
    """One row per tool call attempt (``Explorer.tool_calls``)."""
    return f"""
            SELECT c.session_key AS session_id, s.workflow, s.outcome, c.trace_id, c.span_id,
                   c.tool_name AS tool, c.tool_access AS access, c.tool_risk AS risk,
                   c.retry_attempt, c.start_time, c.duration_ms, c.status_code,
                   c.failed_status OR c.failed_payload AS failed,
                   CASE WHEN c.failed_status THEN 'status' WHEN c.failed_payload THEN 'payload' END AS failed_by,
                   c.error_type, c.status_message, c.tool_args AS arguments, c.tool_result AS result
            FROM tool_calls c JOIN sessions s ON s.session_id = c.session_key
            WHERE {where} {only_tool}
            ORDER BY c.start_time, c.session_key, c.span_id"""


def llm_calls_sql(where: str, texts: str) -> str:
    """One row per LLM call (``Explorer.llm_calls``); ``texts``: the prompt and completion columns, or nothing."""
    return f"""
            SELECT c.session_key AS session_id, s.workflow, s.outcome, c.trace_id, c.span_id,
                   c.operation, c.request_model AS model, c.response_model, c.agent_name,
                   c.start_time, c.duration_ms, c.status_code, c.error_type,
                   c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cost_usd{texts}
            FROM llm_calls c JOIN sessions s ON s.session_id = c.session_key
            WHERE {where}
            ORDER BY c.start_time, c.session_key, c.span_id"""


def failures_sql(where: str, only_tool: str, only_kind: str) -> str:
    """Everything that failed, one row each (``Explorer.failures``)."""
    return f"""
            WITH sess AS MATERIALIZED (
                SELECT session_id, workflow, outcome, failure_category, started_at FROM sessions),
            attempts AS (
                SELECT session_key, tool_name, hash(coalesce(tool_args, '')) AS args_hash, start_time,
                       failed_status OR failed_payload AS failed,
                       {{'trace_id': trace_id, 'span_id': span_id, 'by_status': failed_status}} AS attempt
                FROM tool_calls {only_tool}),
            logical AS (  -- as the tool_success metric groups them: same tool and arguments in a session
                SELECT session_key, tool_name, count(*) AS attempts,
                       count(*) FILTER (WHERE failed) AS failed_attempts, NOT bool_and(failed) AS recovered,
                       min(start_time) FILTER (WHERE failed) AS first_failure_at,
                       arg_max(attempt, start_time) FILTER (WHERE failed) AS last
                FROM attempts GROUP BY session_key, tool_name, args_hash
                HAVING count(*) FILTER (WHERE failed) > 0),
            f AS (
                SELECT 'tool_call' AS kind, l.session_key AS session_id, l.first_failure_at AS at,
                       l.tool_name AS name,
                       CASE WHEN l.last.by_status THEN coalesce(t.error_type, 'error status')
                            ELSE 'error payload' END AS category,
                       CASE WHEN l.last.by_status THEN t.status_message
                            WHEN json_valid(t.tool_result) THEN coalesce(
                                json_extract_string(t.tool_result, '$.error.message'),
                                json_extract_string(t.tool_result, '$.error'),
                                json_extract_string(t.tool_result, '$.message'))
                            ELSE t.tool_result END AS message,
                       l.attempts, l.failed_attempts, l.recovered, coalesce(t.tool_args, '') AS arguments,
                       t.tool_result AS result, l.last.trace_id AS trace_id, l.last.span_id AS span_id
                FROM logical l JOIN spans t ON t.trace_id = l.last.trace_id AND t.span_id = l.last.span_id
                UNION ALL
                SELECT 'llm_call', session_key, start_time, request_model, coalesce(error_type, 'error status'),
                       status_message, 1, 1, false, NULL, NULL, trace_id, span_id
                FROM llm_calls WHERE status_code = 'ERROR' OR error_type IS NOT NULL
                UNION ALL
                SELECT 'session', session_id, started_at, workflow, failure_category, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL
                FROM sess WHERE outcome = 'failure')
            SELECT f.kind, f.session_id, s.workflow, s.outcome, f.at, f.name, f.category, f.message,
                   f.attempts, f.failed_attempts, f.recovered, f.arguments, f.result, f.trace_id, f.span_id
            FROM f JOIN sess s ON s.session_id = f.session_id
            WHERE {where} {only_kind}
            ORDER BY f.at, f.session_id, f.kind, f.name, f.span_id"""
