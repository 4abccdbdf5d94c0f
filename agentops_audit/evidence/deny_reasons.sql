-- check: deny_reasons
-- returns: one row per policy decision recorded without agentops.policy.reason and per approval recorded without agentops.approval.approver, as the deny_reasons metric counts them
SELECT session_key AS session_id, start_time AS at, 'decision without a reason' AS defect,
       'decision:' || policy_decision AS record, tool_name AS tool, policy_rule AS rule, policy_enforcer AS enforcer,
       trace_id, span_id
FROM span_sessions
WHERE policy_decision IS NOT NULL AND coalesce(trim(policy_reason), '') = ''
UNION ALL
SELECT session_key, start_time, 'approval without an approver', 'approval:' || approval_status, tool_name, NULL, NULL,
       trace_id, span_id
FROM span_sessions
WHERE approval_status IS NOT NULL AND coalesce(trim(approval_approver), '') = ''
