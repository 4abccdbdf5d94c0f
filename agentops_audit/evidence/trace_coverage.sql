-- check: trace_coverage
-- returns: one row per session the trace_coverage metric counts as not covered: a traced session whose trace is incomplete (no root span, several roots, or orphan spans), and, when a session registry is loaded, a registered session with no trace (only registered sessions count then)
WITH flags AS (
    SELECT s.session_key, s.start_time,
           s.parent_span_id IS NULL AS is_root,
           s.parent_span_id IS NOT NULL AND p.span_id IS NULL AS is_orphan
    FROM span_sessions s
    LEFT JOIN spans p ON p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
),
traced AS (
    SELECT session_key, min(start_time) AS started_at, count(*) AS spans,
           count(*) FILTER (WHERE is_root) AS roots, count(*) FILTER (WHERE is_orphan) AS orphan_spans
    FROM flags GROUP BY session_key
),
registry AS (SELECT count(*) > 0 AS loaded FROM session_registry)
SELECT session_key AS session_id, started_at AS at,
       CASE WHEN roots = 0 THEN 'no root span' WHEN roots > 1 THEN 'several root spans'
            ELSE 'orphan spans' END AS reason,
       spans, roots, orphan_spans
FROM traced
WHERE (roots <> 1 OR orphan_spans > 0)
  AND (NOT (SELECT loaded FROM registry) OR session_key IN (SELECT session_id FROM session_registry))
UNION ALL
SELECT r.session_id, r.started_at, 'registered but not traced', 0, 0, 0
FROM session_registry r
WHERE r.session_id NOT IN (SELECT session_key FROM traced)
