-- name: budget_breaches
-- grain: task
-- unit: task
-- description: The tasks over a budget (tokens, tool calls or latency per task), up to 50, largest overshoot first.
WITH l AS (SELECT * FROM audit_limits),
b AS (
    SELECT session_id, workflow, 'max_tokens_per_task' AS budget, tokens::DOUBLE AS value, max_tokens_per_task AS limit_value
    FROM task_facts, l WHERE tokens > max_tokens_per_task
    UNION ALL
    SELECT session_id, workflow, 'max_tool_calls_per_task', tool_calls, max_tool_calls_per_task
    FROM task_facts, l WHERE tool_calls > max_tool_calls_per_task
    UNION ALL
    SELECT session_id, workflow, 'max_latency_ms_per_task', latency_ms, max_latency_ms_per_task
    FROM task_facts, l WHERE latency_ms > max_latency_ms_per_task
)
SELECT * FROM b ORDER BY value / limit_value DESC, session_id LIMIT 50;
