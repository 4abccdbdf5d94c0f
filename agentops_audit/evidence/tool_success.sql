-- check: tool_success
-- returns: one row per failed logical tool call (one tool with the same arguments in a session, every attempt failed), as the tool_success metric counts them: its tool, arguments, attempts, how the last attempt failed and what it returned
WITH attempts AS (
    SELECT session_key, trace_id, span_id, tool_name, coalesce(tool_args, '') AS args,
           hash(coalesce(tool_args, '')) AS args_hash, start_time,
           failed_status OR failed_payload AS failed,
           CASE WHEN failed_status THEN 'status' WHEN failed_payload THEN 'payload' END AS failed_by
    FROM tool_calls
),
logical AS (
    SELECT session_key, tool_name, any_value(args) AS args, count(*) AS attempts,
           min(start_time) AS first_attempt_at,
           arg_max({'trace_id': trace_id, 'span_id': span_id, 'failed_by': failed_by}, start_time) AS last
    FROM attempts GROUP BY session_key, tool_name, args_hash  -- as the metric groups them (tool_attempts)
    HAVING bool_and(failed)
)
SELECT l.session_key        AS session_id,
       l.first_attempt_at   AS at,
       l.tool_name          AS tool,
       l.args               AS arguments,
       l.attempts,
       l.last.failed_by    AS failed_by,
       s.error_type,
       s.status_message,
       s.tool_result        AS last_result,
       l.last.trace_id     AS trace_id,
       l.last.span_id      AS span_id
FROM logical l
JOIN spans s ON s.trace_id = l.last.trace_id AND s.span_id = l.last.span_id
