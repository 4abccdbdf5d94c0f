-- name: cost_daily_p95
-- grain: day
-- unit: usd
-- description: P95 cost per task of each UTC day (by task start) with at least the minimum number of tasks (10); the series whose coefficient of variation judges cost predictability.
SELECT started_at::DATE                      AS day,
       count(*)                              AS tasks,
       quantile_cont(task_cost_usd, 0.95)    AS p95_usd
FROM task_facts
WHERE started_at IS NOT NULL
GROUP BY ALL
HAVING count(*) >= (SELECT min_tasks_per_day FROM audit_limits)
ORDER BY day;
