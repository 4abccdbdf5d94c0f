-- name: step_latency
-- grain: span type
-- unit: ms
-- description: Latency of each step by span type (llm, tool, retrieval, policy, approval, ...; the agent root spans are tasks and are left out): calls, P50, P95, P99.
-- Continuous quantiles of the sorted durations, written out so that DuckDB and Spark round alike
-- (quantile_exact: metrics/__init__.py).
WITH steps AS (
    SELECT span_type AS step, count(*) AS calls, list_sort(list(duration_ms::DOUBLE)) AS s
    FROM spans
    WHERE duration_ms IS NOT NULL AND span_type IS DISTINCT FROM 'agent'
    GROUP BY span_type
)
SELECT step,
       calls,
       quantile_exact(s, 0.50)  AS p50_ms,
       quantile_exact(s, 0.95)  AS p95_ms,
       quantile_exact(s, 0.99)  AS p99_ms
FROM steps
ORDER BY step;
