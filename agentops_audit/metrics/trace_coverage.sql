-- name: trace_coverage
-- grain: audit
-- unit: ratio
-- description: Traced sessions over all sessions when a session registry is loaded; otherwise estimated as the share of traced sessions whose trace is complete (one root, no orphan spans).
WITH registry AS (SELECT count(*) AS n FROM session_registry),
flags AS (
    SELECT s.session_key,
           s.parent_span_id IS NULL AS is_root,
           s.parent_span_id IS NOT NULL AND p.span_id IS NULL AS is_orphan
    FROM span_sessions s
    LEFT JOIN spans p ON p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
),
complete AS (
    SELECT session_key, count(*) FILTER (WHERE is_root) = 1 AND NOT bool_or(is_orphan) AS is_complete
    FROM flags GROUP BY session_key
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
