-- Canonical audit database. Bump SCHEMA_VERSION in db.py when this file changes shape.
-- Column names follow the OpenTelemetry GenAI semantic conventions where they exist and the
-- agentops.* namespace (README, "Canonical attributes") where they do not.

CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

-- The ledger: one row per input file and filter set (ingest --since/--until/--workflow; '' for none).
-- Invariant: rows_read = rows_loaded + rows_duplicate + rows_quarantined + rows_filtered.
CREATE TABLE IF NOT EXISTS sources (
    source_id        INTEGER PRIMARY KEY,
    path             VARCHAR NOT NULL,
    format           VARCHAR NOT NULL,
    sha256           VARCHAR NOT NULL,
    size_bytes       BIGINT,
    rows_read        BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_duplicate   BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_filtered    BIGINT NOT NULL DEFAULT 0,   -- left out by the ingest filters
    filters          VARCHAR NOT NULL DEFAULT '', -- the filters as canonical JSON
    ingested_at      TIMESTAMP NOT NULL,
    toolkit_version  VARCHAR,
    UNIQUE (sha256, filters),
    CHECK (rows_read = rows_loaded + rows_duplicate + rows_quarantined + rows_filtered)
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
    llm_purpose         VARCHAR,     -- agentops.llm.purpose: what an LLM call is for (classify, extract, ...)
    attributes          JSON,        -- every attribute as exported, resource attributes under "resource."
    events              JSON,
    links               JSON,
    source_id           INTEGER,
    derived_from        VARCHAR      -- NULL: read from an export; 'llm_message': a tool call found only in an
                                     -- LLM span's messages (ingest/derive.py), not counted in the ledger
);

-- OTLP log records (ingest/otlp_logs.py), with the trace and span they name. A GenAI message event keeps its
-- messages in the canonical form (input_messages, output_messages: JSON lists); they become the messages of a
-- span that has none of its own (otlp_logs.attach).
CREATE TABLE IF NOT EXISTS log_events (
    trace_id        VARCHAR,
    span_id         VARCHAR,
    event_name      VARCHAR,
    time            TIMESTAMP,
    input_messages  VARCHAR,
    output_messages VARCHAR,
    body            JSON,
    attributes      JSON,
    source_id       INTEGER
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

-- Pulls from where traces live (`ingest --from phoenix|mlflow`): one row per pull, one per page. Each page is
-- a file loaded like any export, so it has its own row in `sources`; a pull's totals are its pages' sums.
-- `mark` is where the next pull of the same source resumes (Phoenix: the last span row id read; MLflow: the
-- latest trace start read, epoch ms, less --overlap). Only pulls write these tables and nothing else reads them:
-- no schema version change.
CREATE TABLE IF NOT EXISTS pulls (
    pull_id          INTEGER PRIMARY KEY,
    source           VARCHAR NOT NULL,   -- 'phoenix http://127.0.0.1:6006 project support-agent'
    window_start     TIMESTAMP,          -- --since, --until (UTC)
    window_end       TIMESTAMP,
    resumed_from     VARCHAR,            -- the mark it started after (NULL: from the start or --since)
    mark             VARCHAR,            -- where the next pull resumes (NULL unless complete)
    status           VARCHAR NOT NULL,   -- running, complete, interrupted
    pages            INTEGER NOT NULL,
    rows_read        BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_duplicate   BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_filtered    BIGINT NOT NULL,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP
);

CREATE TABLE IF NOT EXISTS pull_pages (
    pull_id   INTEGER NOT NULL,
    page      INTEGER NOT NULL,
    source_id INTEGER,                   -- the ledger row of the page's content (sha256)
    path      VARCHAR NOT NULL,
    records   INTEGER NOT NULL,          -- spans (Phoenix) or traces (MLflow) on the page
    PRIMARY KEY (pull_id, page)
);

-- Every span with the session it belongs to: its own session id, else the trace's (the smallest, should a
-- trace carry several: the same answer in every query), else the trace id. Spans with a session id need no
-- join; the trace's session is looked up only for traces that have a span without one (none at all in a
-- well-instrumented export).
CREATE OR REPLACE VIEW span_sessions AS
SELECT s.*, s.session_id AS session_key
FROM spans s
WHERE s.session_id IS NOT NULL
UNION ALL
SELECT s.*, coalesce(t.trace_session, s.trace_id) AS session_key
FROM spans s
LEFT JOIN (
    SELECT trace_id, min(session_id) AS trace_session
    FROM spans
    WHERE session_id IS NOT NULL AND trace_id IN (SELECT trace_id FROM spans WHERE session_id IS NULL)
    GROUP BY trace_id
) t USING (trace_id)
WHERE s.session_id IS NULL;

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
           -- CASE, not AND: DuckDB evaluates both sides of AND, and json_extract raises on plain text
           OR CASE WHEN json_valid(tool_result) THEN (
                   coalesce(json_extract(tool_result, '$.error')::VARCHAR NOT IN ('null', 'false', '""'), false)
                OR lower(coalesce(json_extract_string(tool_result, '$.status'), '')) IN ('error', 'failed', 'failure')
                OR coalesce(json_extract(tool_result, '$.success')::VARCHAR = 'false', false)
                OR coalesce(json_extract(tool_result, '$.isError')::VARCHAR = 'true', false)) ELSE false END,
           false) AS failed_payload
