-- name: strong_model_use
-- grain: purpose
-- unit: ratio
-- description: Per LLM call purpose (agentops.llm.purpose; '(none)' when absent), calls, calls on a model the price table does not tier small (the strong model), whether the purpose is planning (plan, planning, decide, reason), and each purpose's share of all strong-model calls.
WITH calls AS (
    SELECT coalesce(llm_purpose, '(none)') AS purpose,
           coalesce(response_model, request_model) AS model
    FROM spans
    WHERE span_type = 'llm'
), per_purpose AS (
    SELECT c.purpose,
           count(*)                                          AS calls,
           count(*) FILTER (WHERE m.tier IS DISTINCT FROM 'small') AS strong_calls,
           c.purpose IN ('plan', 'planning', 'decide', 'reason') AS planning
    FROM calls c
    LEFT JOIN audit_model_map m USING (model)
    GROUP BY c.purpose
)
SELECT purpose, calls, strong_calls, planning,
       strong_calls / nullif(sum(strong_calls) OVER (), 0) AS share_of_strong_calls
FROM per_purpose
ORDER BY planning, strong_calls DESC, purpose;
