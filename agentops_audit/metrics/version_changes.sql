-- name: version_changes
-- grain: version change
-- unit: change
-- description: Each version change over the window: prompt template versions per workflow, tool schema versions per tool, policy versions; a change is a version first seen after another one of the same scope.
WITH v AS (
    SELECT 'prompt' AS kind, coalesce(workflow, '(none)') AS scope, prompt_version AS version, start_time
    FROM spans WHERE span_type = 'llm' AND prompt_version IS NOT NULL
    UNION ALL
    SELECT 'tool_schema', coalesce(tool_name, '(unnamed)'), tool_schema_version, start_time
    FROM spans WHERE span_type = 'tool' AND tool_schema_version IS NOT NULL
    UNION ALL
    SELECT 'policy', 'all', policy_version, start_time
    FROM spans WHERE policy_decision IS NOT NULL AND policy_version IS NOT NULL
),
first AS (SELECT kind, scope, version, min(start_time) AS first_seen FROM v GROUP BY ALL),
ordered AS (
    SELECT kind, scope, lag(version) OVER (PARTITION BY kind, scope ORDER BY first_seen, version) AS from_version,
           version AS to_version, first_seen AS changed_at
    FROM first
)
SELECT * FROM ordered WHERE from_version IS NOT NULL ORDER BY changed_at, kind, scope;
