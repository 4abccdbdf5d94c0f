-- The span_sessions view of schema.sql, shadowed by a TEMP view with the same columns and rows that reads
-- the session of each trace from audit_trace_sessions (computed once) instead of re-aggregating all spans
-- at every use. TEMP objects come first in name resolution, also inside the schema's own views (tool_calls,
-- policy_decisions, approvals, ...). Keep it equivalent to schema.sql: tests/test_metrics.py compares both.
-- Spans that carry their own session id need no join: only the others look up their trace's session.
CREATE OR REPLACE TEMP VIEW span_sessions AS
SELECT s.*, s.session_id AS session_key
FROM spans s
WHERE s.session_id IS NOT NULL
UNION ALL
SELECT s.*, coalesce(t.trace_session, s.trace_id) AS session_key
FROM spans s
LEFT JOIN audit_trace_sessions t USING (trace_id)
WHERE s.session_id IS NULL;
