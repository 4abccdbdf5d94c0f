-- name: policy_violations
-- grain: kind, rule, tool and agent
-- unit: count
-- description: Policy violations by kind (deny decisions, writes without a gateway decision, risky writes without approval), rule, tool and agent.
SELECT 'deny' AS kind, coalesce(policy_rule, '(no rule)') AS rule, coalesce(tool_name, '(unnamed)') AS tool,
       coalesce(agent_name, '(unknown)') AS agent, count(*) AS violations
FROM spans WHERE policy_decision = 'deny'
GROUP BY ALL
UNION ALL
SELECT 'write_without_gateway_decision', '(gateway)', tool, agent, count(*)
FROM write_actions WHERE NOT has_gateway_decision
GROUP BY ALL
UNION ALL
SELECT 'risky_write_without_approval', 'approval:' || risk, tool, agent, count(*)
FROM write_actions WHERE risky AND NOT has_approval
GROUP BY ALL
ORDER BY violations DESC, kind, rule, tool, agent;
