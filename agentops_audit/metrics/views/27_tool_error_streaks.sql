-- creates: tool_error_streaks
-- reads: tool_attempts, audit_limits
-- One row per session that kept calling tools after a streak of consecutive failed tool calls at least as long
-- as the limit (audit_limits.error_streak): the first such streak's tool and length, how many calls followed
-- it, and where it began. The error_streaks metric counts these rows and the retry_caps evidence lists them.
CREATE OR REPLACE TEMP TABLE tool_error_streaks AS
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
           min(start_time) AS first_at, arg_min(trace_id, pos) AS trace_id, arg_min(span_id, pos) AS span_id,
           any_value(calls) AS calls
    FROM r WHERE failed
    GROUP BY session_key, run
    HAVING count(*) >= (SELECT error_streak FROM audit_limits)
)
SELECT session_key, arg_min(tool, first_pos) AS tool, arg_min(failures, first_pos) AS streak,
       any_value(calls) - (min(first_pos) + (SELECT error_streak FROM audit_limits) - 1) AS calls_after,
       min(first_at) AS first_at, arg_min(trace_id, first_pos) AS trace_id, arg_min(span_id, first_pos) AS span_id
FROM streaks
GROUP BY session_key
HAVING calls_after > 0;
