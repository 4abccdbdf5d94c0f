-- check: escalation_rate
-- returns: one row per escalated session (handed off to a person), with its workflow and size
SELECT session_id, started_at AS at, workflow, outcome, duration_ms, tool_calls, llm_calls
FROM sessions
WHERE outcome = 'escalated'
