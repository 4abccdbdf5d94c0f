-- name: policy_decisions
-- grain: rule and decision
-- unit: count
-- description: Policy decisions by rule and decision (allow, deny, require_approval), for the dashboard.
SELECT coalesce(policy_rule, '(no rule)') AS rule, policy_decision AS decision, count(*) AS count
FROM spans
WHERE policy_decision IS NOT NULL
GROUP BY ALL
ORDER BY count DESC, rule, decision;
