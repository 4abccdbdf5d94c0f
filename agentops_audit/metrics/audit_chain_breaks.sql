-- name: audit_chain_breaks
-- grain: audit record
-- unit: record
-- description: The earliest 20 audit records where the hash chain breaks (hash mismatch, link to no record, fork), first broken link first.
SELECT audit_record_id AS record_id, tool_name AS tool, trace_id, span_id, start_time,
       concat_ws(', ', CASE WHEN NOT hash_ok THEN 'hash mismatch' END, CASE WHEN NOT link_ok THEN 'link to no record' END,
                 CASE WHEN shares_prev THEN 'fork' END) AS problem
FROM audit_records
WHERE has_record AND (NOT hash_ok OR NOT link_ok OR shares_prev)
ORDER BY start_time, record_id
LIMIT 20;
