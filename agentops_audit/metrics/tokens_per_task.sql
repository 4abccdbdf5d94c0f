-- name: tokens_per_task
-- grain: workflow
-- unit: tokens
-- description: Tokens per task (input + output over all LLM calls of a session): P50, P95 and mean by workflow.
-- The quantiles are written out (quantile_exact: metrics/__init__.py); the mean is the exact integer sum over
-- the count.
WITH workflows AS (
    SELECT workflow, count(*) AS tasks, sum(tokens)::DOUBLE / count(tokens) AS mean,
           list_sort(list(tokens::DOUBLE) FILTER (WHERE tokens IS NOT NULL)) AS s
    FROM task_facts
    GROUP BY workflow
)
SELECT workflow,
       tasks,
       quantile_exact(s, 0.50)  AS p50,
       quantile_exact(s, 0.95)  AS p95,
       mean
FROM workflows
ORDER BY workflow;
