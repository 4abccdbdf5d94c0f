-- name: tokens_per_task
-- grain: workflow
-- unit: tokens
-- description: Tokens per task (input + output over all LLM calls of a session): P50, P95 and mean by workflow.
SELECT workflow,
       count(*)                          AS tasks,
       quantile_cont(tokens, 0.50)       AS p50,
       quantile_cont(tokens, 0.95)       AS p95,
       avg(tokens)                       AS mean
FROM task_facts
GROUP BY workflow
ORDER BY workflow;
