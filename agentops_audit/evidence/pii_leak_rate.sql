-- check: pii_leak_rate
-- requires: pii_findings
-- returns: one row per personal-data or secret finding in stored text (pii.scan of the prompt, completion, tool arguments, tool result and status message): the span and field, the entity, the masked value, and the field's text (masked like every text the explorer returns)
SELECT s.session_key AS session_id,
       s.start_time  AS at,
       f.field,
       f.entity,
       f.kind,
       f.masked      AS finding,
       s.name,
       CASE f.field
           WHEN 'input_text' THEN s.input_text
           WHEN 'output_text' THEN s.output_text
           WHEN 'tool_args' THEN s.tool_args
           WHEN 'tool_result' THEN s.tool_result
           WHEN 'status_message' THEN s.status_message
       END AS text,
       f.trace_id,
       f.span_id
FROM pii_findings f
JOIN span_sessions s ON s.trace_id = f.trace_id AND s.span_id = f.span_id
WHERE s.trace_id IN (SELECT trace_id FROM pii_findings)  -- lets DuckDB read only the traces with findings
