-- name: risky_writes
-- grain: tool and risk class
-- unit: count
-- description: Risky writes (agentops.tool.risk money_movement, identity_change, production_change or external_comms) and those with no approved approval earlier in the same session.
SELECT tool, risk,
       count(*)                                  AS writes,
       count(*) FILTER (WHERE NOT has_approval)  AS without_approval
FROM write_actions
WHERE risky
GROUP BY ALL
ORDER BY without_approval DESC, tool, risk;
