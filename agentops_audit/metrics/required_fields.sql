-- name: required_fields
-- grain: field
-- unit: ratio
-- description: Completeness of the fields an investigation needs, each over the spans it applies to: model name and version and prompt template version (llm), document ids and timestamp (retrieval), arguments and result (tool), latency (every span), outcome (every task).
WITH c AS (
    SELECT count(*) FILTER (WHERE span_type = 'llm')                                    AS llm,
           count(request_model) FILTER (WHERE span_type = 'llm')                        AS model_name,
           count(response_model) FILTER (WHERE span_type = 'llm')                       AS model_version,
           count(prompt_version) FILTER (WHERE span_type = 'llm')                       AS prompt_version,
           count(*) FILTER (WHERE span_type = 'retrieval')                              AS retrieval,
           count(*) FILTER (WHERE span_type = 'retrieval'
                            AND coalesce(retrieval_doc_ids, '[]') NOT IN ('[]', ''))    AS retrieval_doc_ids,
           count(end_time) FILTER (WHERE span_type = 'retrieval')                       AS retrieval_timestamp,
           count(*) FILTER (WHERE span_type = 'tool')                                   AS tool,
           count(tool_args) FILTER (WHERE span_type = 'tool')                           AS tool_args,
           count(tool_result) FILTER (WHERE span_type = 'tool')                         AS tool_result,
           count(*)                                                                     AS all_spans,
           count(duration_ms)                                                           AS latency
    FROM spans
),
t AS (SELECT count(*) AS tasks, count(outcome) AS outcome FROM task_facts),
f AS (
    SELECT 'model_name' AS field, 'llm' AS applies_to, llm AS applicable, model_name AS present FROM c
    UNION ALL SELECT 'model_version', 'llm', llm, model_version FROM c
    UNION ALL SELECT 'prompt_version', 'llm', llm, prompt_version FROM c
    UNION ALL SELECT 'retrieval_doc_ids', 'retrieval', retrieval, retrieval_doc_ids FROM c
    UNION ALL SELECT 'retrieval_timestamp', 'retrieval', retrieval, retrieval_timestamp FROM c
    UNION ALL SELECT 'tool_args', 'tool', tool, tool_args FROM c
    UNION ALL SELECT 'tool_result', 'tool', tool, tool_result FROM c
    UNION ALL SELECT 'latency', 'span', all_spans, latency FROM c
    UNION ALL SELECT 'outcome', 'task', tasks, outcome FROM t
)
SELECT field, applies_to, applicable, present, present / applicable AS completeness
FROM f WHERE applicable > 0
ORDER BY completeness, field;
