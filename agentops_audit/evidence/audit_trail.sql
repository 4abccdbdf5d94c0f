-- check: audit_trail
-- requires: audit_records
-- returns: one row per defect of the write audit trail, as the audit_trail metric counts them (write tool calls: agentops.tool.access = 'write'): a write without an audit record, a record without actor or without change (no tool arguments), a record whose hash does not verify (sha256 of prev_hash|record_id|actor|tool|arguments: altered after logging), a record whose prev_hash belongs to no record (one was removed), a record sharing its prev_hash with an earlier one (a fork), a record beyond the first that starts a chain
WITH checked AS (SELECT * FROM audit_records WHERE has_record),  -- every branch: the columns of audit_records
defects AS (
    SELECT 'write_without_record' AS defect, *
    FROM audit_records WHERE NOT has_record
    UNION ALL
    SELECT 'record_without_actor' AS defect, *
    FROM checked WHERE audit_actor IS NULL
    UNION ALL
    SELECT 'record_without_change' AS defect, *
    FROM checked WHERE tool_args IS NULL
    UNION ALL
    SELECT 'hash_mismatch' AS defect, *
    FROM checked WHERE NOT hash_ok
    UNION ALL
    SELECT 'dangling_link' AS defect, *
    FROM checked WHERE NOT link_ok
    UNION ALL
    SELECT 'fork' AS defect, *
    FROM checked WHERE prev <> '' AND nth_on_prev > 1
    UNION ALL
    SELECT 'extra_chain_start' AS defect, *
    FROM checked WHERE prev = '' AND nth_on_prev > 1
)
SELECT session_key AS session_id, start_time AS at, defect, tool_name AS tool, audit_record_id AS record_id,
       audit_actor AS actor, tool_args AS arguments, audit_hash, nullif(prev, '') AS prev_hash, trace_id, span_id
FROM defects
