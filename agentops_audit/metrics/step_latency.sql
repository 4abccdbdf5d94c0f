-- name: step_latency
-- grain: span type
-- unit: ms
-- description: Latency of each step by span type (llm, tool, retrieval, policy, approval, ...; the agent root spans are tasks and are left out): calls, P50, P95, P99.
SELECT span_type                           AS step,
       count(*)                            AS calls,
       quantile_cont(duration_ms, 0.50)    AS p50_ms,
       quantile_cont(duration_ms, 0.95)    AS p95_ms,
       quantile_cont(duration_ms, 0.99)    AS p99_ms
FROM spans
WHERE duration_ms IS NOT NULL AND span_type IS DISTINCT FROM 'agent'
GROUP BY span_type
ORDER BY step;
