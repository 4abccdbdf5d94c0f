-- A span that is not an agent and names no agent runs for its nearest enclosing agent span: it takes that
-- span's agent name, or the name of a nearer ancestor that names one; under an agent span without a name it
-- stays unnamed. {touched} selects the traces (ingest/tree.py: those a file touched; the upgrade from
-- schema 6, db.UPGRADES: all). The walk goes down from each trace's roots (and from spans whose parent is not
-- stored yet), once per span, over a copy of the touched traces' tree; spans in a parent cycle (a broken
-- export) are reached from no root and stay as they are. A file that brings a missing parent later names them.
CREATE OR REPLACE TEMP TABLE _span_tree AS
SELECT trace_id, span_id, parent_span_id, span_type = 'agent' OR agent_name IS NOT NULL AS names, agent_name
FROM spans WHERE {touched};
UPDATE spans s SET agent_name = named.agent
FROM (
    WITH RECURSIVE down(trace_id, span_id, agent, depth) AS (
        SELECT t.trace_id, t.span_id, t.agent_name, 0
        FROM _span_tree t
        LEFT JOIN _span_tree p ON p.trace_id = t.trace_id AND p.span_id = t.parent_span_id
        WHERE p.span_id IS NULL
        UNION ALL
        SELECT c.trace_id, c.span_id, CASE WHEN c.names THEN c.agent_name ELSE d.agent END, d.depth + 1
        FROM down d JOIN _span_tree c ON c.trace_id = d.trace_id AND c.parent_span_id = d.span_id
        WHERE d.depth < 100000  -- only a duplicated span could make a loop: ingest keeps one of each
    )
    SELECT DISTINCT trace_id, span_id, agent FROM down WHERE agent IS NOT NULL
) named
WHERE s.trace_id = named.trace_id AND s.span_id = named.span_id AND s.agent_name IS NULL;
DROP TABLE _span_tree;
