-- name: trace_propagation
-- grain: defect kind
-- unit: count
-- description: Propagation defects: orphan spans, traces with several roots or none, spans quarantined for lacking ids, tool calls without a call id, sessions split across traces.
WITH ids AS (SELECT trace_id, span_id FROM spans),
orphans AS (
    SELECT count(*) AS n FROM spans s
    WHERE s.parent_span_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ids p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)
),
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
SELECT 'sessions_split_across_traces', (SELECT count(*) FROM sessions WHERE traces > 1),
       'sessions whose spans sit in more than one trace';
