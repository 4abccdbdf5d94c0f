-- name: volume
-- grain: audit
-- unit: count
-- description: Sessions, traces, spans, LLM and tool calls, and the time window the database covers.
SELECT
    (SELECT count(*) FROM sessions)                              AS sessions,
    count(DISTINCT trace_id)                                     AS traces,
    count(*)                                                     AS spans,
    count(*) FILTER (WHERE span_type = 'llm')                    AS llm_calls,
    count(*) FILTER (WHERE span_type = 'tool')                   AS tool_calls,
    min(start_time)                                              AS window_start,
    max(end_time)                                                AS window_end
FROM spans;
