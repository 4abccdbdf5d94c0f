-- name: versions
-- grain: version kind
-- unit: ratio
-- description: Share of the spans each version applies to that carry it: prompt template version on LLM calls, tool schema version on tool calls, policy version on policy decisions; and how many distinct versions were seen.
SELECT 'prompt' AS kind, 'llm' AS applies_to, count(*) AS applicable, count(prompt_version) AS present,
       count(prompt_version) / count(*) AS completeness, count(DISTINCT prompt_version) AS versions
FROM spans WHERE span_type = 'llm'
HAVING count(*) > 0
UNION ALL
SELECT 'tool_schema', 'tool', count(*), count(tool_schema_version), count(tool_schema_version) / count(*),
       count(DISTINCT tool_schema_version)
FROM spans WHERE span_type = 'tool'
HAVING count(*) > 0
UNION ALL
SELECT 'policy', 'policy decision', count(*), count(policy_version), count(policy_version) / count(*),
       count(DISTINCT policy_version)
FROM spans WHERE policy_decision IS NOT NULL
HAVING count(*) > 0
ORDER BY completeness, kind;