FROM span_sessions
WHERE span_type = 'tool';

-- The spans whose own tokens and cost count: a span that reports tokens or cost, unless one of its children
-- does too. Many frameworks put the sum of their model calls on the agent or run span above them as well
-- (pydantic-ai's agent run, Langfuse's trace and agent observations): counted there and again below, a
-- task's tokens and cost would double. Leaves win; an aggregate counts only where nothing below it reports.
CREATE OR REPLACE VIEW metered_spans AS
SELECT s.* FROM span_sessions s
WHERE (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL OR s.cost_usd IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM spans c
                  WHERE c.trace_id = s.trace_id AND c.parent_span_id = s.span_id
                    AND (c.input_tokens IS NOT NULL OR c.output_tokens IS NOT NULL OR c.cost_usd IS NOT NULL));

-- One row per session, aggregated per (session, trace) first so that traces are counted without a
-- DISTINCT aggregate; tokens and cost come from the metered spans. Cost is added exactly, in whole
-- picodollars (1e-12 USD) as DECIMAL(38,0), then made a DOUBLE once: no engine's order of addition changes it.
CREATE OR REPLACE VIEW sessions AS
WITH metered AS (
    SELECT session_key, trace_id,
           sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) AS tokens,
           sum(CASE WHEN cost_usd BETWEEN -1e9 AND 1e9  -- not NaN, infinite or absurd
                    THEN floor(cost_usd * 1e12 + 0.5)::DECIMAL(38, 0) END)  AS cost_picousd
    FROM metered_spans
    GROUP BY session_key, trace_id
), per_trace AS (
    SELECT session_key, trace_id,
           any_value(workflow) FILTER (WHERE workflow IS NOT NULL)                 AS workflow,
           any_value(session_outcome) FILTER (WHERE session_outcome IS NOT NULL)   AS outcome,
           any_value(failure_category) FILTER (WHERE failure_category IS NOT NULL) AS failure_category,
           min(start_time)                                                         AS started_at,
           max(end_time)                                                           AS ended_at,
           count(*)                                                                AS spans,
           count(*) FILTER (WHERE span_type = 'llm')                               AS llm_calls,
           count(*) FILTER (WHERE span_type = 'tool')                              AS tool_calls
    FROM span_sessions
    GROUP BY session_key, trace_id
)
SELECT session_key AS session_id,
       any_value(workflow) FILTER (WHERE workflow IS NOT NULL)                 AS workflow,
       any_value(outcome) FILTER (WHERE outcome IS NOT NULL)                   AS outcome,
       any_value(failure_category) FILTER (WHERE failure_category IS NOT NULL) AS failure_category,
       min(started_at)                                                         AS started_at,
       max(ended_at)                                                           AS ended_at,
       date_diff('millisecond', min(started_at), max(ended_at))                AS duration_ms,
       sum(spans)::BIGINT                                                      AS spans,
       count(*)                                                                AS traces,
       sum(llm_calls)::BIGINT                                                  AS llm_calls,
       sum(tool_calls)::BIGINT                                                 AS tool_calls,
       coalesce(sum(m.tokens), 0)                                              AS tokens,
       sum(m.cost_picousd)::DOUBLE / 1e12                                      AS cost_usd
FROM per_trace LEFT JOIN metered m USING (session_key, trace_id)
GROUP BY session_key;

-- Evaluation results, one row per (case, release, rubric item), loaded by the `evals` ingest format
-- (agentops_audit/ingest/evals.py). `score` is in 0..1; `passed` is the pass/fail verdict when there is one.
CREATE TABLE IF NOT EXISTS evals (
    case_id              VARCHAR NOT NULL,
    release              VARCHAR NOT NULL,
    rubric_item          VARCHAR NOT NULL,
    score                DOUBLE,
    passed               BOOLEAN,
    judge_label          VARCHAR,     -- the automated grader's label
    human_label          VARCHAR,     -- a person's label for the same row (judge calibration)
    correct_action       VARCHAR,     -- ground-truth labels of the case
    correct_policy       VARCHAR,
    correct_tool_use     VARCHAR,
    from_production      BOOLEAN,     -- the case was sampled from production traffic
    session_id           VARCHAR,
    workflow             VARCHAR,
    output_text          VARCHAR,     -- the agent's output, for the automated checks
    output_schema        VARCHAR,     -- JSON {"required": [...]}: keys a JSON output must have
    citation_required    BOOLEAN,
    policy_violation     BOOLEAN,
    unsafe_write_attempt BOOLEAN,
    evaluated_at         TIMESTAMP,
    source_id            INTEGER
);

