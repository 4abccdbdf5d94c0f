-- Spans whose parent span is not in the export (orphans), with their session: one anti-join per audit,
-- read by the trace coverage and propagation metrics.
CREATE OR REPLACE TEMP TABLE span_orphans AS
WITH o AS (
    SELECT s.trace_id, s.span_id, s.session_id
    FROM spans s
    WHERE s.parent_span_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM spans p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)
)
SELECT o.trace_id, o.span_id, coalesce(o.session_id, t.trace_session, o.trace_id) AS session_key
FROM o LEFT JOIN audit_trace_sessions t USING (trace_id);
