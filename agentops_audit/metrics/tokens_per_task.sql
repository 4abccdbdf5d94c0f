-- name: tokens_per_task
-- grain: workflow
-- unit: tokens
-- description: Tokens per task (input + output over all LLM calls of a session): P50, P95 and mean by workflow.
-- The quantiles are interpolated in the SQL itself, as in step_latency.sql; the mean is the exact integer sum
-- over the count.
WITH workflows AS (
    SELECT workflow, count(*) AS tasks, sum(tokens)::DOUBLE / count(tokens) AS mean,
           list_sort(list(tokens::DOUBLE) FILTER (WHERE tokens IS NOT NULL)) AS s
    FROM task_facts
    GROUP BY workflow
), ranks AS (
    SELECT workflow, tasks, mean, p, s, (array_length(s) - 1) * p AS rn
    FROM workflows, (VALUES (0.50::DOUBLE), (0.95::DOUBLE)) AS quantiles(p)
), q AS (
    SELECT workflow, tasks, mean, p, s[floor(rn)::INTEGER + 1] AS lo, s[ceil(rn)::INTEGER + 1] AS hi,
           rn - floor(rn) AS d
    FROM ranks
)
SELECT workflow,
       tasks,
       max(lo * (1 - d) + hi * d) FILTER (WHERE p = 0.50)  AS p50,
       max(lo * (1 - d) + hi * d) FILTER (WHERE p = 0.95)  AS p95,
       mean
FROM q
GROUP BY workflow, tasks, mean
ORDER BY workflow;
