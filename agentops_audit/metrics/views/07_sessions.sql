-- creates: sessions
-- reads: sessions, tool_calls, audit_tool_classes
-- The sessions view, materialised as a TEMP table of the same name: TEMP objects come first in name
-- resolution, so every later query of this connection (metrics of every area, the success predicate)
-- reads this copy instead of re-aggregating all spans. The audit reads a fixed database, so the copy
-- cannot go stale.
-- A session that called a tool handing it to a person (audit_tool_classes.handoff: transfer_to_human*,
-- escalate*, handoff*, or declared so) is escalated, unless the trace says it succeeded.
CREATE TEMP TABLE IF NOT EXISTS sessions AS
SELECT s.* REPLACE (CASE WHEN h.session_key IS NOT NULL AND s.outcome IS DISTINCT FROM 'success' THEN 'escalated'
                         ELSE s.outcome END AS outcome)
FROM main.sessions s
LEFT JOIN (SELECT DISTINCT session_key FROM tool_calls WHERE handoff) h ON h.session_key = s.session_id;
