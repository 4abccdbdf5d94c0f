-- name: session_latency
-- grain: audit
-- unit: ms
-- description: Task latency (first span start to last span end of a session): P50, P95, P99 and maximum, with continuous quantiles.
SELECT count(latency_ms)                    AS sessions,
       quantile_cont(latency_ms, 0.50)      AS p50_ms,
       quantile_cont(latency_ms, 0.95)      AS p95_ms,
       quantile_cont(latency_ms, 0.99)      AS p99_ms,
       max(latency_ms)                      AS max_ms
FROM task_facts;
