-- name: cache_reads
-- grain: audit
-- unit: ratio
-- description: Share of LLM input tokens read from the prompt cache (gen_ai.usage.cache_read.input_tokens over all input tokens), calls that report cache reads at all, and prompts over the per-call input budget (stuffed context).
SELECT count(*)                                                     AS llm_calls,
       count(cache_read_tokens)                                     AS calls_reporting_cache,
       coalesce(sum(input_tokens), 0)::BIGINT                         AS input_tokens,
       coalesce(sum(cache_read_tokens), 0)::BIGINT                    AS cache_read_tokens,
       sum(cache_read_tokens) / nullif(sum(input_tokens), 0)        AS cache_read_share,
       count(*) FILTER (WHERE input_tokens > (SELECT max_input_tokens_per_call FROM audit_limits))
                                                                    AS oversized_prompts,
       (SELECT max_input_tokens_per_call FROM audit_limits)         AS max_input_tokens_per_call
FROM spans
WHERE span_type = 'llm';
