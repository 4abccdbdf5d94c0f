-- creates: span_orphans
-- reads: span_sessions, spans
-- Spans whose parent span is not in the export (orphans), with their session: one anti-join per audit,
-- read by the trace coverage and propagation metrics.
CREATE OR REPLACE TEMP TABLE span_orphans AS
SELECT s.trace_id, s.span_id, s.session_key
FROM span_sessions s
WHERE s.parent_span_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM spans p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id);
