-- name: cost_per_task
-- grain: workflow, plus one '(all)' row
-- unit: usd
-- description: Cost per task (P50, P95, mean) and per successful task (total spend over successful tasks, and the P50 of successful tasks), by workflow and overall; span costs come from exported agentops.cost.usd, else tokens times the versioned price table.
SELECT CASE WHEN grouping(t.workflow) = 1 THEN '(all)' ELSE t.workflow END  AS workflow,
       count(*)                                                            AS tasks,
       count(*) FILTER (WHERE success)                                     AS successful_tasks,
       sum(task_cost_usd)                                                  AS total_usd,
       quantile_cont(task_cost_usd, 0.50)                                  AS p50_usd,
       quantile_cont(task_cost_usd, 0.95)                                  AS p95_usd,
       avg(task_cost_usd)                                                  AS mean_usd,
       sum(task_cost_usd) / nullif(count(*) FILTER (WHERE success), 0)     AS cost_per_successful_task,
       quantile_cont(task_cost_usd, 0.50) FILTER (WHERE success)           AS p50_successful_usd,
       sum(cost_exported_spans)::BIGINT                                    AS exported_cost_spans,
       sum(cost_priced_spans)::BIGINT                                      AS priced_spans,
       sum(cost_unpriced_spans)::BIGINT                                    AS unpriced_spans,
       (SELECT any_value(version) FROM audit_prices)                       AS price_table_version
FROM task_facts t  -- t.workflow, not the output column of the same name (Spark resolves ORDER BY to that)
GROUP BY GROUPING SETS ((t.workflow), ())
ORDER BY grouping(t.workflow), t.workflow;
