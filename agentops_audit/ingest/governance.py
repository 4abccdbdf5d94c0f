"""Governance signals frameworks already emit, read as the policy decisions and approvals the audit checks.

Each signal, the attribute or field it reads, and what it becomes:

- **Guardrail verdicts** (OpenInference ``GUARDRAIL`` spans, Langfuse ``guardrail`` observations, OpenAI
  Agents SDK input and output guardrails): the span's output (``output.value``,
  ``langfuse.observation.output``), its ``guardrail.*`` attributes, or logfire's ``triggered``; an
  OpenInference Agents SDK guardrail records no verdict, so its turn's failure decides it (``tree``).
  ``allowed``/``allow``/``passed`` true is allow and false is deny; ``tripwire_triggered``/``triggered``/
  ``blocked``/``flagged`` true is deny. It becomes ``policy_decision``, ``policy_rule`` (the guardrail's
  name), ``policy_reason`` (its ``reason`` or ``message``) and ``policy_enforcer`` ``guardrail``: a layer
  outside the model.
- **LangGraph human in the loop**: a run resumed with ``Command(resume=...)`` has the decision in its root's
  input (``input.value``: ``{"resume": {"approved": true, "approver": "alice", "reason": ...}}``). It becomes
  ``approval_status`` approved or rejected, ``approval_approver`` and ``policy_reason`` on that root span.
- **LangGraph interrupt()**: a tool span ending on ``langgraph.errors.GraphInterrupt`` is the request for
  that decision: an approval span with ``approval_status`` requested (``interpret``).
- **Claude Agent SDK permission decisions** (``can_use_tool``, the permission prompt): a
  ``claude_code.tool.blocked_on_user`` span with ``decision`` accept or reject and a ``source``. It becomes
  ``approval_status`` approved or rejected, and ``policy_decision`` allow or deny with ``policy_rule`` the
  source and ``policy_enforcer`` ``claude_code.permissions``.
- **MCP tool annotations** (``readOnlyHint``, ``destructiveHint``) in a tool definition the trace carries:
  the tool's class (``metrics/tool_classes.py``).

Values the trace already sets (``agentops.policy.*``, ``agentops.approval.*``) always win.
"""

from __future__ import annotations

import orjson

ALLOW_KEYS = ("allowed", "allow", "passed", "pass", "approved", "valid", "safe")
DENY_KEYS = ("tripwire_triggered", "triggered", "blocked", "flagged", "denied", "violation")
APPROVED_KEYS = ("approved", "approve", "accepted", "accept", "allowed")
APPROVER_KEYS = ("approver", "approved_by", "user", "by", "reviewer")
PERMISSIONS = {"accept": ("approved", "allow"), "reject": ("rejected", "deny")}


def _object(value) -> dict | None:
    if isinstance(value, str) and value[:1] == "{":
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


def _flag(value):
    """A boolean as exported: true/false, or their text ('True' from logfire)."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _first(found: dict, keys: tuple[str, ...]):
    return next((_flag(found[k]) for k in keys if isinstance(_flag(found.get(k)), bool)), None)


def guardrail(row: dict, attrs: dict) -> None:
    """A policy span (a guardrail) without a recorded decision: its verdict from its output."""
    if row.get("policy_decision") is not None:
        return
    output = _object(row.get("output_text")) or _object(attrs.get("output.value")) or {}
    own = {k.removeprefix("guardrail."): v for k, v in attrs.items() if k.startswith("guardrail.")}
    if "logfire.msg_template" in attrs and "triggered" in attrs:  # logfire: Guardrail {name!r} {triggered=}
        own["triggered"] = attrs["triggered"]
        row["name"] = _flag(attrs.get("name")) if isinstance(attrs.get("name"), str) else row.get("name")
    output = {**own, **output}
    info = output.get("output") if isinstance(output.get("output"), dict) else output  # Agents SDK nesting
    denied, allowed = _first(info, DENY_KEYS), _first(info, ALLOW_KEYS)
    if denied is None and allowed is None:
        return
    row["policy_decision"] = "deny" if denied or allowed is False else "allow"
    row["policy_rule"] = row.get("policy_rule") or row.get("name")
    row["policy_enforcer"] = row.get("policy_enforcer") or "guardrail"
    reason = next((info.get(k) for k in ("reason", "message", "output_info") if info.get(k)), None)
    if reason is not None and row.get("policy_reason") is None:
        row["policy_reason"] = reason if isinstance(reason, str) else orjson.dumps(reason).decode()


def resume(row: dict, attrs: dict) -> None:
    """A run resumed with a person's decision (LangGraph ``Command(resume=...)``): an approval."""
    if row.get("approval_status") is not None or row.get("parent_span_id") is not None:
        return
    command = _object(attrs.get("input.value")) or _object(row.get("input_text")) or {}
    decision = command.get("resume")
    if not isinstance(decision, dict):
        return
    approved = _first(decision, APPROVED_KEYS)
    if approved is None:
        return
    row["approval_status"] = "approved" if approved else "rejected"
    approver = next((decision[k] for k in APPROVER_KEYS if isinstance(decision.get(k), str)), None)
    row["approval_approver"] = row.get("approval_approver") or approver
    if isinstance(decision.get("reason"), str) and row.get("policy_reason") is None:
        row["policy_reason"] = decision["reason"]


def permission(row: dict, attrs: dict) -> None:
    """Claude Code's permission wait before a tool runs: the decision, as an approval and a policy decision."""
    decided = PERMISSIONS.get(str(attrs.get("decision")))
    if decided is None:
        return
    row["approval_status"] = row.get("approval_status") or decided[0]
    if row.get("policy_decision") is None:
        row.update(
            policy_decision=decided[1],
            policy_enforcer="claude_code.permissions",
            policy_rule=str(attrs.get("source") or "permission"),
        )


def read(row: dict, attrs: dict) -> None:
    if row["span_type"] == "policy":
        guardrail(row, attrs)
    elif row["span_type"] == "approval":
        permission(row, attrs)
    elif row["span_type"] == "agent":
        resume(row, attrs)
