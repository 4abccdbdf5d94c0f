"""Readings that need a span's parent or children, applied set-based to the traces a file touched.

A reader sees one span at a time; some facts are only in the tree:

- **The task's root.** A trace's root that no convention typed (Google ADK's ``invocation``, an
  ``@observe``-decorated function, a web request) but that holds model calls, tool calls or agents is
  the task: its type is ``agent``. (Step latency leaves agent spans out; a task-long ``other`` step would
  count as one.)
- **A tool's execution.** Claude Code records a tool call as a ``tool`` span with a ``tool.execution``
  child that carries the failure: the call failed when that child did.
- **A denied tool call.** A tool span whose permission wait (an approval child) was rejected never ran:
  it is a failed call, its message says so.
- **The agent a span runs for.** Most libraries name the agent on its own span only (``invoke_agent
  triage``, OpenInference's graph node); a model call, tool call or step inside it names none. A span that
  is not an agent and names no agent takes the name of its nearest enclosing agent span (or of the nearest
  ancestor that names one); under an agent span without a name it stays unnamed (``span_agents.sql``).
- **A guardrail's verdict.** The OpenAI Agents SDK's OpenInference guardrail span records none: the guardrail
  tripped when its turn failed naming it ("Guardrail tripwire triggered: ..."), and passed otherwise.

Each rule reads only spans of the touched traces, so a file of spans that need none of them costs a scan of
a few narrow columns.
"""

from __future__ import annotations

import duckdb

from agentops_audit.paths import SPAN_AGENTS_SQL

_ROOTS = """
UPDATE spans SET span_type = 'agent'
WHERE {touched} AND parent_span_id IS NULL AND span_type = 'other'
  AND (trace_id, span_id) IN (SELECT trace_id, parent_span_id FROM spans
                              WHERE {touched} AND span_type IN ('llm', 'tool', 'agent', 'retrieval'))
"""

_FAILED_EXECUTION = """
UPDATE spans p SET status_code = 'ERROR',
                   status_message = coalesce(p.status_message, c.status_message, 'the tool execution failed'),
                   error_type = coalesce(p.error_type, c.error_type)
FROM spans c
WHERE c.{touched} AND c.status_code = 'ERROR' AND c.span_type = 'other'
  AND json_extract_string(c.attributes, '$."span.type"') = 'tool.execution'
  AND p.trace_id = c.trace_id AND p.span_id = c.parent_span_id AND p.span_type = 'tool'
"""

_DENIED = """
UPDATE spans p SET status_code = 'ERROR',
                   status_message = coalesce(p.status_message, 'denied: the permission to run it was rejected')
FROM spans c
WHERE c.{touched} AND c.span_type = 'approval' AND c.approval_status = 'rejected'
  AND p.trace_id = c.trace_id AND p.span_id = c.parent_span_id AND p.span_type = 'tool'
"""


_GUARDRAIL = """
UPDATE spans g SET policy_decision = CASE WHEN p.status_code = 'ERROR' AND contains(p.status_message, g.name)
                                          THEN 'deny' ELSE 'allow' END,
                   policy_reason = CASE WHEN p.status_code = 'ERROR' AND contains(p.status_message, g.name)
                                        THEN p.status_message END,
                   policy_rule = coalesce(g.policy_rule, g.name),
                   policy_enforcer = coalesce(g.policy_enforcer, 'guardrail')
FROM spans p
WHERE g.{touched} AND g.span_type = 'policy' AND g.policy_decision IS NULL
  AND json_extract_string(g.attributes, '$."openinference.span.kind"') = 'GUARDRAIL'
  AND p.trace_id = g.trace_id AND p.span_id = g.parent_span_id
"""


_AGENTS = SPAN_AGENTS_SQL.read_text()


def resolve(con: duckdb.DuckDBPyConnection, touched: str) -> None:
    """Apply the rules to the traces a file touched (``touched``: a query of their trace ids)."""
    where = f"trace_id IN ({touched})"
    for rule in (_ROOTS, _FAILED_EXECUTION, _DENIED, _GUARDRAIL, _AGENTS):
        con.execute(rule.format(touched=where))
