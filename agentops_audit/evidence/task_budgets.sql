-- check: task_budgets
-- params: max_tokens_per_task, max_tool_calls_per_task, max_latency_ms_per_task
-- returns: one row per session over a task budget (the config's budgets, else the defaults of metrics/params.py): input + output tokens, tool call attempts (retries included), or latency from first span start to last span end
WITH t AS (
    SELECT session_id, started_at, workflow, outcome, tokens, tool_calls,
           (epoch_us(ended_at) - epoch_us(started_at)) / 1000.0 AS latency_ms
    FROM sessions
)
SELECT session_id, started_at AS at, 'tokens' AS budget, tokens::DOUBLE AS used, $max_tokens_per_task AS budget_limit,
       workflow, outcome
FROM t WHERE tokens > $max_tokens_per_task
UNION ALL
SELECT session_id, started_at, 'tool_calls', tool_calls, $max_tool_calls_per_task, workflow, outcome
FROM t WHERE tool_calls > $max_tool_calls_per_task
UNION ALL
SELECT session_id, started_at, 'latency_ms', latency_ms, $max_latency_ms_per_task, workflow, outcome
FROM t WHERE latency_ms > $max_latency_ms_per_task
