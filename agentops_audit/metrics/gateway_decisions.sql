-- name: gateway_decisions
-- grain: tool
-- unit: count
-- description: Per write tool, write calls and those with no policy decision for that tool earlier in the same session from a layer outside the model (agentops.policy.enforcer other than 'model').
SELECT tool,
       count(*)                                        AS writes,
       count(*) FILTER (WHERE NOT has_gateway_decision) AS without_decision
FROM write_actions
GROUP BY tool
ORDER BY without_decision DESC, tool;
