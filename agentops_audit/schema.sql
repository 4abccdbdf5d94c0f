-- Canonical audit database. Bump SCHEMA_VERSION in db.py when this file changes shape.
-- Column names follow the OpenTelemetry GenAI semantic conventions where they exist and the
-- agentops.* namespace (README, "Canonical attributes") where they do not.

CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

-- The ledger: one row per input file. Invariant: rows_read = rows_loaded + rows_duplicate + rows_quarantined.
CREATE TABLE IF NOT EXISTS sources (
    source_id        INTEGER PRIMARY KEY,
    path             VARCHAR NOT NULL,
    format           VARCHAR NOT NULL,
    sha256           VARCHAR NOT NULL UNIQUE,
    size_bytes       BIGINT,
    rows_read        BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_duplicate   BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    ingested_at      TIMESTAMP NOT NULL,
    toolkit_version  VARCHAR,
    CHECK (rows_read = rows_loaded + rows_duplicate + rows_quarantined)
);

CREATE TABLE IF NOT EXISTS spans (
    trace_id            VARCHAR NOT NULL,
    span_id             VARCHAR NOT NULL,
    parent_span_id      VARCHAR,
    name                VARCHAR,
    span_kind           VARCHAR,     -- OTel SpanKind: INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER
    span_type           VARCHAR,     -- canonical: agent, llm, tool, retrieval, embedding, policy, approval, other
    operation           VARCHAR,     -- gen_ai.operation.name as exported
    start_time          TIMESTAMP,
    end_time            TIMESTAMP,
    duration_ms         DOUBLE,
    status_code         VARCHAR,     -- UNSET, OK, ERROR
    status_message      VARCHAR,
    service_name        VARCHAR,
    service_version     VARCHAR,
    session_id          VARCHAR,     -- gen_ai.conversation.id
    workflow            VARCHAR,     -- agentops.workflow
    agent_name          VARCHAR,     -- gen_ai.agent.name
    request_model       VARCHAR,
    response_model      VARCHAR,
    input_tokens        BIGINT,
    output_tokens       BIGINT,
    cache_read_tokens   BIGINT,
    cost_usd            DOUBLE,
    tool_name           VARCHAR,
    tool_call_id        VARCHAR,
    tool_args           VARCHAR,
    tool_result         VARCHAR,
    tool_access         VARCHAR,     -- read, write
    tool_risk           VARCHAR,     -- money_movement, identity_change, production_change, external_comms
    error_type          VARCHAR,
    failure_category    VARCHAR,
    session_outcome     VARCHAR,     -- success, failure, escalated
    policy_decision     VARCHAR,     -- allow, deny, require_approval
    policy_rule         VARCHAR,
    policy_reason       VARCHAR,
    policy_enforcer     VARCHAR,
    approval_status     VARCHAR,
    approval_approver   VARCHAR,
    prompt_version      VARCHAR,
    tool_schema_version VARCHAR,
    policy_version      VARCHAR,
    input_trust         VARCHAR,
    retry_attempt       INTEGER,
    audit_record_id     VARCHAR,
    audit_actor         VARCHAR,
    audit_hash          VARCHAR,
    audit_prev_hash     VARCHAR,
    input_text          VARCHAR,     -- prompt / input messages
    output_text         VARCHAR,     -- completion / output messages
    retrieval_doc_ids   VARCHAR,     -- JSON array of retrieved document ids
    attributes          JSON,        -- every attribute as exported, resource attributes under "resource."
    events              JSON,
    links               JSON,
    source_id           INTEGER
);

CREATE TABLE IF NOT EXISTS quarantine (
    source_id INTEGER,
    locator   VARCHAR NOT NULL,      -- file:line[#span]
    reason    VARCHAR NOT NULL,
    excerpt   VARCHAR                -- masked and truncated
);

-- Optional: the application's own list of sessions, for true trace coverage.
CREATE TABLE IF NOT EXISTS session_registry (
    session_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMP,
    workflow   VARCHAR
);

-- Every span with the session it belongs to: its own session id, else the trace's, else the trace id.
CREATE OR REPLACE VIEW span_sessions AS
SELECT s.*,
       coalesce(s.session_id, t.trace_session, s.trace_id) AS session_key
FROM spans s
LEFT JOIN (
    SELECT trace_id, any_value(session_id) AS trace_session
    FROM spans WHERE session_id IS NOT NULL GROUP BY trace_id
) t USING (trace_id);

CREATE OR REPLACE VIEW llm_calls AS SELECT * FROM span_sessions WHERE span_type = 'llm';
CREATE OR REPLACE VIEW retrievals AS SELECT * FROM span_sessions WHERE span_type = 'retrieval';
CREATE OR REPLACE VIEW policy_decisions AS SELECT * FROM span_sessions WHERE policy_decision IS NOT NULL;
CREATE OR REPLACE VIEW approvals AS SELECT * FROM span_sessions WHERE approval_status IS NOT NULL;

-- Tool calls with a failure flag that also reads the result payload: "status OK but the payload says error".
CREATE OR REPLACE VIEW tool_calls AS
SELECT *,
       (status_code = 'ERROR' OR error_type IS NOT NULL) AS failed_status,
       coalesce(
           regexp_matches(tool_result, '^\s*(Error|ERROR|Exception|Traceback)\b')
           OR (json_valid(tool_result) AND (
                   coalesce(json_extract(tool_result, '$.error')::VARCHAR NOT IN ('null', 'false', '""'), false)
                OR lower(coalesce(json_extract_string(tool_result, '$.status'), '')) IN ('error', 'failed', 'failure')
                OR coalesce(json_extract(tool_result, '$.success')::VARCHAR = 'false', false)
                OR coalesce(json_extract(tool_result, '$.isError')::VARCHAR = 'true', false))),
           false) AS failed_payload
FROM span_sessions
WHERE span_type = 'tool';

CREATE OR REPLACE VIEW sessions AS
SELECT session_key AS session_id,
       any_value(workflow) FILTER (WHERE workflow IS NOT NULL)                 AS workflow,
       any_value(session_outcome) FILTER (WHERE session_outcome IS NOT NULL)   AS outcome,
       any_value(failure_category) FILTER (WHERE failure_category IS NOT NULL) AS failure_category,
       min(start_time)                                                         AS started_at,
       max(end_time)                                                           AS ended_at,
       date_diff('millisecond', min(start_time), max(end_time))                AS duration_ms,
       count(*)                                                                AS spans,
       count(DISTINCT trace_id)                                                AS traces,
       count(*) FILTER (WHERE span_type = 'llm')                               AS llm_calls,
       count(*) FILTER (WHERE span_type = 'tool')                              AS tool_calls,
       sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0))            AS tokens,
       sum(cost_usd)                                                           AS cost_usd
FROM span_sessions
GROUP BY session_key;
