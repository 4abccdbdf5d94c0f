-- check: retry_caps
-- params: threshold, error_streak
-- returns: one row per logical tool call (one tool with the same arguments in a session) retried more than the cap (retries = attempts - 1 > the item's threshold, as the retry_counts metric counts them), and one per session that kept calling tools after a streak of error_streak consecutive failed tool calls (as the error_streaks metric finds them: the tool that failed, the streak, and how many calls followed)
WITH a AS MATERIALIZED (
    SELECT session_key, trace_id, span_id, start_time, tool_name, coalesce(tool_name, '(unnamed)') AS tool,
           hash(coalesce(tool_args, '')) AS args_hash, failed_status OR failed_payload AS failed
    FROM tool_calls
),
logical AS (  -- grouped on the arguments' hash, as the metrics' tool_attempts table does
    SELECT session_key, any_value(tool) AS tool, min(start_time) AS first_at,
           count(*) AS attempts, count(*) FILTER (WHERE failed) AS failed_attempts,
           arg_max({'trace_id': trace_id, 'span_id': span_id}, start_time) AS last
    FROM a
    GROUP BY session_key, tool_name, args_hash
),
r AS (
    SELECT *, row_number() OVER w AS pos, sum(CASE WHEN failed THEN 0 ELSE 1 END) OVER w AS run,
           count(*) OVER (PARTITION BY session_key) AS calls
    FROM a
    WINDOW w AS (PARTITION BY session_key ORDER BY start_time, span_id)
),
streaks AS (
    SELECT session_key, run, count(*) AS failures, min(pos) AS first_pos, arg_min(tool, pos) AS tool,
           min(start_time) AS first_at, arg_min(trace_id, pos) AS trace_id, arg_min(span_id, pos) AS span_id,
           any_value(calls) AS calls
    FROM r WHERE failed
    GROUP BY session_key, run
    HAVING count(*) >= $error_streak
),
kept AS (
    SELECT session_key, arg_min(tool, first_pos) AS tool, arg_min(failures, first_pos) AS streak,
           any_value(calls) - (min(first_pos) + $error_streak - 1) AS calls_after,
           min(first_at) AS first_at, arg_min(trace_id, first_pos) AS trace_id, arg_min(span_id, first_pos) AS span_id
    FROM streaks
    GROUP BY session_key
    HAVING calls_after > 0
)
SELECT l.session_key AS session_id, l.first_at AS at, 'retries over the cap' AS reason, l.tool,
       coalesce(s.tool_args, '') AS arguments, l.attempts, l.attempts - 1 AS retries, l.failed_attempts,
       NULL::BIGINT AS calls_after_streak, l.last.trace_id AS trace_id, l.last.span_id AS span_id
FROM logical l
JOIN spans s ON s.trace_id = l.last.trace_id AND s.span_id = l.last.span_id
WHERE l.attempts - 1 > $threshold
UNION ALL
SELECT session_key, first_at, 'kept calling tools after ' || streak || ' failures in a row', tool, NULL,
       NULL, NULL, streak, calls_after, trace_id, span_id
FROM kept
