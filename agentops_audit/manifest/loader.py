"""Load and validate a readiness manifest and the policy file it names; write the template ``init`` writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentops_audit.manifest.model import (
    ACCESS,
    APPROVAL_WORDS,
    BACKPRESSURE_ACTIONS,
    DASHBOARD_VIEWS,
    DRILL_STEPS,
    INCIDENT_STEPS,
    KILL_SWITCHES,
    MANIFEST_VERSION,
    PLAYBOOKS,
    RISKS,
    SLO_KEYS,
    Entry,
    Manifest,
    ManifestError,
    Policy,
    Tool,
)
from agentops_audit.manifest.predicate import predicate_problem
from agentops_audit.manifest.yaml_lines import Fields, kind_of, read_yaml

TEMPLATE_PATH = Path(__file__).resolve().parent / "template.yml"
TEMPLATE = TEMPLATE_PATH.read_text(encoding="utf-8")  # the commented manifest ``init`` writes


TOP_LEVEL = (
    "manifest_version",
    "workflow",
    "owner",
    "declared_phase",
    "playbooks",
    "kill_switches",
    "fire_drills",
    "weekly_review",
    "credentials",
    "tools",
    "dashboards",
    "capability_tiers",
    "backpressure",
    "policy_file",
)


def load(path: str | Path) -> Manifest:
    """Load and validate the readiness manifest at ``path`` (and the policy file it names)."""
    path = Path(path)
    data, lines, sha = read_yaml(path, "readiness manifest")
    c = Fields(path, lines)
    if data is None:
        c.fail("", "the manifest is empty; start from `agentops-audit init`")
    raw = c.mapping(data, "", known=TOP_LEVEL, required=("manifest_version",))
    if raw["manifest_version"] != MANIFEST_VERSION:
        c.fail("manifest_version", f"this toolkit reads version {MANIFEST_VERSION}, not {raw['manifest_version']!r}")
    fields: dict[str, Any] = {}
    if raw.get("workflow") is not None:
        fields.update(_workflow(c, raw["workflow"]))
    if raw.get("owner") is not None:
        o = c.mapping(raw["owner"], "owner", known=("name", "contact", "date", "link"), required=("name", "contact"))
        fields["owner"] = Entry(
            "owner",
            c.line("owner"),
            owner=c.text(o["name"], "owner.name"),
            date=c.day(o.get("date"), "owner.date", optional=True),
            link=c.link(o["link"], "owner.link") if o.get("link") is not None else None,
            data={"contact": c.text(o["contact"], "owner.contact")},
        )
    if raw.get("declared_phase") is not None:
        fields["declared_phase"] = c.integer(raw["declared_phase"], "declared_phase", 1, 4)
    if raw.get("playbooks") is not None:
        pb = c.mapping(raw["playbooks"], "playbooks", known=("incident", *PLAYBOOKS))
        fields["playbooks"] = {
            name: c.entry(v, f"playbooks.{name}", known=("covers",)) for name, v in pb.items() if v is not None
        }
        incident = fields["playbooks"].get("incident")
        if incident and "covers" in incident.data:
            for i, step in enumerate(c.texts(incident.data["covers"], "playbooks.incident.covers")):
                c.choice(step, f"playbooks.incident.covers[{i}]", INCIDENT_STEPS)
    if raw.get("kill_switches") is not None:
        ks = c.mapping(raw["kill_switches"], "kill_switches", known=KILL_SWITCHES)
        fields["kill_switches"] = {
            name: c.entry(v, f"kill_switches.{name}", known=("how",), date_key="last_tested", date_optional=True)
            for name, v in ks.items()
            if v is not None
        }
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
        tiers = c.entry(raw["capability_tiers"], "capability_tiers", known=("tiers", "current"), date_optional=True)
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


def _workflow(c: Fields, value) -> dict:
    w = c.mapping(
        value,
        "workflow",
        known=("name", "success_predicate", "escalation_rule", "escalation_rate", "slos"),
        required=("name",),
    )
    out: dict[str, Any] = {"workflow": c.text(w["name"], "workflow.name")}
    if w.get("success_predicate") is not None:
        expr = c.text(w["success_predicate"], "workflow.success_predicate")
        problem = predicate_problem(expr)
        if problem:
            c.fail("workflow.success_predicate", problem)
        out["success_predicate"] = expr
    out["escalation_rule"] = c.text(w.get("escalation_rule"), "workflow.escalation_rule", optional=True)
    if w.get("escalation_rate") is not None:
        r = c.mapping(w["escalation_rate"], "workflow.escalation_rate", known=("min", "max"), required=("min", "max"))
        low = c.number(r["min"], "workflow.escalation_rate.min", 0, 1)
        high = c.number(r["max"], "workflow.escalation_rate.max", 0, 1)
        if low > high:
            c.fail("workflow.escalation_rate", "min is above max")
        out["escalation_rate"] = (low, high)
    if w.get("slos") is not None:
        s = c.mapping(w["slos"], "workflow.slos", known=tuple(SLO_KEYS))
        out["slos"] = {
            k: c.number(v, f"workflow.slos.{k}", 0, 1 if SLO_KEYS[k] == "ratio" else None)
            for k, v in s.items()
            if v is not None
        }
    return out


def _fire_drills(c: Fields, value):
    if not isinstance(value, list):
        c.fail("fire_drills", f"expected a list of drills, got {kind_of(value)}")
    for i, drill in enumerate(value):
        key = f"fire_drills[{i}]"
        e = c.entry(drill, key, known=("scenario", "minutes"))
        m = c.mapping(e.data.get("minutes"), f"{key}.minutes", known=DRILL_STEPS, required=DRILL_STEPS)
        minutes = {s: c.number(m[s], f"{key}.minutes.{s}") for s in DRILL_STEPS}
        if minutes["detect"] > min(minutes["rollback"], minutes["explain"]):
            c.fail(
                f"{key}.minutes.detect",
                "detection cannot come after the rollback or the explanation "
                "(minutes are counted from the start of the simulated bad release)",
            )
        yield Entry(e.field, e.line, e.owner, e.date, e.link, {**e.data, "minutes": minutes})


def _credentials(c: Fields, value) -> Entry:
    e = c.entry(
        value,
        "credentials",
        known=("separate_read_write", "rotation_days"),
        date_key="last_rotated",
        date_optional=True,
    )
    if "separate_read_write" not in e.data:
        c.fail("credentials.separate_read_write", "required")
    data = {"separate_read_write": c.boolean(e.data["separate_read_write"], "credentials.separate_read_write")}
    if e.data.get("rotation_days") is not None:
        data["rotation_days"] = c.integer(e.data["rotation_days"], "credentials.rotation_days", 1)
    return Entry(e.field, e.line, e.owner, e.date, e.link, data)


def _tools(c: Fields, value):
    if not isinstance(value, list):
        c.fail("tools", f"expected a list of tools, got {kind_of(value)}")
    seen = set()
    for i, tool in enumerate(value):
        key = f"tools[{i}]"
        t = c.mapping(
            tool, key, known=("name", "agent", "access", "risk", "scopes", "handoff"), required=("name", "access")
        )
        name, agent = c.text(t["name"], f"{key}.name"), c.text(t.get("agent"), f"{key}.agent", optional=True)
        if (name, agent) in seen:
            c.fail(f"{key}.name", f"{name!r} is listed twice" + (f" for agent {agent!r}" if agent else ""))
        seen.add((name, agent))
        access = c.choice(t["access"], f"{key}.access", ACCESS)
        risk = c.choice(t["risk"], f"{key}.risk", RISKS) if t.get("risk") is not None else None
        scopes = c.texts(t["scopes"], f"{key}.scopes") if t.get("scopes") is not None else ()
        handoff = t.get("handoff")
        if handoff is not None and not isinstance(handoff, bool):
            c.fail(f"{key}.handoff", f"expected true or false, got {kind_of(handoff)}")
        yield Tool(
            name=name, access=access, line=c.line(key), agent=agent, risk=risk, scopes=scopes, handoff=bool(handoff)
        )


def _dashboards(c: Fields, value):
    if not isinstance(value, list):
        c.fail("dashboards", f"expected a list of dashboards, got {kind_of(value)}")
    for i, board in enumerate(value):
        key = f"dashboards[{i}]"
        e = c.entry(board, key, known=("name", "workflow", "shows"), date_optional=True)
        shows = c.texts(e.data.get("shows"), f"{key}.shows")
        for j, view in enumerate(shows):
            c.choice(view, f"{key}.shows[{j}]", DASHBOARD_VIEWS)
        yield Entry(
            e.field,
            e.line,
            e.owner,
            e.date,
            e.link,
            {
                "name": c.text(e.data.get("name"), f"{key}.name"),
                "shows": shows,
                "workflow": c.text(e.data.get("workflow"), f"{key}.workflow", optional=True),
            },
        )


def _backpressure(c: Fields, value) -> Entry:
    e = c.entry(value, "backpressure", known=("trigger", "action"), date_optional=True)
    trigger = c.mapping(e.data.get("trigger"), "backpressure.trigger", known=("tool_p95_ms", "tool_error_rate"))
    if not trigger:
        c.fail("backpressure.trigger", "name at least one trigger: tool_p95_ms or tool_error_rate")
    checked = {}
    if "tool_p95_ms" in trigger:
        checked["tool_p95_ms"] = c.number(trigger["tool_p95_ms"], "backpressure.trigger.tool_p95_ms", 1)
    if "tool_error_rate" in trigger:
        checked["tool_error_rate"] = c.number(trigger["tool_error_rate"], "backpressure.trigger.tool_error_rate", 0, 1)
    action = c.choice(e.data.get("action"), "backpressure.action", BACKPRESSURE_ACTIONS)
    return Entry(e.field, e.line, e.owner, e.date, e.link, {"trigger": checked, "action": action})


def load_policy(path: str | Path) -> Policy:
    """Load and validate a policy-as-code file (see ``POLICY_TEMPLATE``)."""
    path = Path(path)
    data, lines, sha = read_yaml(path, "policy file")
    c = Fields(path, lines)
    raw = c.mapping(
        data if data is not None else {},
        "",
        known=("policy_version", "allowed_tools", "max_spend_per_action", "approvals"),
    )
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
    return Policy(
        path=path,
        sha256=sha,
        version=None if version is None else str(version),
        allowed_tools=allowed,
        max_spend=spend,
        approvals=approvals,
        lines=lines,
    )


def write_template(path: str | Path) -> Path:
    """Write ``TEMPLATE`` to ``path``; refuses to overwrite an existing file."""
    path = Path(path)
    if path.exists():
        raise ManifestError(f"{path} already exists; not overwriting it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEMPLATE, encoding="utf-8")
    return path
