-- check: risky_write_approvals
-- requires: write_actions
-- returns: one row per risky write (a write tool call whose agentops.tool.risk is money_movement, identity_change, production_change or external_comms) with no approved approval (for that tool, or naming none) earlier in its session, as the risky_writes metric counts them; approvals_seen lists the approval statuses recorded for that tool in the session (denied, pending...)
SELECT w.session_key AS session_id, w.start_time AS at, w.tool, w.risk, w.agent, w.arguments,
       (SELECT string_agg(DISTINCT a.approval_status, ', ') FROM approvals a
        WHERE a.session_key = w.session_key AND (a.tool_name = w.tool OR a.tool_name IS NULL)) AS approvals_seen,
       w.trace_id, w.span_id
FROM write_actions w
WHERE w.risky AND NOT w.has_approval
