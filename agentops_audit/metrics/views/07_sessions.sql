-- The sessions view, materialised as a TEMP table of the same name: TEMP objects come first in name
-- resolution, so every later query of this connection (metrics of every area, the success predicate)
-- reads this copy instead of re-aggregating all spans. The audit reads a fixed database, so the copy
-- cannot go stale. Same columns, types and rows as the view in schema.sql (tests/test_metrics.py), in two
-- steps: per (session, trace), then per session, which counts the traces without a DISTINCT aggregate.
CREATE TEMP TABLE IF NOT EXISTS sessions AS
WITH per_trace AS (
    SELECT session_key, trace_id,
           any_value(workflow) FILTER (WHERE workflow IS NOT NULL)                 AS workflow,
           any_value(session_outcome) FILTER (WHERE session_outcome IS NOT NULL)   AS outcome,
           any_value(failure_category) FILTER (WHERE failure_category IS NOT NULL) AS failure_category,
           min(start_time)                                                         AS started_at,
           max(end_time)                                                           AS ended_at,
           count(*)                                                                AS spans,
           count(*) FILTER (WHERE span_type = 'llm')                               AS llm_calls,
           count(*) FILTER (WHERE span_type = 'tool')                              AS tool_calls,
           sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0))            AS tokens,
           sum(cost_usd)                                                           AS cost_usd
    FROM span_sessions
    GROUP BY session_key, trace_id
)
SELECT session_key AS session_id,
       any_value(workflow) FILTER (WHERE workflow IS NOT NULL)                 AS workflow,
       any_value(outcome) FILTER (WHERE outcome IS NOT NULL)                   AS outcome,
       any_value(failure_category) FILTER (WHERE failure_category IS NOT NULL) AS failure_category,
       min(started_at)                                                         AS started_at,
       max(ended_at)                                                           AS ended_at,
       date_diff('millisecond', min(started_at), max(ended_at))                AS duration_ms,
       sum(spans)::BIGINT                                                      AS spans,
       count(*)                                                                AS traces,
       sum(llm_calls)::BIGINT                                                  AS llm_calls,
       sum(tool_calls)::BIGINT                                                 AS tool_calls,
       sum(tokens)                                                             AS tokens,
       sum(cost_usd)                                                           AS cost_usd
FROM per_trace
GROUP BY session_key;
