-- A span that is not an agent and names no agent runs for its nearest enclosing agent span: it takes that
-- span's agent name, or the name of a nearer ancestor that names one (a step inside the agent that inherited
-- it); under an agent span without a name it stays unnamed. The walk stops after 64 levels, so a parent
-- cycle in a broken export ends. {touched} selects the traces (ingest/tree.py: those a file touched; the
-- upgrade from schema 6, db.UPGRADES: all).
UPDATE spans s SET agent_name = named.agent
FROM (
    WITH RECURSIVE up(trace_id, span_id, parent, agent, found, depth) AS (
        SELECT trace_id, span_id, parent_span_id, NULL::VARCHAR, false, 0
        FROM spans WHERE {touched} AND agent_name IS NULL AND span_type <> 'agent' AND parent_span_id IS NOT NULL
        UNION ALL
        SELECT u.trace_id, u.span_id, p.parent_span_id, p.agent_name,
               p.span_type = 'agent' OR p.agent_name IS NOT NULL, u.depth + 1
        FROM up u JOIN spans p ON p.trace_id = u.trace_id AND p.span_id = u.parent
        WHERE NOT u.found AND u.depth < 64
    )
    SELECT DISTINCT trace_id, span_id, agent FROM up WHERE found AND agent IS NOT NULL
) named
WHERE s.trace_id = named.trace_id AND s.span_id = named.span_id AND s.agent_name IS NULL
