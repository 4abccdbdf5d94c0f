-- name: audit_trail
-- grain: defect kind
-- unit: count
-- description: Audit-trail defects of write tool calls: writes without an audit record, records without actor or change, hashes that do not verify (sha256 of prev_hash|record_id|actor|tool|arguments), links to no record, forks and extra chain starts.
WITH records AS (SELECT * FROM audit_records WHERE has_record)
SELECT 'writes_without_record' AS defect, (SELECT count(*) FROM audit_records WHERE NOT has_record) AS count,
       'write tool calls that left no audit record' AS meaning
UNION ALL
SELECT 'records_without_actor', (SELECT count(*) FROM records WHERE audit_actor IS NULL),
       'audit records that do not say who made the change'
UNION ALL
SELECT 'records_without_change', (SELECT count(*) FROM records WHERE tool_args IS NULL),
       'audit records that do not say what changed (no tool arguments)'
UNION ALL
SELECT 'hash_mismatches', (SELECT count(*) FROM records WHERE NOT hash_ok),
       'records whose stored hash does not match their content: altered after logging'
UNION ALL
SELECT 'dangling_links', (SELECT count(*) FROM records WHERE NOT link_ok),
       'records whose previous hash belongs to no record: a record was removed'
UNION ALL
SELECT 'forks', (SELECT count(*) FROM records WHERE prev <> '' AND nth_on_prev > 1),
       'records that share a previous hash with another record'
UNION ALL
SELECT 'extra_chain_starts', (SELECT count(*) FROM records WHERE prev = '' AND nth_on_prev > 1),
       'records beyond the first that start a chain (no previous hash)';
