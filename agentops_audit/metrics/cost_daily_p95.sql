-- name: cost_daily_p95
-- grain: day
-- unit: usd
-- description: P95 cost per task of each UTC day (by task start) with at least the minimum number of tasks (10); the series whose coefficient of variation judges cost predictability.
-- The quantile is interpolated in the SQL itself, as in step_latency.sql.
WITH days AS (
    SELECT started_at::DATE AS day, count(*) AS tasks, list_sort(list(task_cost_usd)) AS s
    FROM task_facts
    WHERE started_at IS NOT NULL
    GROUP BY ALL
    HAVING count(*) >= (SELECT min_tasks_per_day FROM audit_limits)
), q AS (
    SELECT day, tasks, s[floor(rn)::INTEGER + 1] AS lo, s[ceil(rn)::INTEGER + 1] AS hi, rn - floor(rn) AS d
    FROM (SELECT *, (array_length(s) - 1) * 0.95::DOUBLE AS rn FROM days)
)
SELECT day,
       tasks,
       lo * (1 - d) + hi * d                 AS p95_usd
FROM q
ORDER BY day;
