-- creates: audit_model_map
-- reads: spans, audit_prices, audit_small_models
-- Every model seen on a span, mapped to its price-table entry (longest name prefix) and tier.
-- A model listed in the config's routing.small_models counts as small even when it is not priced.
CREATE OR REPLACE TEMP TABLE audit_model_map AS
WITH models AS (
    SELECT DISTINCT coalesce(response_model, request_model) AS model
    FROM spans WHERE coalesce(response_model, request_model) IS NOT NULL
),
matched AS (
    SELECT m.model, p.model AS price_model, p.input_usd, p.cache_read_usd, p.output_usd, p.tier
    FROM models m LEFT JOIN audit_prices p ON starts_with(m.model, p.model)
    QUALIFY row_number() OVER (PARTITION BY m.model ORDER BY length(p.model) DESC NULLS LAST) = 1
)
SELECT model, price_model, input_usd, cache_read_usd, output_usd,
       CASE WHEN model IN (SELECT model FROM audit_small_models) THEN 'small' ELSE tier END AS tier
FROM matched;
