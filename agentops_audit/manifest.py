"""The readiness manifest (``readiness.yml``) and the policy-as-code file it points to.

Much of the checklist cannot be read from traces: who owns the agent, which playbooks and kill switches
exist and when they were last tested, when the team last reviewed it. The manifest declares these, each
with an owner, a date and a link, and the audit judges them (``evaluators/attested.py``), including how
stale they are. ``load`` validates the file and fails with one line naming the file, the line and the
field (``ManifestError``); the line numbers come from the YAML node marks.

Every section is optional: a section that is absent makes its checklist item FAIL ("not declared"), while
no manifest at all makes the attested items NO_DATA. ``agentops-audit init`` writes ``TEMPLATE``.

The policy file (``policy_file``, a path relative to the manifest) holds the machine-readable limits:
the tools each agent may call, the maximum spend per action, and when an action needs approval.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

import yaml

from agentops_audit.ingest.reader import InputError
from agentops_audit.paths import PACKAGE_DIR

MANIFEST_VERSION = 1
PLAYBOOKS = ("hallucinated_policy_statement", "incorrect_tool_execution", "data_leakage")  # 002's three
INCIDENT_STEPS = ("rollback", "disable_writes", "fallback_mode")  # what 000's incident playbook covers
KILL_SWITCHES = ("disable_writes", "force_human_approval", "rollback_version")
DRILL_STEPS = ("detect", "rollback", "explain")
DASHBOARD_VIEWS = ("success_rate", "escalation_rate", "cost_per_successful_task", "latency",
                   "cost_per_task", "tool_success", "failure_reasons")
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

    field: str                    # dotted path in the manifest, e.g. "kill_switches.disable_writes"
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
    allowed_tools: dict[str, frozenset[str]]   # agent ("*" = any agent) -> tools
    max_spend: dict[str, float]                # tool -> max USD per action
    approvals: dict[str, str | float]          # tool -> "always", "never" or the USD amount above which
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
    success_predicate: str | None = None   # SQL boolean over `sessions` columns, validated at load
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
            "path": str(self.path), "sha256": self.sha256, "workflow": self.workflow,
            "success_predicate": self.success_predicate, "owner": self.owner_name,
            "declared_phase": self.declared_phase,
            "policy_file": {"path": str(self.policy.path), "sha256": self.policy.sha256} if self.policy else None,
        }


# ---------------------------------------------------------------- YAML with line numbers


def _read_yaml(path: Path, what: str) -> tuple[Any, dict[str, int], str]:
    """(data, line of every field path, sha256) of a YAML file; errors name the file and the line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: {what} is not UTF-8 text") from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ManifestError(f"{path}:{line}: invalid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    if node is not None:
        _mark_lines(path, node, "", lines)
    return data, lines, hashlib.sha256(raw).hexdigest()


