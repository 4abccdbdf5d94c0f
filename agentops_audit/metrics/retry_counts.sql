-- name: retry_counts
-- grain: tool and retry count
-- unit: count
-- description: Logical tool calls (one tool with the same arguments within a session) by tool and number of retries (attempts - 1).
SELECT tool, attempts - 1 AS retries, count(*) AS logical_calls
FROM logical_tool_calls
GROUP BY ALL
ORDER BY tool, retries;
