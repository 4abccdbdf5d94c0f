-- creates: tool_attempts
-- reads: tool_calls, audit_tool_classes
-- One row per tool call attempt with the failure flags of the tool_calls view (span status or error.type;
-- an error in the result payload), how it failed (failed_by: status, payload) and a hash of the arguments:
-- the input of the tool success, retry and error-streak metrics and evidence, so the payload checks run once
-- per audit.
CREATE OR REPLACE TEMP TABLE tool_attempts AS
SELECT session_key, trace_id, span_id, start_time, tool_name, coalesce(tool_name, '(unnamed)') AS tool,
       hash(coalesce(tool_args, '')) AS args_hash,
       failed_status OR failed_payload AS failed,
       NOT failed_status AND failed_payload AS payload_only,
       CASE WHEN failed_status THEN 'status' WHEN failed_payload THEN 'payload' END AS failed_by
FROM tool_calls;
