-- name: deny_reasons
-- grain: decision kind
-- unit: count
-- description: Policy decisions (allow, deny, require_approval, ...) without agentops.policy.reason, and approvals without agentops.approval.approver, per kind.
SELECT 'decision:' || policy_decision AS record, count(*) AS records,
       count(*) FILTER (WHERE coalesce(trim(policy_reason), '') = '') AS missing
FROM spans WHERE policy_decision IS NOT NULL
GROUP BY ALL
UNION ALL
SELECT 'approval:' || approval_status, count(*),
       count(*) FILTER (WHERE coalesce(trim(approval_approver), '') = '')
FROM spans WHERE approval_status IS NOT NULL
GROUP BY ALL
ORDER BY missing DESC, record;
