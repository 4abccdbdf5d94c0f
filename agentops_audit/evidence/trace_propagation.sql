-- check: trace_propagation
-- returns: one row per propagation defect, as the trace_propagation metric counts them: an orphan span (its parent is not in the export), a trace with several root spans, a trace with no root, a tool call without a call id, a tool call whose result never arrived (agentops.tool.result_missing), a session split across traces (detail says how many roots or traces). Spans quarantined at ingest for lacking ids belong to no session: see the quarantine table.
WITH ss AS MATERIALIZED (
    SELECT trace_id, span_id, parent_span_id, session_key, start_time, name, span_type, tool_call_id
    FROM span_sessions
),
roots AS MATERIALIZED (
    SELECT trace_id, count(*) FILTER (WHERE parent_span_id IS NULL) AS roots FROM ss GROUP BY trace_id
)
SELECT s.session_key AS session_id, s.start_time AS at, 'orphan_span' AS defect,
       s.trace_id, s.span_id, s.name, 'parent ' || s.parent_span_id || ' is not in the export' AS detail
FROM ss s
WHERE s.parent_span_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ss p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)
UNION ALL
SELECT any_value(s.session_key), min(s.start_time),
       CASE WHEN any_value(r.roots) = 0 THEN 'trace_without_root' ELSE 'trace_with_several_roots' END,
       s.trace_id, NULL,
       string_agg(s.name, ', ' ORDER BY s.start_time) FILTER (WHERE s.parent_span_id IS NULL),
       CASE WHEN any_value(r.roots) = 0 THEN 'no span of the trace is a root'
            ELSE any_value(r.roots) || ' root spans' END
FROM ss s JOIN roots r USING (trace_id)
WHERE r.roots <> 1
GROUP BY s.trace_id
UNION ALL
SELECT session_key, start_time, 'tool_call_without_call_id', trace_id, span_id, name,
       'its result cannot be matched to the call'
FROM ss
WHERE span_type = 'tool' AND tool_call_id IS NULL
UNION ALL
SELECT session_key, start_time, 'tool_call_without_result', trace_id, span_id, name,
       'its result never arrived (agentops.tool.result_missing)'
FROM span_sessions
WHERE span_type = 'tool' AND tool_result IS NULL
  AND json_extract_string(attributes, '$."agentops.tool.result_missing"') IN ('true', '1')
UNION ALL
SELECT session_id, started_at, 'session_split_across_traces', NULL, NULL, NULL, traces || ' traces'
FROM sessions
WHERE traces > 1
