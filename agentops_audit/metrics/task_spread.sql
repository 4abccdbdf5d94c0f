-- name: task_spread
-- grain: audit
-- unit: usd, tokens
-- description: Per-task count, mean and sample standard deviation of cost (USD) and of tokens over the tasks that have one; what the week-over-week alerts' Welch intervals need.
SELECT count(task_cost_usd)          AS cost_tasks,
       avg(task_cost_usd)            AS cost_mean,
       stddev_samp(task_cost_usd)    AS cost_sd,
       count(tokens)                 AS token_tasks,
       avg(tokens)                   AS tokens_mean,
       stddev_samp(tokens)           AS tokens_sd
FROM task_facts;
