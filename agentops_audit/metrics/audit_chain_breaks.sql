-- name: audit_chain_breaks
-- grain: audit record
-- unit: record
-- description: The earliest 20 audit records where the hash chain breaks (hash mismatch, link to no record, fork), first broken link first.
WITH records AS (
    SELECT span_id, trace_id, audit_record_id, audit_actor, audit_hash, coalesce(audit_prev_hash, '') AS prev,
           tool_name, tool_args, start_time
    FROM spans WHERE span_type = 'tool' AND tool_access = 'write' AND audit_record_id IS NOT NULL
),
forked AS (SELECT prev FROM records WHERE prev <> '' GROUP BY prev HAVING count(*) > 1),
checked AS (
    SELECT r.*,
           NOT coalesce(sha256(concat_ws('|', r.prev, r.audit_record_id, coalesce(r.audit_actor, ''),
                                         coalesce(r.tool_name, ''), coalesce(r.tool_args, ''))) = r.audit_hash, false)
               AS hash_mismatch,
           r.prev <> '' AND NOT EXISTS (SELECT 1 FROM records p WHERE p.audit_hash = r.prev) AS dangling,
           r.prev IN (SELECT prev FROM forked) AS fork
    FROM records r
)
SELECT audit_record_id AS record_id, tool_name AS tool, trace_id, span_id, start_time,
       concat_ws(', ', CASE WHEN hash_mismatch THEN 'hash mismatch' END, CASE WHEN dangling THEN 'link to no record' END,
                 CASE WHEN fork THEN 'fork' END) AS problem
FROM checked
WHERE hash_mismatch OR dangling OR fork
ORDER BY start_time, record_id
LIMIT 20;
