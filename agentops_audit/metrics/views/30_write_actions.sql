-- creates: write_actions
-- reads: span_sessions, tool_calls, audit_tool_classes
-- One row per write tool call (its class says write: the span's agentops.tool.access, else the manifest, else
-- its name, see metrics/tool_classes.py; class_origin says which) with what preceded it in its session:
-- a policy decision for that tool not made by the model (enforcer other than 'model'), an approved
-- approval (for that tool, or naming no tool), and any span marked agentops.input.trust = 'untrusted'.
-- A decision or approval inside the write's own span (a permission wait before it runs) counts too.
-- `arguments` (the call's tool_args) is for the evidence queries, which list the writes they count.
-- "Preceded" compares with the first such span of the session (and tool): equi-joins on small tables.
CREATE OR REPLACE TEMP TABLE write_actions AS
WITH base AS (
    SELECT trace_id, span_id, session_key, span_type, tool_name, tool_access, tool_risk, agent_name, workflow,
           start_time, policy_decision, policy_enforcer, approval_status, input_trust, NULL AS class_origin,
           NULL AS tool_args
    FROM span_sessions
    WHERE span_type <> 'tool' AND (policy_decision IS NOT NULL OR approval_status IS NOT NULL
                                   OR input_trust = 'untrusted')
    UNION ALL
    SELECT trace_id, span_id, session_key, span_type, tool_name, tool_access, tool_risk, agent_name, workflow,
           start_time, policy_decision, policy_enforcer, approval_status, input_trust, class_origin, tool_args
    FROM tool_calls
    WHERE tool_access = 'write' OR policy_decision IS NOT NULL OR approval_status IS NOT NULL
       OR input_trust = 'untrusted'
),
decided AS (
    SELECT session_key, tool_name, min(start_time) AS first_at FROM base
    WHERE policy_decision IS NOT NULL AND policy_enforcer IS DISTINCT FROM 'model' AND tool_name IS NOT NULL
    GROUP BY ALL
),
approved AS (
    SELECT session_key, tool_name, min(start_time) AS first_at FROM base
    WHERE approval_status = 'approved'
    GROUP BY ALL
),
untrusted AS (
    SELECT session_key, min(start_time) AS first_at FROM base WHERE input_trust = 'untrusted' GROUP BY ALL
),
inside AS (  -- a decision or approval recorded inside the write's own span (Claude Code's permission wait)
    SELECT trace_id, parent_span_id AS span_id,
           bool_or(policy_decision IS NOT NULL AND policy_enforcer IS DISTINCT FROM 'model') AS decided,
           bool_or(approval_status = 'approved') AS approved
    FROM span_sessions
    WHERE (policy_decision IS NOT NULL OR approval_status IS NOT NULL) AND parent_span_id IS NOT NULL
    GROUP BY ALL
)
SELECT w.trace_id, w.span_id, w.session_key, coalesce(w.tool_name, '(unnamed)') AS tool,
       coalesce(w.agent_name, '(unknown)') AS agent, w.workflow, w.tool_risk AS risk, w.start_time,
       coalesce(w.tool_risk IN ('money_movement', 'identity_change', 'production_change', 'external_comms'), false)
           AS risky,
       coalesce(d.first_at <= w.start_time, false) OR coalesce(i.decided, false) AS has_gateway_decision,
       coalesce(a.first_at <= w.start_time, false) OR coalesce(any_tool.first_at <= w.start_time, false)
           OR coalesce(i.approved, false) AS has_approval,
       coalesce(u.first_at < w.start_time, false) AS after_untrusted, w.class_origin, w.tool_args AS arguments
FROM base w
LEFT JOIN decided d ON d.session_key = w.session_key AND d.tool_name = w.tool_name
LEFT JOIN approved a ON a.session_key = w.session_key AND a.tool_name = w.tool_name
LEFT JOIN approved any_tool ON any_tool.session_key = w.session_key AND any_tool.tool_name IS NULL
LEFT JOIN untrusted u ON u.session_key = w.session_key
LEFT JOIN inside i ON i.trace_id = w.trace_id AND i.span_id = w.span_id
WHERE w.span_type = 'tool' AND w.tool_access = 'write';
