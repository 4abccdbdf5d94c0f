-- name: trace_coverage
-- grain: audit
-- unit: ratio
-- description: Traced sessions over all sessions when a session registry is loaded; otherwise estimated as the share of traced sessions whose trace is complete (one root, no orphan spans).
WITH registry AS (SELECT count(*) AS n FROM session_registry),
roots AS (
    SELECT session_key, count(*) FILTER (WHERE parent_span_id IS NULL) AS roots FROM span_sessions GROUP BY ALL
),
complete AS (  -- span_orphans: the spans whose parent is missing, found once per audit (metrics/views)
    SELECT r.session_key, r.roots = 1 AND o.session_key IS NULL AS is_complete
    FROM roots r LEFT JOIN (SELECT DISTINCT session_key FROM span_orphans) o USING (session_key)
),
counts AS (
    SELECT
        (SELECT n FROM registry) > 0 AS has_registry,
        (SELECT count(*) FROM session_registry r JOIN complete c ON c.session_key = r.session_id) AS reg_covered,
        (SELECT n FROM registry) AS reg_all,
        (SELECT count(*) FROM complete WHERE is_complete) AS est_covered,
        (SELECT count(*) FROM complete) AS est_all
)
SELECT CASE WHEN has_registry THEN 'registry' ELSE 'estimated_from_completeness' END AS method,
       CASE WHEN has_registry THEN reg_covered ELSE est_covered END AS covered_sessions,
       CASE WHEN has_registry THEN reg_all ELSE est_all END AS all_sessions,
       CASE WHEN has_registry THEN reg_covered ELSE est_covered END
           / nullif(CASE WHEN has_registry THEN reg_all ELSE est_all END, 0) AS coverage
FROM counts;
