-- name: session_latency
-- grain: audit
-- unit: ms
-- description: Task latency (first span start to last span end of a session): P50, P95, P99 and maximum, with continuous quantiles.
-- The quantiles are interpolated in the SQL itself, as in step_latency.sql.
WITH tasks AS (
    SELECT count(latency_ms) AS sessions, max(latency_ms) AS max_ms,
           list_sort(list(latency_ms) FILTER (WHERE latency_ms IS NOT NULL)) AS s
    FROM task_facts
), ranks AS (
    SELECT sessions, max_ms, p, s, (array_length(s) - 1) * p AS rn
    FROM tasks, (VALUES (0.50::DOUBLE), (0.95::DOUBLE), (0.99::DOUBLE)) AS quantiles(p)
), q AS (
    SELECT sessions, max_ms, p, s[floor(rn)::INTEGER + 1] AS lo, s[ceil(rn)::INTEGER + 1] AS hi, rn - floor(rn) AS d
    FROM ranks
)
SELECT sessions,
       max(lo * (1 - d) + hi * d) FILTER (WHERE p = 0.50)  AS p50_ms,
       max(lo * (1 - d) + hi * d) FILTER (WHERE p = 0.95)  AS p95_ms,
       max(lo * (1 - d) + hi * d) FILTER (WHERE p = 0.99)  AS p99_ms,
       max_ms
FROM q
GROUP BY sessions, max_ms;
