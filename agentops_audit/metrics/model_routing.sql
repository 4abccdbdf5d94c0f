-- name: model_routing
-- grain: purpose
-- unit: ratio
-- description: Per LLM call purpose that belongs on a small model (agentops.llm.purpose in classify/extract, or the config's routing.purposes), calls, calls served by a small-tier model (price table tiers) and their share.
WITH calls AS (
    SELECT llm_purpose AS purpose,
           coalesce(response_model, request_model) AS model
    FROM spans
    WHERE span_type = 'llm'
)
SELECT c.purpose,
       count(*)                                               AS calls,
       count(*) FILTER (WHERE m.tier = 'small')               AS small_model_calls,
       small_model_calls / count(*)                           AS small_share,
       string_agg(DISTINCT c.model, ', ' ORDER BY c.model) FILTER (WHERE m.tier IS DISTINCT FROM 'small')
                                                              AS other_models
FROM calls c
JOIN audit_routing r USING (purpose)
LEFT JOIN audit_model_map m USING (model)
GROUP BY c.purpose
ORDER BY small_share, c.purpose;
