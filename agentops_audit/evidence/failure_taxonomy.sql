-- check: failure_taxonomy
-- returns: one row per failed session (outcome failure) that the failure_taxonomy metric counts as uncategorised (no agentops.failure.category), and per failed session whose category is not in the taxonomy (tool_error, missing_context, ambiguity, model_refusal, policy_block)
SELECT session_id,
       started_at AS at,
       workflow,
       outcome,
       failure_category,
       CASE WHEN failure_category IS NULL THEN 'no failure category'
            ELSE 'category not in the taxonomy' END AS reason
FROM sessions
WHERE outcome = 'failure'
  AND (failure_category IS NULL
       OR failure_category NOT IN ('tool_error', 'missing_context', 'ambiguity', 'model_refusal', 'policy_block'))
