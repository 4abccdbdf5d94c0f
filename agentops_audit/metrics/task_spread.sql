-- name: task_spread
-- grain: audit
-- unit: usd, tokens
-- description: Per-task count, mean and sample standard deviation of cost (USD) and of tokens over the tasks that have one; what the week-over-week alerts' Welch intervals need.
-- From exact sums (n, the sum and the sum of squares as DECIMAL(38,0); costs in picodollars), each made a
-- DOUBLE once, so that no engine's order of addition changes them (README: Running on Spark, exact parity):
-- sd = sqrt((sum(x^2) - sum(x)^2 / n) / (n - 1)).
WITH sums AS (
    SELECT count(task_cost_picousd)                                        AS cost_tasks,
           sum(task_cost_picousd)::DOUBLE                                  AS cost_sum,
           sum(task_cost_picousd * task_cost_picousd)::DOUBLE              AS cost_squares,
           count(tokens)                                                   AS token_tasks,
           sum(tokens::DECIMAL(38, 0))::DOUBLE                             AS tokens_sum,
           sum(tokens::DECIMAL(38, 0) * tokens::DECIMAL(38, 0))::DOUBLE    AS tokens_squares
    FROM task_facts
)
SELECT cost_tasks,
       cost_sum / 1e12 / nullif(cost_tasks, 0)                              AS cost_mean,
       sqrt(greatest(cost_squares - cost_sum * cost_sum / cost_tasks, 0.0) / nullif(cost_tasks - 1, 0))
           / 1e12                                                           AS cost_sd,
       token_tasks,
       tokens_sum / nullif(token_tasks, 0)                                  AS tokens_mean,
       sqrt(greatest(tokens_squares - tokens_sum * tokens_sum / token_tasks, 0.0) / nullif(token_tasks - 1, 0))
                                                                            AS tokens_sd
FROM sums;
