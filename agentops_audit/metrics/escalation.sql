-- name: escalation
-- grain: workflow
-- unit: ratio
-- description: Per workflow, tasks handed off to a person (agentops.session.outcome = 'escalated', or a call of a hand-off tool) over tasks with a recorded outcome; where the audit knows a hand-off tool, a task without an outcome that never called it counts as not handed off.
WITH channel AS (SELECT count(*) FILTER (WHERE handoff) > 0 AS known FROM audit_tool_classes)
SELECT workflow,
       count(*) FILTER (WHERE outcome IS NOT NULL OR c.known)                      AS sessions,
       count(*) FILTER (WHERE outcome = 'escalated')                             AS escalated,
       escalated / nullif(sessions, 0)                                            AS rate
FROM task_facts CROSS JOIN channel c
GROUP BY workflow
HAVING sessions > 0
ORDER BY workflow;
