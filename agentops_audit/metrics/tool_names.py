"""A tool's class guessed from words (origin ``inferred``): read or write by the first known verb among its
name's words (else its description's first words), a write's risk class by the words it holds, and a hand-off
to a person by its name. ``tool_classes`` falls back on this only when neither the trace nor the manifest
classifies the tool."""

from __future__ import annotations

import re
from dataclasses import dataclass

READ_VERBS = frozenset(
    {
        "get",
        "list",
        "search",
        "lookup",
        "look",
        "find",
        "check",
        "fetch",
        "read",
        "query",
        "describe",
        "show",
        "view",
        "retrieve",
        "calculate",
        "compute",
        "think",
        "count",
        "validate",
        "verify",
        "estimate",
        "summarize",
        "explain",
        "browse",
        "inspect",
        "preview",
        "status",
        "load",
        "download",
        "select",
    }
)
WRITE_VERBS = frozenset(
    {
        "create",
        "update",
        "delete",
        "book",
        "cancel",
        "send",
        "refund",
        "transfer",
        "pay",
        "issue",
        "post",
        "modify",
        "change",
        "set",
        "add",
        "remove",
        "submit",
        "write",
        "insert",
        "upsert",
        "exchange",
        "return",
        "charge",
        "approve",
        "reject",
        "close",
        "open",
        "assign",
        "grant",
        "revoke",
        "reset",
        "deploy",
        "restart",
        "rollback",
        "publish",
        "upload",
        "save",
        "edit",
        "patch",
        "put",
        "merge",
        "execute",
        "run",
        "reserve",
        "purchase",
        "order",
        "schedule",
        "reschedule",
        "place",
        "apply",
        "withdraw",
        "deposit",
        "notify",
        "email",
        "sms",
        "message",
        "reply",
        "archive",
        "disable",
        "enable",
        "suspend",
        "terminate",
        "drop",
    }
)
RISK_WORDS = {  # the first risk whose words a write's name (or description) holds
    "money_movement": frozenset(
        {
            "refund",
            "pay",
            "payment",
            "payout",
            "charge",
            "transfer",
            "withdraw",
            "deposit",
            "invoice",
            "certificate",
            "voucher",
            "credit",
            "compensation",
            "purchase",
            "billing",
            "wire",
            "fund",
            "funds",
        }
    ),
    "identity_change": frozenset(
        {
            "password",
            "credential",
            "credentials",
            "identity",
            "mfa",
            "2fa",
            "role",
            "roles",
            "permission",
            "permissions",
            "account",
            "profile",
        }
    ),
    "production_change": frozenset(
        {
            "deploy",
            "deployment",
            "rollback",
            "restart",
            "migrate",
            "migration",
            "database",
            "db",
            "cluster",
            "server",
            "infra",
            "infrastructure",
            "dns",
            "firewall",
            "production",
            "prod",
        }
    ),
    "external_comms": frozenset(
        {"send", "email", "sms", "notify", "notification", "message", "post", "tweet", "slack", "reply", "publish"}
    ),
}
HANDOFF = re.compile(r"^(transfer_to_human|escalate|handoff|hand_off)", re.IGNORECASE)  # to a person
NOT_FUNDS = re.compile(r"^transfer_to_", re.IGNORECASE)  # transfer_to_agent, transfer_to_billing: a handoff


@dataclass(frozen=True)
class ToolClass:
    tool: str
    access: str | None
    risk: str | None = None
    handoff: bool = False
    origin: str | None = None  # declared, inferred, trace (annotations), or None: unclassified
    basis: str = ""


def words(text: str) -> list[str]:
    """A name's words: split at non-letters and at camelCase humps, lower-cased; an MCP prefix dropped."""
    text = re.sub(r"^mcp__[^_]+(?:_[^_]+)*?__", "", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^A-Za-z0-9]+", text.lower()) if w]


def infer(tool: str, description: str | None = None, handoff_tools: frozenset[str] = frozenset()) -> ToolClass:
    """A tool's class from its name's words, then its description's first words; unclassified when neither
    names a known verb."""
    if tool in handoff_tools or HANDOFF.match(tool):
        return ToolClass(tool, "read", None, True, "inferred", "hands the session to a person")
    if NOT_FUNDS.match(tool):
        return ToolClass(tool, "read", None, False, "inferred", "hands the task to another agent")
    name = words(tool)
    for source, found in (("name", name), ("description", words(description or "")[:6])):
        verbs = [w for w in found if w in READ_VERBS or w in WRITE_VERBS]
        if not verbs:
            continue
        access = "write" if verbs[0] in WRITE_VERBS else "read"
        risk = _risk(found, tool) if access == "write" else None
        return ToolClass(tool, access, risk, False, "inferred", f"{source} says {verbs[0]!r}")
    return ToolClass(tool, None, basis="no read or write verb in its name or description")


def _risk(found: list[str], tool: str) -> str | None:
    for risk, vocabulary in RISK_WORDS.items():
        hits = [w for w in found if w in vocabulary]
        if risk == "money_movement" and NOT_FUNDS.match(tool):
            hits = [w for w in hits if w != "transfer"]
        if hits:
            return risk
    return None
