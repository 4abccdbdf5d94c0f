-- name: eval_releases
-- grain: release
-- unit: count
-- description: Every release seen in the traces (service.version on spans) or in the evaluation results: traced sessions, evaluation cases, and whether the release has an evaluation run.
WITH traced AS (
    SELECT service_version AS release, count(DISTINCT session_key) AS sessions, min(start_time) AS first_span
    FROM span_sessions WHERE service_version IS NOT NULL GROUP BY service_version
),
evaluated AS (
    SELECT release, count(DISTINCT case_id) AS eval_cases, count(*) AS eval_rows
    FROM eval_results GROUP BY release
)
SELECT release,
       t.release IS NOT NULL          AS in_traces,
       coalesce(t.sessions, 0)        AS sessions,
       coalesce(e.eval_cases, 0)      AS eval_cases,
       coalesce(e.eval_rows, 0)       AS eval_rows,
       coalesce(e.eval_rows, 0) > 0   AS has_eval_run
FROM traced t FULL JOIN evaluated e USING (release)
ORDER BY t.first_span NULLS LAST, release;
