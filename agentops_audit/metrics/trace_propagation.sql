-- name: trace_propagation
-- grain: defect kind
-- unit: count
-- description: Propagation defects: orphan spans, traces with several roots or none, spans quarantined for lacking ids, tool calls without a call id, tool calls without a matching result, sessions split across traces.
WITH orphans AS (SELECT count(*) AS n FROM span_orphans),  -- found once per audit (metrics/views)
roots AS (
    SELECT trace_id, count(*) FILTER (WHERE parent_span_id IS NULL) AS roots FROM spans GROUP BY trace_id
)
SELECT 'orphan_spans' AS defect, (SELECT n FROM orphans) AS count,
       'spans whose parent span is not in the export' AS meaning
UNION ALL
SELECT 'traces_with_several_roots', (SELECT count(*) FROM roots WHERE roots > 1),
       'traces with more than one root span'
UNION ALL
SELECT 'traces_without_root', (SELECT count(*) FROM roots WHERE roots = 0),
       'traces whose root span is missing'
UNION ALL
SELECT 'spans_without_ids', (SELECT count(*) FROM quarantine WHERE reason LIKE 'span without a valid % id'),
       'spans quarantined at ingest for lacking a trace or span id'
UNION ALL
SELECT 'tool_calls_without_call_id', (SELECT count(*) FROM tool_calls WHERE tool_call_id IS NULL),
       'tool calls that cannot be matched to their result'
UNION ALL
SELECT 'tool_calls_without_result',
       (SELECT count(*) FROM spans WHERE span_type = 'tool' AND tool_result IS NULL
          AND json_extract_string(attributes, '$."agentops.tool.result_missing"') IN ('true', '1')),
       'tool calls whose result never arrived (agentops.tool.result_missing, set by the ingest adapters)'
UNION ALL
SELECT 'sessions_split_across_traces', (SELECT count(*) FROM sessions WHERE traces > 1),
       'sessions whose spans sit in more than one trace';
