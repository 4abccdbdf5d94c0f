-- name: escalation
-- grain: workflow
-- unit: ratio
-- description: Per workflow, tasks handed off to a person (agentops.session.outcome = 'escalated') over tasks with a recorded outcome.
SELECT workflow,
       count(outcome)                               AS sessions,
       count(*) FILTER (WHERE outcome = 'escalated') AS escalated,
       escalated / nullif(count(outcome), 0)        AS rate
FROM task_facts
GROUP BY workflow
HAVING count(outcome) > 0
ORDER BY workflow;
