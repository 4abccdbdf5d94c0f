-- name: retry_counts
-- grain: tool and retry count
-- unit: count
-- description: Logical tool calls (one tool with the same arguments within a session) by tool and number of retries (attempts - 1).
SELECT tool, retries, count(*) AS logical_calls
FROM (
    SELECT tool, count(*) - 1 AS retries
    FROM tool_attempts
    GROUP BY session_key, tool, args_hash
)
GROUP BY ALL
ORDER BY tool, retries;
