"""The readiness manifest as the audit reads it: attested entries, tools, the policy file, and the
words each section may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from agentops_audit.errors import InputError

__all__ = [
    "ACCESS",
    "APPROVAL_WORDS",
    "BACKPRESSURE_ACTIONS",
    "DASHBOARD_VIEWS",
    "DRILL_STEPS",
    "INCIDENT_STEPS",
    "KILL_SWITCHES",
    "MANIFEST_VERSION",
    "PLAYBOOKS",
    "RISKS",
    "SLO_KEYS",
    "Entry",
    "Manifest",
    "ManifestError",
    "Policy",
    "Tool",
]

MANIFEST_VERSION = 1
PLAYBOOKS = ("hallucinated_policy_statement", "incorrect_tool_execution", "data_leakage")  # 002's three
INCIDENT_STEPS = ("rollback", "disable_writes", "fallback_mode")  # what 000's incident playbook covers
KILL_SWITCHES = ("disable_writes", "force_human_approval", "rollback_version")
DRILL_STEPS = ("detect", "rollback", "explain")
DASHBOARD_VIEWS = (
    "success_rate",
    "escalation_rate",
    "cost_per_successful_task",
    "latency",
    "cost_per_task",
    "tool_success",
    "failure_reasons",
)
BACKPRESSURE_ACTIONS = ("read_only", "escalate")
ACCESS = ("read", "write")
RISKS = ("low", "money_movement", "identity_change", "production_change", "external_comms")
APPROVAL_WORDS = ("always", "never")
SLO_KEYS = {"session_p95_ms": "number", "step_p95_ms": "number", "uptime": "ratio"}


class ManifestError(InputError):
    """A readiness manifest or policy file that cannot be used: ``file:line: field: problem``."""


# ---------------------------------------------------------------- the declared structure


@dataclass(frozen=True)
class Entry:
    """One attested entry: who vouches for it, when, and where the evidence is."""

    field: str  # dotted path in the manifest, e.g. "kill_switches.disable_writes"
    line: int
    owner: str | None = None
    date: date | None = None
    link: str | None = None
    data: dict = field(default_factory=dict)  # the entry's other fields, validated


@dataclass(frozen=True)
class Tool:
    name: str
    access: str
    line: int
    agent: str | None = None
    risk: str | None = None
    scopes: tuple[str, ...] = ()
    handoff: bool = False  # calling it hands the session to a person (an escalation)


@dataclass(frozen=True)
class Policy:
    path: Path
    sha256: str
    version: str | None
    allowed_tools: dict[str, frozenset[str]]  # agent ("*" = any agent) -> tools
    max_spend: dict[str, float]  # tool -> max USD per action
    approvals: dict[str, str | float]  # tool -> "always", "never" or the USD amount above which
    lines: dict[str, int]

    def allows(self, agent: str | None, tool: str) -> bool:
        return tool in self.allowed_tools.get("*", ()) or tool in self.allowed_tools.get(agent or "", ())

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)


@dataclass(frozen=True)
class Manifest:
    path: Path
    sha256: str
    workflow: str | None = None
    success_predicate: str | None = None  # SQL boolean over `sessions` columns, validated at load
    escalation_rule: str | None = None
    escalation_rate: tuple[float, float] | None = None  # expected (min, max) share of escalated sessions
    slos: dict[str, float] = field(default_factory=dict)
    owner: Entry | None = None
    declared_phase: int | None = None
    playbooks: dict[str, Entry] = field(default_factory=dict)
    kill_switches: dict[str, Entry] = field(default_factory=dict)
    fire_drills: tuple[Entry, ...] = ()
    weekly_review: Entry | None = None
    credentials: Entry | None = None
    tools: tuple[Tool, ...] = ()
    dashboards: tuple[Entry, ...] = ()
    capability_tiers: Entry | None = None
    backpressure: Entry | None = None
    policy: Policy | None = None
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)

    def where(self, key: str) -> str:
        """``readiness.yml:12``: where a field is declared, for evidence."""
        return f"{self.path.name}:{self.line(key)}"

    @property
    def owner_name(self) -> str | None:
        return self.owner.owner if self.owner else None

    def tool(self, name: str, agent: str | None = None) -> Tool | None:
        """The allow-list entry of ``name`` for ``agent`` (an entry without an agent applies to all)."""
        specific = [t for t in self.tools if t.name == name and t.agent == agent]
        return (specific or [t for t in self.tools if t.name == name and t.agent is None] or [None])[0]

    def summary(self) -> dict:
        """What audit.json records about the manifest."""
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "workflow": self.workflow,
            "success_predicate": self.success_predicate,
            "owner": self.owner_name,
            "declared_phase": self.declared_phase,
            "policy_file": {"path": str(self.policy.path), "sha256": self.policy.sha256} if self.policy else None,
        }


# ---------------------------------------------------------------- YAML with line numbers
