-- check: gateway_decisions
-- requires: write_actions
-- returns: one row per write tool call with no policy decision for that tool earlier in its session from a layer outside the model (agentops.policy.enforcer other than 'model'), as the gateway_decisions metric counts them; model_decisions counts the decisions the model itself made about that tool in the session, which do not count
SELECT w.session_key AS session_id, w.start_time AS at, w.tool, w.risk, w.agent, w.arguments,
       (SELECT count(*) FROM policy_decisions d
        WHERE d.session_key = w.session_key AND d.tool_name = w.tool AND d.policy_enforcer = 'model') AS model_decisions,
       w.trace_id, w.span_id
FROM write_actions w
WHERE NOT w.has_gateway_decision
