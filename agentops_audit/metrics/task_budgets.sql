-- name: task_budgets
-- grain: budget
-- unit: count
-- description: Per budget (tokens, tool calls and latency per task), the limit in force (config, else the documented default), tasks measured, tasks over the limit and the largest value seen.
WITH l AS (SELECT * FROM audit_limits)
SELECT 'max_tokens_per_task' AS budget, l.max_tokens_per_task AS limit_value, l.budgets_source AS source,
       count(t.tokens) AS tasks, count(*) FILTER (WHERE t.tokens > l.max_tokens_per_task) AS over_budget,
       max(t.tokens)::DOUBLE AS max_seen
FROM task_facts t, l GROUP BY ALL
UNION ALL
SELECT 'max_tool_calls_per_task', l.max_tool_calls_per_task, l.budgets_source,
       count(t.tool_calls), count(*) FILTER (WHERE t.tool_calls > l.max_tool_calls_per_task), max(t.tool_calls)
FROM task_facts t, l GROUP BY ALL
UNION ALL
SELECT 'max_latency_ms_per_task', l.max_latency_ms_per_task, l.budgets_source,
       count(t.latency_ms), count(*) FILTER (WHERE t.latency_ms > l.max_latency_ms_per_task), max(t.latency_ms)
FROM task_facts t, l GROUP BY ALL;