def _mark_lines(path: Path, node: yaml.Node, prefix: str, lines: dict[str, int]) -> None:
    """Record the line of every field: the line of its key in a mapping, of the item in a list."""
    lines.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name == "<<":
                continue
            child = f"{prefix}.{name}" if prefix else name
            if name in seen:
                raise ManifestError(f"{path}:{key.start_mark.line + 1}: {child}: duplicate key")
            seen.add(name)
            lines[child] = key.start_mark.line + 1
            _mark_lines(path, value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _mark_lines(path, value, f"{prefix}[{i}]", lines)


class _Check:
    """Type checks over one parsed file, each failing with ``file:line: field: problem``."""

    def __init__(self, path: Path, lines: dict[str, int]):
        self.path, self.lines = path, lines

    def line(self, key: str) -> int:
        while key and key not in self.lines:  # a missing field: report its parent's line
            key = key.rsplit(".", 1)[0] if "." in key else ""
        return self.lines.get(key, 1)

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ManifestError(f"{self.path}:{self.line(key)}: {key or '(top level)'}: {problem}")

    def mapping(self, value, key: str, known: tuple[str, ...] | None = None,
                required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping, got {_kind(value)}")
        for name in value:
            if not isinstance(name, str):
                self.fail(key, f"keys must be text, got {name!r}")
        if known is not None:
            unknown = [k for k in value if k not in known]
            if unknown:
                where = f"{key}.{unknown[0]}" if key else unknown[0]
                self.fail(where, f"unknown field; known: {', '.join(known)}")
        for name in required:
            if value.get(name) is None:
                self.fail(f"{key}.{name}" if key else name, "required")
        return value

    def text(self, value, key: str, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected non-empty text, got {_kind(value)}")
        return value.strip()

    def texts(self, value, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail(key, f"expected a non-empty list, got {_kind(value)}")
        return tuple(self.text(v, f"{key}[{i}]") for i, v in enumerate(value))

    def number(self, value, key: str, low: float = 0, high: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"expected a number, got {_kind(value)}")
        if value < low or (high is not None and value > high):
            self.fail(key, f"{value} is out of range ({low}..{high if high is not None else '∞'})")
        return float(value)

    def integer(self, value, key: str, low: int = 1, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected a whole number, got {_kind(value)}")
        if value < low or (high is not None and value > high):
            self.fail(key, f"{value} is out of range ({low}..{high if high is not None else '∞'})")
        return value

    def day(self, value, key: str, optional: bool = False) -> date | None:
        if value is None and optional:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.fail(key, f"expected a date (YYYY-MM-DD), got {_kind(value)}")

    def choice(self, value, key: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.fail(key, f"expected one of {', '.join(choices)}, got {_kind(value)}")
        return value

    def boolean(self, value, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {_kind(value)}")
        return value

    def link(self, value, key: str) -> str:
        text = self.text(value, key)
        if any(c.isspace() for c in text):
            self.fail(key, "a link has no spaces (a URL or a path)")
        return text

    def entry(self, value, key: str, known: tuple[str, ...], date_key: str = "date",
              date_optional: bool = False) -> Entry:
        """An attested entry: ``owner``, a date (``date_key``) and ``link`` are required."""
        raw = self.mapping(value, key, known=("owner", date_key, "link", *known), required=("owner", "link"))
        if date_key not in raw and not date_optional:
            self.fail(f"{key}.{date_key}", "required")
        return Entry(
            field=key, line=self.line(key), owner=self.text(raw["owner"], f"{key}.owner"),
            date=self.day(raw.get(date_key), f"{key}.{date_key}", optional=date_optional),
            link=self.link(raw["link"], f"{key}.link"),
            data={k: v for k, v in raw.items() if k not in ("owner", date_key, "link")},
        )


def _kind(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- the success predicate

_TOKEN = re.compile(r"""\s+|(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)
                        |(?P<op><>|!=|<=|>=|=|<|>|[(),+*/%-])""", re.VERBOSE)
PREDICATE_KEYWORDS = frozenset({"and", "or", "not", "is", "null", "true", "false", "in", "between", "like",
                                "ilike", "case", "when", "then", "else", "end", "distinct", "from"})
PREDICATE_FUNCTIONS = frozenset({"lower", "upper", "coalesce", "length", "abs", "contains", "starts_with",
                                 "ends_with", "least", "greatest"})


@lru_cache(maxsize=1)
def session_columns() -> dict[str, str]:
    """Columns (and types) of the ``sessions`` view, read from the canonical schema itself."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute((PACKAGE_DIR / "schema.sql").read_text())
        return {name: typ for name, typ, *_ in con.execute("DESCRIBE sessions").fetchall()}
    finally:
        con.close()


def predicate_problem(expr: str) -> str | None:
    """Why ``expr`` is not a safe boolean over ``sessions`` columns, or None when it is.

    The language is a restricted SQL boolean: column names of ``sessions``, text and number literals,
    comparisons, AND/OR/NOT, IS [NOT] NULL, IN, BETWEEN, LIKE, CASE and a few functions
    (``PREDICATE_FUNCTIONS``). No subquery, cast, comment or statement separator can get through the
    tokenizer; DuckDB then checks that the expression binds and is BOOLEAN.
    """
    import duckdb

    if "--" in expr or "/*" in expr:
        return "comments are not allowed"
    columns = session_columns()
    tokens, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            return f"unexpected character {expr[pos]!r} at position {pos + 1}"
        pos = m.end()
        if m.lastgroup:
            tokens.append((m.lastgroup, m.group(m.lastgroup)))
    if not tokens:
        return "empty predicate"
    for i, (kind, text) in enumerate(tokens):
        if kind != "word":
            continue
        word = text.lower()
        is_call = i + 1 < len(tokens) and tokens[i + 1] == ("op", "(")
        if word in PREDICATE_KEYWORDS:
            continue
        if is_call:
            if word not in PREDICATE_FUNCTIONS:
                return f"function {text!r} is not allowed (allowed: {', '.join(sorted(PREDICATE_FUNCTIONS))})"
        elif word not in columns:
            return f"unknown column {text!r} (sessions has: {', '.join(columns)})"
    con = duckdb.connect()
    try:
        con.execute((PACKAGE_DIR / "schema.sql").read_text())
        rows = con.execute(f"DESCRIBE SELECT ({expr}) AS ok FROM sessions").fetchall()
    except duckdb.Error as exc:
        return f"not a valid SQL expression: {str(exc).splitlines()[0]}"
    finally:
        con.close()
    if rows[0][1] != "BOOLEAN":
        return f"must be true or false for a session, but is {rows[0][1]}"
    return None


# ---------------------------------------------------------------- loading

TOP_LEVEL = ("manifest_version", "workflow", "owner", "declared_phase", "playbooks", "kill_switches",
             "fire_drills", "weekly_review", "credentials", "tools", "dashboards", "capability_tiers",
             "backpressure", "policy_file")


def load(path: str | Path) -> Manifest:
    """Load and validate the readiness manifest at ``path`` (and the policy file it names)."""
    path = Path(path)
    data, lines, sha = _read_yaml(path, "readiness manifest")
    c = _Check(path, lines)
    if data is None:
        c.fail("", "the manifest is empty; start from `agentops-audit init`")
    raw = c.mapping(data, "", known=TOP_LEVEL, required=("manifest_version",))
    if raw["manifest_version"] != MANIFEST_VERSION:
        c.fail("manifest_version", f"this toolkit reads version {MANIFEST_VERSION}, not {raw['manifest_version']!r}")
    fields: dict[str, Any] = {}
    if raw.get("workflow") is not None:
        fields.update(_workflow(c, raw["workflow"]))
    if raw.get("owner") is not None:
        o = c.mapping(raw["owner"], "owner", known=("name", "contact", "date", "link"),
                      required=("name", "contact"))
        fields["owner"] = Entry("owner", c.line("owner"), owner=c.text(o["name"], "owner.name"),
                                date=c.day(o.get("date"), "owner.date", optional=True),
                                link=c.link(o["link"], "owner.link") if o.get("link") is not None else None,
                                data={"contact": c.text(o["contact"], "owner.contact")})
    if raw.get("declared_phase") is not None:
        fields["declared_phase"] = c.integer(raw["declared_phase"], "declared_phase", 1, 4)
    if raw.get("playbooks") is not None:
        pb = c.mapping(raw["playbooks"], "playbooks", known=("incident", *PLAYBOOKS))
        fields["playbooks"] = {name: c.entry(v, f"playbooks.{name}", known=("covers",))
                               for name, v in pb.items() if v is not None}
        incident = fields["playbooks"].get("incident")
        if incident and "covers" in incident.data:
            for i, step in enumerate(c.texts(incident.data["covers"], "playbooks.incident.covers")):
                c.choice(step, f"playbooks.incident.covers[{i}]", INCIDENT_STEPS)
    if raw.get("kill_switches") is not None:
        ks = c.mapping(raw["kill_switches"], "kill_switches", known=KILL_SWITCHES)
        fields["kill_switches"] = {
            name: c.entry(v, f"kill_switches.{name}", known=("how",), date_key="last_tested", date_optional=True)
            for name, v in ks.items() if v is not None}
    if raw.get("fire_drills") is not None:
        fields["fire_drills"] = tuple(_fire_drills(c, raw["fire_drills"]))
    if raw.get("weekly_review") is not None:
        fields["weekly_review"] = c.entry(raw["weekly_review"], "weekly_review", known=("notes",))
    if raw.get("credentials") is not None:
        fields["credentials"] = _credentials(c, raw["credentials"])
    if raw.get("tools") is not None:
        fields["tools"] = tuple(_tools(c, raw["tools"]))
    if raw.get("dashboards") is not None:
        fields["dashboards"] = tuple(_dashboards(c, raw["dashboards"]))
    if raw.get("capability_tiers") is not None:
        tiers = c.entry(raw["capability_tiers"], "capability_tiers", known=("tiers", "current"),
                        date_optional=True)
        names = c.texts(tiers.data.get("tiers"), "capability_tiers.tiers")
        current = c.text(tiers.data.get("current"), "capability_tiers.current")
        if current not in names:
            c.fail("capability_tiers.current", f"{current!r} is not one of the declared tiers")
        fields["capability_tiers"] = tiers
    if raw.get("backpressure") is not None:
        fields["backpressure"] = _backpressure(c, raw["backpressure"])
    if raw.get("policy_file") is not None:
        rel = c.text(raw["policy_file"], "policy_file")
        policy_path = (path.parent / rel) if not Path(rel).is_absolute() else Path(rel)
        if not policy_path.is_file():
            c.fail("policy_file", f"file not found: {policy_path}")
        fields["policy"] = load_policy(policy_path)
    return Manifest(path=path, sha256=sha, lines=lines, **fields)


def _workflow(c: _Check, value) -> dict:
    w = c.mapping(value, "workflow", known=("name", "success_predicate", "escalation_rule",
                                            "escalation_rate", "slos"), required=("name",))
    out: dict[str, Any] = {"workflow": c.text(w["name"], "workflow.name")}
    if w.get("success_predicate") is not None:
        expr = c.text(w["success_predicate"], "workflow.success_predicate")
        problem = predicate_problem(expr)
        if problem:
            c.fail("workflow.success_predicate", problem)
        out["success_predicate"] = expr
    out["escalation_rule"] = c.text(w.get("escalation_rule"), "workflow.escalation_rule", optional=True)
    if w.get("escalation_rate") is not None:
        r = c.mapping(w["escalation_rate"], "workflow.escalation_rate", known=("min", "max"),
                      required=("min", "max"))
        low = c.number(r["min"], "workflow.escalation_rate.min", 0, 1)
        high = c.number(r["max"], "workflow.escalation_rate.max", 0, 1)
        if low > high:
            c.fail("workflow.escalation_rate", "min is above max")
        out["escalation_rate"] = (low, high)
    if w.get("slos") is not None:
        s = c.mapping(w["slos"], "workflow.slos", known=tuple(SLO_KEYS))
        out["slos"] = {k: c.number(v, f"workflow.slos.{k}", 0, 1 if SLO_KEYS[k] == "ratio" else None)
                       for k, v in s.items() if v is not None}
    return out


def _fire_drills(c: _Check, value):
    if not isinstance(value, list):
        c.fail("fire_drills", f"expected a list of drills, got {_kind(value)}")
    for i, drill in enumerate(value):
        key = f"fire_drills[{i}]"
        e = c.entry(drill, key, known=("scenario", "minutes"))
        m = c.mapping(e.data.get("minutes"), f"{key}.minutes", known=DRILL_STEPS, required=DRILL_STEPS)
        minutes = {s: c.number(m[s], f"{key}.minutes.{s}") for s in DRILL_STEPS}
        if minutes["detect"] > min(minutes["rollback"], minutes["explain"]):
            c.fail(f"{key}.minutes.detect", "detection cannot come after the rollback or the explanation "
                   "(minutes are counted from the start of the simulated bad release)")
        yield Entry(e.field, e.line, e.owner, e.date, e.link, {**e.data, "minutes": minutes})


def _credentials(c: _Check, value) -> Entry:
    e = c.entry(value, "credentials", known=("separate_read_write", "rotation_days"),
                date_key="last_rotated", date_optional=True)
    if "separate_read_write" not in e.data:
        c.fail("credentials.separate_read_write", "required")
    data = {"separate_read_write": c.boolean(e.data["separate_read_write"], "credentials.separate_read_write")}
    if e.data.get("rotation_days") is not None:
        data["rotation_days"] = c.integer(e.data["rotation_days"], "credentials.rotation_days", 1)
    return Entry(e.field, e.line, e.owner, e.date, e.link, data)


def _tools(c: _Check, value):
    if not isinstance(value, list):
        c.fail("tools", f"expected a list of tools, got {_kind(value)}")
    seen = set()
    for i, tool in enumerate(value):
        key = f"tools[{i}]"
        t = c.mapping(tool, key, known=("name", "agent", "access", "risk", "scopes", "handoff"),
                      required=("name", "access"))
        name, agent = c.text(t["name"], f"{key}.name"), c.text(t.get("agent"), f"{key}.agent", optional=True)
        if (name, agent) in seen:
            c.fail(f"{key}.name", f"{name!r} is listed twice" + (f" for agent {agent!r}" if agent else ""))
        seen.add((name, agent))
        access = c.choice(t["access"], f"{key}.access", ACCESS)
        risk = c.choice(t["risk"], f"{key}.risk", RISKS) if t.get("risk") is not None else None
        scopes = c.texts(t["scopes"], f"{key}.scopes") if t.get("scopes") is not None else ()
        handoff = t.get("handoff")
        if handoff is not None and not isinstance(handoff, bool):
            c.fail(f"{key}.handoff", f"expected true or false, got {_kind(handoff)}")
        yield Tool(name=name, access=access, line=c.line(key), agent=agent, risk=risk, scopes=scopes,
                   handoff=bool(handoff))


def _dashboards(c: _Check, value):
    if not isinstance(value, list):
        c.fail("dashboards", f"expected a list of dashboards, got {_kind(value)}")
    for i, board in enumerate(value):
        key = f"dashboards[{i}]"
        e = c.entry(board, key, known=("name", "workflow", "shows"), date_optional=True)
        shows = c.texts(e.data.get("shows"), f"{key}.shows")
        for j, view in enumerate(shows):
            c.choice(view, f"{key}.shows[{j}]", DASHBOARD_VIEWS)
        yield Entry(e.field, e.line, e.owner, e.date, e.link,
                    {"name": c.text(e.data.get("name"), f"{key}.name"), "shows": shows,
                     "workflow": c.text(e.data.get("workflow"), f"{key}.workflow", optional=True)})


def _backpressure(c: _Check, value) -> Entry:
    e = c.entry(value, "backpressure", known=("trigger", "action"), date_optional=True)
    trigger = c.mapping(e.data.get("trigger"), "backpressure.trigger", known=("tool_p95_ms", "tool_error_rate"))
    if not trigger:
        c.fail("backpressure.trigger", "name at least one trigger: tool_p95_ms or tool_error_rate")
    checked = {}
    if "tool_p95_ms" in trigger:
        checked["tool_p95_ms"] = c.number(trigger["tool_p95_ms"], "backpressure.trigger.tool_p95_ms", 1)
    if "tool_error_rate" in trigger:
        checked["tool_error_rate"] = c.number(trigger["tool_error_rate"], "backpressure.trigger.tool_error_rate",
                                              0, 1)
    action = c.choice(e.data.get("action"), "backpressure.action", BACKPRESSURE_ACTIONS)
    return Entry(e.field, e.line, e.owner, e.date, e.link, {"trigger": checked, "action": action})


def load_policy(path: str | Path) -> Policy:
    """Load and validate a policy-as-code file (see ``POLICY_TEMPLATE``)."""
    path = Path(path)
    data, lines, sha = _read_yaml(path, "policy file")
    c = _Check(path, lines)
    raw = c.mapping(data if data is not None else {}, "",
                    known=("policy_version", "allowed_tools", "max_spend_per_action", "approvals"))
    allowed = {}
    if raw.get("allowed_tools") is not None:
        for agent, tools in c.mapping(raw["allowed_tools"], "allowed_tools").items():
            allowed[agent] = frozenset(c.texts(tools, f"allowed_tools.{agent}"))
    spend = {}
    if raw.get("max_spend_per_action") is not None:
        for tool, amount in c.mapping(raw["max_spend_per_action"], "max_spend_per_action").items():
            spend[tool] = c.number(amount, f"max_spend_per_action.{tool}")
    approvals: dict[str, str | float] = {}
    if raw.get("approvals") is not None:
        for tool, rule in c.mapping(raw["approvals"], "approvals").items():
            key = f"approvals.{tool}"
            if isinstance(rule, dict):
                r = c.mapping(rule, key, known=("over_usd",), required=("over_usd",))
                approvals[tool] = c.number(r["over_usd"], f"{key}.over_usd")
            else:
                approvals[tool] = c.choice(rule, key, APPROVAL_WORDS)
    version = raw.get("policy_version")
    return Policy(path=path, sha256=sha, version=None if version is None else str(version),
                  allowed_tools=allowed, max_spend=spend, approvals=approvals, lines=lines)


# ---------------------------------------------------------------- the template written by `init`

TEMPLATE = """\
## agentops-audit readiness manifest.
##
## Declares what the traces cannot show: the workflow and its targets, who owns the agent, the incident
## playbooks, kill switches, fire drills and reviews, with an owner, a date and a link for each.
## Lines starting with "## " explain; lines starting with "# " are examples: uncomment and edit them.
## A section left out makes its checklist item FAIL ("not declared"). Dates are YYYY-MM-DD.
## Staleness: weekly review older than 7 days, kill-switch test or fire drill older than 90 days, and
## secret rotation older than its schedule (at most 90 days) fail. See README, "Readiness manifest".

manifest_version: 1

## The one workflow the agent handles, and how success is judged. `success_predicate` is a SQL boolean
## over the columns of the `sessions` view (outcome, workflow, failure_category, duration_ms, tool_calls,
## llm_calls, tokens, cost_usd, ...): comparisons, AND/OR/NOT, IN, LIKE, IS NULL; no subqueries.
# workflow:
#   name: refund_eligibility
#   success_predicate: "outcome = 'success'"
#   escalation_rule: "Hand off to a person when the refund is over $500 or the order is not found."
#   escalation_rate: {min: 0.02, max: 0.25}    # expected share of escalated sessions
#   slos:
#     session_p95_ms: 30000                    # latency budget of a whole session (P95)
#     step_p95_ms: 5000                        # latency budget of one step (P95)
#     uptime: 0.995

## The accountable owner of the agent workflow (shown beside every blocker in the report).
# owner:
#   name: Dana Ruiz
#   contact: dana.ruiz@example.com
#   date: 2026-09-01                           # owner since
#   link: https://wiki.example.com/agents/refund/owner

## The rollout phase in force today: 1 read-only, 2 drafts, 3 constrained writes with approvals,
## 4 limited autonomous writes. The audit compares it with the behaviour seen in the traces.
# declared_phase: 1

## Incident playbooks: the general one (rollback, disable writes, fallback mode) and the three typical
## incidents of an acting agent.
# playbooks:
#   incident: {owner: dana.ruiz, date: 2026-10-01, link: https://wiki.example.com/agents/refund/incident,
#              covers: [rollback, disable_writes, fallback_mode]}
#   hallucinated_policy_statement: {owner: dana.ruiz, date: 2026-10-01, link: https://wiki.example.com/pb/policy}
#   incorrect_tool_execution: {owner: dana.ruiz, date: 2026-10-01, link: https://wiki.example.com/pb/tool}
#   data_leakage: {owner: sec-oncall, date: 2026-10-01, link: https://wiki.example.com/pb/leak}

## Kill switches and the date each was last tested (null: never tested).
# kill_switches:
#   disable_writes: {owner: platform-oncall, last_tested: 2026-10-20, link: https://runbooks.example.com/ks/writes}
#   force_human_approval: {owner: platform-oncall, last_tested: 2026-10-20, link: https://runbooks.example.com/ks/approval}
#   rollback_version: {owner: platform-oncall, last_tested: 2026-10-20, link: https://runbooks.example.com/ks/rollback}

## Fire drills: a simulated bad release; minutes counted from its start until it was detected, rolled
## back and its root cause explained (all within 60 minutes to pass). The latest drill is judged.
# fire_drills:
#   - date: 2026-10-02
#     scenario: prompt release that invents a refund policy
#     minutes: {detect: 9, rollback: 21, explain: 47}
#     owner: dana.ruiz
#     link: https://wiki.example.com/drills/2026-10-02

## The latest weekly review (top failures, new edge cases, dataset updates, policy changes).
# weekly_review: {date: 2026-11-13, owner: dana.ruiz, link: https://wiki.example.com/reviews/2026-w46}

## Read and write credentials, and secret rotation (rotation_days: the team's schedule).
# credentials:
#   separate_read_write: true
#   rotation_days: 30
#   last_rotated: 2026-11-01
#   owner: sec-oncall
#   link: https://vault.example.com/policies/refund-agent

## The tool allow-list: access (read or write), risk (low for drafts and internal notes, or one of
## money_movement, identity_change, production_change, external_comms) and scopes.
# tools:
#   - {name: lookup_order, agent: refund-agent, access: read, scopes: ["orders:read"]}
#   - {name: issue_refund, agent: refund-agent, access: write, risk: money_movement, scopes: ["refunds:create"]}
#   - {name: page_on_call, access: read, handoff: true}    # hands the session to a person: an escalation

## Dashboards (links). `shows` names what each displays: success_rate, escalation_rate,
## cost_per_successful_task, latency, cost_per_task, tool_success, failure_reasons.
# dashboards:
#   - name: Refund agent health
#     workflow: refund_eligibility
#     shows: [success_rate, escalation_rate, cost_per_successful_task, latency]
#     owner: dana.ruiz
#     link: https://grafana.example.com/d/refund-agent

## Capability tiers, in order, and the tier the agent is on.
# capability_tiers:
#   tiers: [draft_only, execute_with_limits, execute_with_approvals, full_execute]
#   current: draft_only
#   owner: dana.ruiz
#   link: https://wiki.example.com/agents/refund/tiers

## What happens when tools slow down or fail: switch to read_only or escalate.
# backpressure:
#   trigger: {tool_p95_ms: 2000, tool_error_rate: 0.05}
#   action: read_only
#   owner: platform-oncall
#   link: https://runbooks.example.com/backpressure

## The policy-as-code file, relative to this manifest. Its format:
##   policy_version: policy-2026.11
##   allowed_tools:                 # agent -> tools it may call ("*": every agent)
##     refund-agent: [lookup_order, issue_refund]
##   max_spend_per_action:          # tool -> the most one call may spend or refund, in USD
##     issue_refund: 500
##   approvals:                     # tool -> always, never, or {over_usd: N}
##     issue_refund: {over_usd: 50}
# policy_file: policy.yml
"""


def write_template(path: str | Path) -> Path:
    """Write ``TEMPLATE`` to ``path``; refuses to overwrite an existing file."""
    path = Path(path)
    if path.exists():
        raise ManifestError(f"{path} already exists; not overwriting it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEMPLATE, encoding="utf-8")
    return path
