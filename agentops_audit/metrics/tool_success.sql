-- name: tool_success
-- grain: tool
-- unit: ratio
-- description: Per tool, the share of attempts that succeeded (raw) and of logical calls that succeeded after retries; a logical call is one tool with the same arguments within a session. Failure reads span status, error.type and the result payload.
WITH attempts AS (  -- tool_attempts: the tool_calls view's failure flags, computed once (metrics/views)
    SELECT session_key, tool_name, args_hash AS args, failed, payload_only
    FROM tool_attempts
),
logical AS (
    SELECT tool_name, session_key, args, bool_and(failed) AS failed
    FROM attempts GROUP BY ALL
)
SELECT a.tool_name AS tool,
       count(*)                                   AS attempts,
       count(*) FILTER (WHERE failed)             AS failed_attempts,
       count(*) FILTER (WHERE payload_only)       AS payload_only_failures,
       1 - failed_attempts / count(*)             AS raw_success_rate,
       any_value(l.logical_calls)                 AS logical_calls,
       any_value(l.logical_failed)                AS logical_failed,
       1 - any_value(l.logical_failed) / any_value(l.logical_calls) AS success_rate_after_retries
FROM attempts a
JOIN (SELECT tool_name, count(*) AS logical_calls, count(*) FILTER (WHERE failed) AS logical_failed
      FROM logical GROUP BY tool_name) l USING (tool_name)
GROUP BY a.tool_name
ORDER BY success_rate_after_retries, tool;
