-- name: task_success
-- grain: workflow
-- unit: ratio
-- description: Per workflow, tasks judged pass/fail by the success predicate (config or manifest, else agentops.session.outcome = 'success'), the share judged, and the success rate over judged tasks.
SELECT workflow,
       count(*)                                   AS sessions,
       count(success)                             AS judged,
       count(*) FILTER (WHERE success)            AS successes,
       count(success) / count(*)                  AS judged_share,
       successes / nullif(judged, 0)              AS success_rate
FROM task_facts
GROUP BY workflow
ORDER BY workflow;
