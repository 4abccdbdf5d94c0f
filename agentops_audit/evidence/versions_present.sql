-- check: versions_present
-- returns: one row per session whose LLM calls lack a prompt template version, whose tool calls lack a tool-schema version, or whose policy decisions lack a policy version: which versions are missing and on how many spans
WITH gaps AS (
    SELECT session_key, min(start_time) AS first_at,
           count(*) FILTER (WHERE span_type = 'llm' AND prompt_version IS NULL)          AS llm_without_prompt_version,
           count(*) FILTER (WHERE span_type = 'tool' AND tool_schema_version IS NULL)    AS tools_without_schema_version,
           count(*) FILTER (WHERE policy_decision IS NOT NULL AND policy_version IS NULL) AS decisions_without_policy_version
    FROM span_sessions GROUP BY session_key
)
SELECT session_key AS session_id, first_at AS at,
       concat_ws(', ',
           CASE WHEN llm_without_prompt_version > 0 THEN 'prompt' END,
           CASE WHEN tools_without_schema_version > 0 THEN 'tool schema' END,
           CASE WHEN decisions_without_policy_version > 0 THEN 'policy' END) AS missing,
       llm_without_prompt_version, tools_without_schema_version, decisions_without_policy_version
FROM gaps
WHERE llm_without_prompt_version + tools_without_schema_version + decisions_without_policy_version > 0
