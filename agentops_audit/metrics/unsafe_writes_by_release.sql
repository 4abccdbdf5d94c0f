-- name: unsafe_writes_by_release
-- grain: release
-- unit: count
-- description: Per release (service.version), traced sessions and sessions with an unsafe write attempt: a write tool the policy gateway denied, or a risky write (agentops.tool.risk) with no approved approval for that tool in the session.
WITH write_tools AS (
    SELECT DISTINCT tool_name FROM tool_calls WHERE tool_access = 'write'
),
approved AS (
    SELECT DISTINCT session_key, tool_name FROM approvals WHERE lower(approval_status) = 'approved'
),
attempts AS (
    SELECT p.session_key FROM policy_decisions p JOIN write_tools w USING (tool_name)
    WHERE lower(p.policy_decision) = 'deny'
    UNION
    SELECT t.session_key FROM tool_calls t
    LEFT JOIN approved a ON a.session_key = t.session_key AND a.tool_name = t.tool_name
    WHERE t.tool_access = 'write' AND t.tool_risk IS NOT NULL AND a.session_key IS NULL
),
releases AS (
    SELECT session_key, any_value(service_version) FILTER (WHERE service_version IS NOT NULL) AS release
    FROM span_sessions GROUP BY session_key
)
SELECT r.release,
       count(*)                                   AS sessions,
       count(*) FILTER (WHERE a.session_key IS NOT NULL) AS unsafe_sessions
FROM releases r LEFT JOIN (SELECT DISTINCT session_key FROM attempts) a USING (session_key)
WHERE r.release IS NOT NULL
GROUP BY r.release
ORDER BY r.release;
