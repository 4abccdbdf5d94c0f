-- name: cost_per_task
-- grain: workflow, plus one '(all)' row
-- unit: usd
-- description: Cost per task (P50, P95, mean) and per successful task (total spend over successful tasks, and the P50 of successful tasks), by workflow and overall; span costs come from exported agentops.cost.usd, else tokens times the versioned price table; span costs that are no amount (NaN, infinite, beyond $1e9) are left out and counted (unusable_cost_spans).
-- Totals and means come from the exact picodollar sums of task_facts; the quantiles are written out
-- (quantile_exact: metrics/__init__.py) over s and ok, the sorted costs of all and of the successful tasks.
WITH g AS (
    SELECT CASE WHEN grouping(t.workflow) = 1 THEN '(all)' ELSE t.workflow END  AS workflow,
           grouping(t.workflow)                                                AS overall,
           count(*)                                                            AS tasks,
           count(*) FILTER (WHERE success)                                     AS successful_tasks,
           sum(task_cost_picousd)::DOUBLE / 1e12                               AS total_usd,
           list_sort(list(task_cost_usd))                                      AS s,
           list_sort(list(task_cost_usd) FILTER (WHERE success))               AS ok,
           sum(cost_exported_spans)::BIGINT                                    AS exported_cost_spans,
           sum(cost_priced_spans)::BIGINT                                      AS priced_spans,
           sum(cost_unpriced_spans)::BIGINT                                    AS unpriced_spans,
           sum(cost_unusable_spans)::BIGINT                                    AS unusable_cost_spans
    FROM task_facts t  -- t.workflow, not the output column of the same name (Spark resolves ORDER BY to that)
    GROUP BY GROUPING SETS ((t.workflow), ())
)
SELECT workflow,
       tasks,
       successful_tasks,
       total_usd,
       quantile_exact(s, 0.50)                                             AS p50_usd,
       quantile_exact(s, 0.95)                                             AS p95_usd,
       total_usd / tasks                                                   AS mean_usd,
       total_usd / nullif(successful_tasks, 0)                             AS cost_per_successful_task,
       quantile_exact(ok, 0.50)                                            AS p50_successful_usd,
       exported_cost_spans,
       priced_spans,
       unpriced_spans,
       unusable_cost_spans,
       (SELECT any_value(version) FROM audit_prices)                       AS price_table_version
FROM g
ORDER BY overall, workflow;
