-- creates: task_facts
-- reads: metered_spans, audit_model_map, sessions
-- One row per task (session): outcome, the success judgement, latency, tokens, tool calls and cost.
-- Cost of a span: its exported agentops.cost.usd, else its tokens priced by the price table (input
-- tokens include cache reads); spans with tokens but an unknown model stay unpriced and are counted; a span
-- with neither a usable cost nor tokens is not priced (at $0) but counted as unusable. A cost
-- that is no amount (NaN, infinite, or beyond $1e9 for one span, exported or priced) is left out, and counted.
-- Only metered spans count (schema.sql: a span whose children report tokens or cost is their sum).
-- {success_predicate} is replaced by the validated predicate (see metrics/params.py).
-- Money is added exactly: each span's cost is rounded to whole picodollars (1e-12 USD: the bundled prices are
-- whole picodollars per token) and summed as DECIMAL(38,0), so no engine's order of addition changes the sum;
-- task_cost_picousd keeps that exact sum for the metrics that add tasks up (cost_per_task, task_spread), and
-- task_cost_usd is it as a DOUBLE, converted once (README: Running on Spark, exact parity).
CREATE OR REPLACE TEMP TABLE task_facts AS
WITH costed AS (
    -- an exported cost that is no amount (NaN, infinite, beyond a billion dollars) is not read: the span is
    -- priced from its tokens instead, like a span that exports none
    SELECT s.session_key,
           CASE WHEN s.cost_usd BETWEEN -1e9 AND 1e9 THEN s.cost_usd END         AS exported_usd,
           s.cost_usd IS NOT NULL AND NOT (s.cost_usd BETWEEN -1e9 AND 1e9)      AS exported_unusable,
           m.input_usd IS NOT NULL                                               AS known_model,
           s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL             AS has_tokens,
           (coalesce(s.input_tokens, 0) - coalesce(s.cache_read_tokens, 0)) * m.input_usd
               + coalesce(s.cache_read_tokens, 0) * m.cache_read_usd
               + coalesce(s.output_tokens, 0) * m.output_usd                     AS priced_usd
    FROM metered_spans s
    LEFT JOIN audit_model_map m ON m.model = coalesce(s.response_model, s.request_model)
), span_cost AS (
    SELECT session_key,
           count(*) FILTER (WHERE exported_usd IS NOT NULL)                      AS cost_exported_spans,
           count(*) FILTER (WHERE exported_usd IS NULL AND has_tokens AND known_model) AS cost_priced_spans,
           count(*) FILTER (WHERE exported_usd IS NULL AND has_tokens AND NOT known_model)
                                                                                 AS cost_unpriced_spans,
           count(*) FILTER (WHERE exported_unusable
                               OR NOT (coalesce(exported_usd, priced_usd) BETWEEN -1e9 AND 1e9))
                                                                                 AS cost_unusable_spans,
           sum(CASE WHEN coalesce(exported_usd, priced_usd) BETWEEN -1e9 AND 1e9
                    THEN floor(coalesce(exported_usd, priced_usd) * 1e12 + 0.5)::DECIMAL(38, 0) END)
                                                                                 AS task_cost_picousd
    FROM costed
    GROUP BY session_key
),
s AS (SELECT * FROM sessions)
SELECT s.session_id, coalesce(s.workflow, '(none)') AS workflow, s.outcome, s.failure_category,
       s.started_at, s.ended_at,
       (epoch_us(s.ended_at) - epoch_us(s.started_at)) / 1000.0 AS latency_ms,
       s.tokens::BIGINT AS tokens, s.tool_calls, s.llm_calls,
       CASE WHEN ({success_predicate}) THEN true WHEN NOT ({success_predicate}) THEN false END AS success,
       coalesce(c.task_cost_picousd::DOUBLE / 1e12, 0.0) AS task_cost_usd,
       coalesce(c.task_cost_picousd, 0::DECIMAL(38, 0)) AS task_cost_picousd,
       coalesce(c.cost_exported_spans, 0)       AS cost_exported_spans,
       coalesce(c.cost_priced_spans, 0)         AS cost_priced_spans,
       coalesce(c.cost_unpriced_spans, 0)       AS cost_unpriced_spans,
       coalesce(c.cost_unusable_spans, 0)       AS cost_unusable_spans
FROM s LEFT JOIN span_cost c ON c.session_key = s.session_id;
