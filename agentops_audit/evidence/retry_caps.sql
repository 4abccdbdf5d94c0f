-- check: retry_caps
-- requires: logical_tool_calls, tool_error_streaks
-- params: threshold
-- returns: one row per logical tool call (one tool with the same arguments in a session) retried more than the cap (retries = attempts - 1 > the item's threshold, as the retry_counts metric counts them), and one per session that kept calling tools after a streak of error_streak consecutive failed tool calls (as the error_streaks metric finds them: the tool that failed, the streak, and how many calls followed)
SELECT l.session_key AS session_id, l.first_at AS at, 'retries over the cap' AS reason, l.tool,
       coalesce(s.tool_args, '') AS arguments, l.attempts, l.attempts - 1 AS retries, l.failed_attempts,
       NULL::BIGINT AS calls_after_streak, l.last.trace_id AS trace_id, l.last.span_id AS span_id
FROM logical_tool_calls l
JOIN spans s ON s.trace_id = l.last.trace_id AND s.span_id = l.last.span_id
WHERE l.attempts - 1 > $threshold
UNION ALL
SELECT session_key, first_at, 'kept calling tools after ' || streak || ' failures in a row', tool, NULL,
       NULL, NULL, streak, calls_after, trace_id, span_id
FROM tool_error_streaks
