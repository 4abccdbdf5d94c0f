-- check: untrusted_input_writes
-- requires: write_actions
-- returns: one row per write tool call made after a span marked agentops.input.trust = 'untrusted' in its session and with no approved approval before it, as the untrusted_writes metric counts them (without_approval); the latest untrusted span before the write is named
SELECT w.session_key AS session_id, w.start_time AS at, w.tool, w.risk, w.agent, w.arguments,
       (SELECT arg_max(u.name, u.start_time) FROM span_sessions u
        WHERE u.session_key = w.session_key AND u.input_trust = 'untrusted' AND u.start_time < w.start_time)
           AS after_untrusted,
       w.trace_id, w.span_id
FROM write_actions w
WHERE w.after_untrusted AND NOT w.has_approval
