-- name: cost_daily_p95
-- grain: day
-- unit: usd
-- description: P95 cost per task of each UTC day (by task start) with at least the minimum number of tasks (10); the series whose coefficient of variation judges cost predictability.
-- The quantile is written out (quantile_exact: metrics/__init__.py).
WITH days AS (
    SELECT started_at::DATE AS day, count(*) AS tasks, list_sort(list(task_cost_usd)) AS s
    FROM task_facts
    WHERE started_at IS NOT NULL
    GROUP BY ALL
    HAVING count(*) >= (SELECT min_tasks_per_day FROM audit_limits)
)
SELECT day,
       tasks,
       quantile_exact(s, 0.95)  AS p95_usd
FROM days
ORDER BY day;
