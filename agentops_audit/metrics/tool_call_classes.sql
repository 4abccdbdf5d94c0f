-- name: tool_call_classes
-- grain: agent, tool, access, risk, approval
-- unit: count
-- description: Tool calls grouped by agent, tool, traced access (read/write), risk class and whether an approval of that tool preceded the call in its session; the input of the rollout-phase and policy-coverage checks.
WITH approved AS (
    SELECT session_key, tool_name, min(start_time) AS first_approval
    FROM approvals
    WHERE lower(approval_status) IN ('approved', 'granted') AND tool_name IS NOT NULL
    GROUP BY ALL
)
SELECT t.agent_name                                                  AS agent,
       t.tool_name                                                   AS tool,
       lower(t.tool_access)                                          AS access,
       lower(t.tool_risk)                                            AS risk,
       coalesce(a.first_approval <= t.start_time, false)             AS approved,
       count(*)                                                      AS calls,
       count(DISTINCT t.session_key)                                 AS sessions,
       list(DISTINCT t.session_key ORDER BY t.session_key)[1:10]     AS example_sessions
FROM tool_calls t
LEFT JOIN approved a ON a.session_key = t.session_key AND a.tool_name = t.tool_name
WHERE t.tool_name IS NOT NULL
GROUP BY ALL
ORDER BY agent NULLS FIRST, tool, access NULLS FIRST, risk NULLS FIRST, approved;
