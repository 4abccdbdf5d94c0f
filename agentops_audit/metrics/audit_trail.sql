-- name: audit_trail
-- grain: defect kind
-- unit: count
-- description: Audit-trail defects of write tool calls: writes without an audit record, records without actor or change, hashes that do not verify (sha256 of prev_hash|record_id|actor|tool|arguments), links to no record, forks and extra chain starts.
WITH writes AS (
    SELECT span_id, audit_record_id, audit_actor, audit_hash, coalesce(audit_prev_hash, '') AS prev, tool_name,
           tool_args, start_time
    FROM spans WHERE span_type = 'tool' AND tool_access = 'write'
),
records AS (SELECT * FROM writes WHERE audit_record_id IS NOT NULL),
checked AS (
    SELECT r.*,
           coalesce(sha256(concat_ws('|', r.prev, r.audit_record_id, coalesce(r.audit_actor, ''),
                                     coalesce(r.tool_name, ''), coalesce(r.tool_args, ''))) = r.audit_hash, false)
               AS hash_ok,
           r.prev = '' OR EXISTS (SELECT 1 FROM records p WHERE p.audit_hash = r.prev) AS link_ok
    FROM records r
)
SELECT 'writes_without_record' AS defect, (SELECT count(*) FROM writes WHERE audit_record_id IS NULL) AS count,
       'write tool calls that left no audit record' AS meaning
UNION ALL
SELECT 'records_without_actor', (SELECT count(*) FROM records WHERE audit_actor IS NULL),
       'audit records that do not say who made the change'
UNION ALL
SELECT 'records_without_change', (SELECT count(*) FROM records WHERE tool_args IS NULL),
       'audit records that do not say what changed (no tool arguments)'
UNION ALL
SELECT 'hash_mismatches', (SELECT count(*) FROM checked WHERE NOT hash_ok),
       'records whose stored hash does not match their content: altered after logging'
UNION ALL
SELECT 'dangling_links', (SELECT count(*) FROM checked WHERE NOT link_ok),
       'records whose previous hash belongs to no record: a record was removed'
UNION ALL
SELECT 'forks', (SELECT coalesce(sum(n - 1), 0)::BIGINT FROM (SELECT count(*) AS n FROM records WHERE prev <> '' GROUP BY prev)
                 WHERE n > 1),
       'records that share a previous hash with another record'
UNION ALL
SELECT 'extra_chain_starts', (SELECT greatest(count(*) - 1, 0) FROM records WHERE prev = ''),
       'records beyond the first that start a chain (no previous hash)';
