-- name: tool_allowlist
-- grain: tool and agent
-- unit: tool
-- description: Tools seen in the traces, per agent, against the allow-list (config tool_allowlist, else the manifest's tools; an entry without an agent applies to every agent): calls, whether any call wrote, the allowed access, generic HTTP tools (every word of the name generic, one naming a web request) and the problem found, if any.
WITH seen AS (
    SELECT coalesce(tool_name, '(unnamed)') AS tool, coalesce(agent_name, '(unknown)') AS agent, count(*) AS calls,
           coalesce(bool_or(tool_access = 'write'), false) AS wrote
    FROM tool_calls
    GROUP BY ALL
),
words AS (
    SELECT DISTINCT tool, unnest(string_split_regex(lower(tool), '[^a-z0-9]+')) AS word FROM seen
),
generic AS (
    SELECT w.tool, bool_and(g.word IS NOT NULL) AND coalesce(bool_or(g.web), false) AS generic_http
    FROM words w LEFT JOIN audit_generic_words g ON g.word = w.word
    WHERE w.word <> ''
    GROUP BY w.tool
),
entry AS (
    SELECT s.tool, s.agent, a.tool IS NOT NULL AS allow_listed, a.access AS allowed_access
    FROM seen s
    LEFT JOIN audit_allowlist a ON a.tool = s.tool AND (a.agent IS NULL OR a.agent = s.agent)
    QUALIFY row_number() OVER (PARTITION BY s.tool, s.agent ORDER BY a.agent NULLS LAST) = 1
),
declared AS (SELECT count(*) > 0 AS has_list FROM audit_allowlist)
SELECT s.tool, s.agent, s.calls,
       CASE WHEN s.wrote THEN 'write' ELSE 'read' END AS access_seen,
       e.allow_listed, e.allowed_access,
       coalesce(g.generic_http, false) AS generic_http,
       CASE WHEN coalesce(g.generic_http, false) THEN 'generic HTTP tool'
            WHEN NOT d.has_list THEN NULL
            WHEN NOT e.allow_listed THEN 'not on the allow-list'
            WHEN s.wrote AND e.allowed_access = 'read' THEN 'writes, allow-listed read-only'
       END AS problem
FROM seen s
CROSS JOIN declared d
JOIN entry e USING (tool, agent)
LEFT JOIN generic g USING (tool)
ORDER BY problem NULLS LAST, tool, agent;
