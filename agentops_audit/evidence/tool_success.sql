-- check: tool_success
-- requires: logical_tool_calls
-- returns: one row per failed logical tool call (one tool with the same arguments in a session, every attempt failed), as the tool_success metric counts them: its tool, arguments, attempts, how the last attempt failed and what it returned
SELECT l.session_key        AS session_id,
       l.first_at           AS at,
       l.tool_name          AS tool,
       coalesce(s.tool_args, '') AS arguments,
       l.attempts,
       l.last.failed_by     AS failed_by,
       s.error_type,
       s.status_message,
       s.tool_result        AS last_result,
       l.last.trace_id      AS trace_id,
       l.last.span_id       AS span_id
FROM logical_tool_calls l
JOIN spans s ON s.trace_id = l.last.trace_id AND s.span_id = l.last.span_id
WHERE l.failed
