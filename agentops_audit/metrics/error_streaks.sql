-- name: error_streaks
-- grain: session
-- unit: count
-- description: Sessions that kept calling tools after a streak of consecutive failed tool calls as long as the limit (3): the tool that failed, the streak and how many calls followed it.
WITH r AS (
    SELECT *,
           row_number() OVER w AS pos,
           sum(CASE WHEN failed THEN 0 ELSE 1 END) OVER w AS run,
           count(*) OVER (PARTITION BY session_key) AS calls
    FROM tool_attempts
    WINDOW w AS (PARTITION BY session_key ORDER BY start_time, span_id)
),
streaks AS (
    SELECT session_key, run, count(*) AS failures, min(pos) AS first_pos, arg_min(tool, pos) AS tool,
           any_value(calls) AS calls
    FROM r WHERE failed
    GROUP BY session_key, run
    HAVING count(*) >= (SELECT error_streak FROM audit_limits)
)
SELECT session_key AS session_id, arg_min(tool, first_pos) AS tool, arg_min(failures, first_pos) AS streak,
       any_value(calls) - (min(first_pos) + (SELECT error_streak FROM audit_limits) - 1) AS calls_after
FROM streaks
GROUP BY session_key
HAVING calls_after > 0
ORDER BY calls_after DESC, session_id;
