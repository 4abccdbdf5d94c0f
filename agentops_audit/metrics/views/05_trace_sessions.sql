-- The session of each trace (its spans' gen_ai.conversation.id), so that the derived tables below give
-- every span the same session key as the span_sessions view without recomputing it per query. Only spans
-- without a session id of their own look it up (06_span_sessions, 08_span_orphans), so only the traces
-- that have such a span are kept: none at all when every span carries its session id.
CREATE OR REPLACE TEMP TABLE audit_trace_sessions AS
SELECT trace_id, any_value(session_id) AS trace_session
FROM spans
WHERE session_id IS NOT NULL
  AND trace_id IN (SELECT trace_id FROM spans WHERE session_id IS NULL)
GROUP BY trace_id;
