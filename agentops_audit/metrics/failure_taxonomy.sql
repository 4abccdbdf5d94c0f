-- name: failure_taxonomy
-- grain: failure category
-- unit: ratio
-- description: Failed tasks (outcome 'failure') by agentops.failure.category, failures without one as 'uncategorised', each with its share of all failed tasks.
SELECT coalesce(failure_category, 'uncategorised')   AS category,
       count(*)                                      AS sessions,
       count(*) / sum(count(*)) OVER ()              AS share
FROM task_facts
WHERE outcome = 'failure'
GROUP BY ALL
ORDER BY sessions DESC, category;
