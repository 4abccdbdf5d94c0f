-- name: step_latency
-- grain: span type
-- unit: ms
-- description: Latency of each step by span type (llm, tool, retrieval, policy, approval, ...; the agent root spans are tasks and are left out): calls, P50, P95, P99.
-- Continuous quantiles, interpolated in the SQL itself so that DuckDB and Spark round alike (README: Running
-- on Spark, exact parity): s holds a group's sorted values; quantile p lies at rank rn = (n - 1) * p, between
-- lo = s[floor(rn)] and hi = s[ceil(rn)] (0-based), at lo * (1 - d) + hi * d with d = rn - floor(rn): the
-- formula of DuckDB's quantile_cont, evaluated one operation at a time.
WITH steps AS (
    SELECT span_type AS step, count(*) AS calls, list_sort(list(duration_ms::DOUBLE)) AS s
    FROM spans
    WHERE duration_ms IS NOT NULL AND span_type IS DISTINCT FROM 'agent'
    GROUP BY span_type
), ranks AS (
    SELECT step, calls, p, s, (array_length(s) - 1) * p AS rn
    FROM steps, (VALUES (0.50::DOUBLE), (0.95::DOUBLE), (0.99::DOUBLE)) AS quantiles(p)
), q AS (
    SELECT step, calls, p, s[floor(rn)::INTEGER + 1] AS lo, s[ceil(rn)::INTEGER + 1] AS hi, rn - floor(rn) AS d
    FROM ranks
)
SELECT step,
       calls,
       max(lo * (1 - d) + hi * d) FILTER (WHERE p = 0.50)  AS p50_ms,
       max(lo * (1 - d) + hi * d) FILTER (WHERE p = 0.95)  AS p95_ms,
       max(lo * (1 - d) + hi * d) FILTER (WHERE p = 0.99)  AS p99_ms
FROM q
GROUP BY step, calls
ORDER BY step;
