-- check: task_success_rate
-- returns: one row per session whose agentops.session.outcome is not success (failure, escalated, or none recorded), with its failure category; a success predicate from the config or the readiness manifest is not applied here
SELECT session_id, started_at AS at, workflow, coalesce(outcome, 'no outcome recorded') AS outcome,
       failure_category, duration_ms, tool_calls, llm_calls
FROM sessions
WHERE outcome IS DISTINCT FROM 'success'
