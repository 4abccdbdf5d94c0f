-- name: error_streaks
-- grain: session
-- unit: count
-- description: Sessions that kept calling tools after a streak of consecutive failed tool calls as long as the limit (3): the tool that failed, the streak and how many calls followed it.
SELECT session_key AS session_id, tool, streak, calls_after  -- the streaks: metrics/views/27_tool_error_streaks.sql
FROM tool_error_streaks
ORDER BY calls_after DESC, session_id;
