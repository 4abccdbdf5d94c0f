-- name: volume
-- grain: audit
-- unit: count
-- description: Sessions, traces, spans, LLM and tool calls, the time window the database covers, and how many traces run on a synthetic clock.
SELECT
    (SELECT count(*) FROM sessions)                              AS sessions,
    count(DISTINCT trace_id)                                     AS traces,
    count(*)                                                     AS spans,
    count(*) FILTER (WHERE span_type = 'llm')                    AS llm_calls,
    count(*) FILTER (WHERE span_type = 'tool')                   AS tool_calls,
    min(start_time)                                              AS window_start,
    max(end_time)                                                AS window_end,
    -- traces on a synthetic clock (transcripts without timestamps, ingest/transcripts.py): their root
    -- spans carry the flag; only roots are parsed, to keep this cheap on large audits
    count(*) FILTER (WHERE CASE WHEN parent_span_id IS NULL
                                THEN coalesce(json_extract_string(attributes, '$."agentops.synthetic_time"') = 'true',
                                              false)
                                ELSE false END)                  AS synthetic_clock_traces
FROM spans;
