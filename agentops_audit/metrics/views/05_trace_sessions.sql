-- The session of each trace (its spans' gen_ai.conversation.id), so that the derived tables below give
-- every span the same session key as the span_sessions view without recomputing it per query.
CREATE OR REPLACE TEMP TABLE audit_trace_sessions AS
SELECT trace_id, any_value(session_id) AS trace_session
FROM spans WHERE session_id IS NOT NULL
GROUP BY trace_id;
