-- name: eval_suite
-- grain: release
-- unit: count
-- description: Per release with evaluation results, oldest first (earliest evaluated_at, else first span of that service.version, else name): cases, cases sampled from production, rubric items, result rows, and the cases labelled with the correct action, policy and tool use.
WITH cases AS (
    SELECT release, case_id,
           bool_or(coalesce(from_production, false))                        AS from_production,
           bool_or(nullif(trim(correct_action), '') IS NOT NULL)            AS has_action,
           bool_or(nullif(trim(correct_policy), '') IS NOT NULL)            AS has_policy,
           bool_or(nullif(trim(correct_tool_use), '') IS NOT NULL)          AS has_tool_use
    FROM eval_results GROUP BY release, case_id
),
per_release AS (
    SELECT release, count(*) AS result_rows, count(DISTINCT rubric_item) AS rubric_items,
           list(DISTINCT rubric_item ORDER BY rubric_item) AS rubric, min(evaluated_at) AS evaluated_from,
           count(*) FILTER (WHERE human_label IS NOT NULL) AS human_labelled_rows
    FROM eval_results GROUP BY release
),
traced AS (
    SELECT service_version AS release, min(start_time) AS first_span
    FROM spans WHERE service_version IS NOT NULL GROUP BY service_version
)
SELECT r.release,
       count(*)                                                   AS cases,
       count(*) FILTER (WHERE c.from_production)                  AS production_cases,
       any_value(r.rubric_items)                                  AS rubric_items,
       any_value(r.rubric)                                        AS rubric,
       any_value(r.result_rows)                                   AS result_rows,
       any_value(r.human_labelled_rows)                           AS human_labelled_rows,
       count(*) FILTER (WHERE c.has_action)                       AS labelled_action,
       count(*) FILTER (WHERE c.has_policy)                       AS labelled_policy,
       count(*) FILTER (WHERE c.has_tool_use)                     AS labelled_tool_use,
       count(*) FILTER (WHERE c.has_action AND c.has_policy AND c.has_tool_use) AS labelled_all,
       coalesce(any_value(r.evaluated_from), any_value(t.first_span)) AS first_seen
FROM per_release r
JOIN cases c USING (release)
LEFT JOIN traced t USING (release)
GROUP BY r.release
ORDER BY first_seen NULLS FIRST, r.release;
