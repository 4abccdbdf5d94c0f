-- creates: logical_tool_calls
-- reads: tool_attempts
-- One row per logical tool call: one tool with the same arguments (their hash) within a session, however many
-- attempts it took. `failed` when every attempt failed; `last` names the last attempt (trace_id, span_id and
-- how it failed). The tool success and retry metrics count these rows, and their evidence lists them.
CREATE OR REPLACE TEMP TABLE logical_tool_calls AS
SELECT session_key, tool_name, any_value(tool) AS tool, args_hash,
       count(*) AS attempts,
       count(*) FILTER (WHERE failed) AS failed_attempts,
       bool_and(failed) AS failed,
       min(start_time) AS first_at,
       arg_max({'trace_id': trace_id, 'span_id': span_id, 'failed_by': failed_by}, start_time) AS last
FROM tool_attempts
GROUP BY session_key, tool_name, args_hash;
