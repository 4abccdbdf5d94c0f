-- name: tool_success
-- grain: tool
-- unit: ratio
-- description: Per tool, the share of attempts that succeeded (raw) and of logical calls that succeeded after retries; a logical call is one tool with the same arguments within a session. Failure reads span status, error.type and the result payload.
SELECT a.tool_name AS tool,  -- attempts: metrics/views/25_tool_attempts.sql; logical calls: 26_logical_tool_calls.sql
       count(*)                                   AS attempts,
       count(*) FILTER (WHERE a.failed)           AS failed_attempts,
       count(*) FILTER (WHERE a.payload_only)     AS payload_only_failures,
       1 - failed_attempts / count(*)             AS raw_success_rate,
       any_value(l.logical_calls)                 AS logical_calls,
       any_value(l.logical_failed)                AS logical_failed,
       1 - any_value(l.logical_failed) / any_value(l.logical_calls) AS success_rate_after_retries
FROM tool_attempts a
JOIN (SELECT tool_name, count(*) AS logical_calls, count(*) FILTER (WHERE failed) AS logical_failed
      FROM logical_tool_calls GROUP BY tool_name) l USING (tool_name)
GROUP BY a.tool_name
ORDER BY success_rate_after_retries, tool;
