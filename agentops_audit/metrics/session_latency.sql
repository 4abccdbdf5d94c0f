-- name: session_latency
-- grain: audit
-- unit: ms
-- description: Task latency (first span start to last span end of a session): P50, P95, P99 and maximum, with continuous quantiles.
-- The quantiles are written out (quantile_exact: metrics/__init__.py).
WITH tasks AS (
    SELECT count(latency_ms) AS sessions, max(latency_ms) AS max_ms,
           list_sort(list(latency_ms) FILTER (WHERE latency_ms IS NOT NULL)) AS s
    FROM task_facts
)
SELECT sessions,
       quantile_exact(s, 0.50)  AS p50_ms,
       quantile_exact(s, 0.95)  AS p95_ms,
       quantile_exact(s, 0.99)  AS p99_ms,
       max_ms
FROM tasks;
