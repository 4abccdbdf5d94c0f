-- name: task_spread
-- grain: audit
-- unit: usd, tokens
-- description: Per-task count, mean and sample standard deviation of cost (USD) and of tokens over the tasks that have one; what the week-over-week alerts' Welch intervals need.
-- From exact sums (n, the sum and the sum of squares as DECIMAL(38,0)), each made a DOUBLE once, so that no
-- engine's order of addition changes them (README: Running on Spark, exact parity):
-- sd = sqrt((sum(x^2) - sum(x)^2 / n) / (n - 1)). The mean's sum is in picodollars; the squares are of whole
-- nanodollars, of tasks under $1M (a square of DECIMAL(38,0) holds 38 digits): with a larger task the cost sd is
-- NULL (the alert's interval is then not tested). Tokens likewise, of tasks under 1e15 tokens.
WITH t AS (
    SELECT task_cost_picousd,
           CASE WHEN abs(task_cost_usd) < 1e6 THEN floor(task_cost_usd * 1e9 + 0.5)::DECIMAL(38, 0) END AS nano,
           tokens,
           CASE WHEN tokens < 1e15 THEN tokens::DECIMAL(38, 0) END                                     AS tok
    FROM task_facts
), sums AS (
    SELECT count(task_cost_picousd)                                        AS cost_tasks,
           sum(task_cost_picousd)::DOUBLE                                  AS cost_sum,
           count(nano)                                                     AS nano_tasks,
           sum(nano)::DOUBLE                                               AS nano_sum,
           sum(nano * nano)::DOUBLE                                        AS nano_squares,
           count(tokens)                                                   AS token_tasks,
           sum(tokens::DECIMAL(38, 0))::DOUBLE                             AS tokens_sum,
           count(tok)                                                      AS tok_tasks,
           sum(tok)::DOUBLE                                                AS tok_sum,
           sum(tok * tok)::DOUBLE                                          AS tok_squares
    FROM t
)
SELECT cost_tasks,
       cost_sum / 1e12 / nullif(cost_tasks, 0)                              AS cost_mean,
       CASE WHEN nano_tasks = cost_tasks THEN
           sqrt(greatest(nano_squares - nano_sum * nano_sum / nano_tasks, 0.0) / nullif(nano_tasks - 1, 0)) / 1e9
       END                                                                  AS cost_sd,
       token_tasks,
       tokens_sum / nullif(token_tasks, 0)                                  AS tokens_mean,
       CASE WHEN tok_tasks = token_tasks THEN
           sqrt(greatest(tok_squares - tok_sum * tok_sum / tok_tasks, 0.0) / nullif(tok_tasks - 1, 0))
       END                                                                  AS tokens_sd
FROM sums;
