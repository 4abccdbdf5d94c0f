-- creates: audit_records
-- reads: tool_calls, audit_tool_classes
-- One row per write tool call (by its class: metrics/tool_classes.py) with its audit record and the checks of the
-- hash chain. This is the one definition of a valid chain, read by the audit_trail and audit_chain_breaks
-- metrics and by the audit_trail evidence query. A record's hash is sha256 of
-- prev_hash|record_id|actor|tool|arguments (README, "Audit hash chain"); prev is '' for a chain start.
CREATE OR REPLACE TEMP TABLE audit_records AS
WITH writes AS (
    SELECT trace_id, span_id, session_key, start_time, tool_name, tool_args, audit_record_id, audit_actor,
           audit_hash, coalesce(audit_prev_hash, '') AS prev, audit_record_id IS NOT NULL AS has_record
    FROM tool_calls WHERE tool_access = 'write'
),
hashes AS (SELECT DISTINCT audit_hash FROM writes WHERE has_record AND audit_hash IS NOT NULL)
SELECT w.*,
       coalesce(sha256(concat_ws('|', w.prev, w.audit_record_id, coalesce(w.audit_actor, ''),
                                 coalesce(w.tool_name, ''), coalesce(w.tool_args, ''))) = w.audit_hash, false)
           AS hash_ok,                                  -- false: altered after logging
       w.prev = '' OR w.prev IN (SELECT audit_hash FROM hashes) AS link_ok,  -- false: a record was removed
       row_number() OVER (PARTITION BY w.has_record, w.prev ORDER BY w.start_time, w.span_id) AS nth_on_prev,
       count(*) OVER (PARTITION BY w.has_record, w.prev) > 1 AND w.prev <> '' AS shares_prev  -- a fork
FROM writes w;