-- Every evaluation result the audit reads: the `evals` table, OpenTelemetry `gen_ai.evaluation.result`
-- span events (stored in spans.events), and the outcomes of sessions loaded from chat transcripts
-- (rubric item `task_success`). `value` is 1/0 for a pass/fail verdict, else the 0..1 score.
CREATE OR REPLACE VIEW eval_results AS
WITH otel AS (
    SELECT s.trace_id, s.span_id, coalesce(s.session_id, s.trace_id) AS session_key, s.service_version,
           s.workflow, s.output_text, s.source_id,
           e.ev->>'name' AS event_name, e.ev->'attributes' AS a, try_cast(e.ev->>'time_unix_nano' AS BIGINT) AS t
    FROM spans s, unnest(CASE WHEN NOT json_valid(s.events) THEN []  -- nested CASE: bad JSON is never parsed
                              WHEN json_type(s.events) = 'ARRAY' THEN from_json(s.events, '["JSON"]') ELSE [] END)
                       AS e(ev)
    WHERE s.events IS NOT NULL AND contains(s.events, 'gen_ai.evaluation.result')
), otel_rows AS (
    SELECT coalesce(a->>'$."gen_ai.response.id"', trace_id || ':' || span_id) AS case_id,
           coalesce(service_version, 'unversioned') AS release,
           a->>'$."gen_ai.evaluation.name"' AS rubric_item,
           CASE WHEN try_cast(a->>'$."gen_ai.evaluation.score.value"' AS DOUBLE) BETWEEN 0 AND 1
                THEN try_cast(a->>'$."gen_ai.evaluation.score.value"' AS DOUBLE) END AS score,
           CASE WHEN lower(a->>'$."gen_ai.evaluation.score.label"') IN
                     ('pass', 'passed', 'correct', 'relevant', 'true', 'yes', 'success', 'grounded', 'compliant')
                THEN true
                WHEN lower(a->>'$."gen_ai.evaluation.score.label"') IN ('fail', 'failed', 'incorrect',
                     'not_relevant', 'irrelevant', 'false', 'no', 'failure', 'ungrounded', 'non_compliant')
                THEN false END AS passed,
           a->>'$."gen_ai.evaluation.score.label"' AS judge_label,
           a->>'$."agentops.evaluation.human_label"' AS human_label,
           true AS from_production, session_key AS session_id, workflow, output_text,
           make_timestamp(t // 1000) AS evaluated_at, source_id, 'otel_event' AS origin
    FROM otel
    WHERE event_name = 'gen_ai.evaluation.result' AND a->>'$."gen_ai.evaluation.name"' IS NOT NULL
), transcript_rows AS (
    SELECT coalesce(s.session_id, s.trace_id) AS case_id, coalesce(s.service_version, 'unversioned') AS release,
           'task_success' AS rubric_item, s.session_outcome = 'success' AS passed, false AS from_production,
           coalesce(s.session_id, s.trace_id) AS session_id, s.workflow, s.start_time AS evaluated_at, s.source_id,
           'transcript' AS origin
    FROM spans s JOIN sources src ON src.source_id = s.source_id
    WHERE src.format = 'transcript' AND s.parent_span_id IS NULL AND s.session_outcome IS NOT NULL
), derived AS (   -- the latest result wins when one case is evaluated twice
    SELECT * FROM (SELECT case_id, release, rubric_item, score, passed, judge_label, human_label, from_production,
                          session_id, workflow, output_text, evaluated_at, source_id, origin
                   FROM otel_rows WHERE score IS NOT NULL OR passed IS NOT NULL
                   UNION ALL  -- explicit columns, not BY NAME: the view also runs on Spark (agentops_audit/engine)
                   SELECT case_id, release, rubric_item, CAST(NULL AS DOUBLE), passed, CAST(NULL AS VARCHAR),
                          CAST(NULL AS VARCHAR), from_production, session_id, workflow, CAST(NULL AS VARCHAR),
                          evaluated_at, source_id, origin
                   FROM transcript_rows)
    QUALIFY row_number() OVER (PARTITION BY case_id, release, rubric_item ORDER BY evaluated_at DESC NULLS LAST) = 1
), rows AS (
    SELECT case_id, release, rubric_item, score, passed, judge_label, human_label, correct_action, correct_policy,
           correct_tool_use, from_production, session_id, workflow, output_text, output_schema, citation_required,
           policy_violation, unsafe_write_attempt, evaluated_at, source_id, 'file' AS origin
    FROM evals
    UNION ALL
    SELECT case_id, release, rubric_item, score, passed, judge_label, human_label, CAST(NULL AS VARCHAR),
           CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), from_production, session_id, workflow, output_text,
           CAST(NULL AS VARCHAR), CAST(NULL AS BOOLEAN), CAST(NULL AS BOOLEAN), CAST(NULL AS BOOLEAN), evaluated_at,
           source_id, origin
    FROM derived
)
SELECT *, coalesce(CASE WHEN passed THEN 1.0 WHEN NOT passed THEN 0.0 END, score) AS value FROM rows;
