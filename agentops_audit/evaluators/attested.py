"""Evaluators of the readiness manifest: attested and artifact items (``check: manifest.<field>``) and the
declared rollout phase against the behaviour seen in the traces (``declared_phase_behaviour``).

Rules (README, "Readiness manifest"):
- no manifest: every ``manifest.*`` item is NO_DATA ("no readiness manifest supplied");
- a manifest that does not declare an item's section: FAIL ("not declared"), with the field at fault;
- staleness: an entry whose date is more than ``stale_after_days`` before the audit's reference date
  (``AuditContext.as_of``) is FAIL. The limit comes from the catalog item, a config override
  (``stale_after_days: {item id: days}``) replaces it, and the secret-rotation schedule declared in the
  manifest can only shorten it. The verdict weighs a minor item's FAIL as a warning.
- every result names the manifest line it read (``evidence.manifest``) and the entry's owner
  (``evidence.owner``), which audit.json shows beside the blocker.

``declared_phase_behaviour`` classifies every traced tool call by the lowest phase that permits it:
a read needs phase 1; a write to a tool the manifest declares ``risk: low`` (drafts, internal notes) and
that carries no risk class in the trace needs phase 2; any other write needs phase 3 when an approval of
that tool preceded it in the session; an unapproved write needs phase 4 and is allowed there only within
strict scopes (the manifest lists the tool with scopes, the policy file allows it for the agent and does
not demand approval "always"); otherwise no phase permits it. The item of the declared phase FAILs on
any call that needs a higher phase; the items of the other phases are NOT_APPLICABLE (above: not in
force yet; below: superseded by the declared phase). A call whose access is unknown (not traced, not in
the manifest) makes the result NO_DATA unless a violation is already found.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime

import polars as pl

from agentops_audit.catalog import Item
from agentops_audit.db import frame
from agentops_audit.evaluators.base import AuditContext, check
from agentops_audit.manifest import DRILL_STEPS, INCIDENT_STEPS, KILL_SWITCHES, PLAYBOOKS, Entry, Manifest
from agentops_audit.results import FAIL, NO_DATA, PASS, WARN, ItemResult

NO_MANIFEST = "no readiness manifest supplied (`agentops-audit init` writes a template; pass it with --manifest)"
NEVER = 99  # the phase needed by a call that no phase permits

# Which dashboard views each dashboard item asks for (item ids are stable, see checks/catalog.yml).
DASHBOARD_ITEMS = {
    "observe.workflow-dashboards": ("success_rate", "escalation_rate", "cost_per_successful_task", "latency"),
    "observe.three-dashboards": ("cost_per_task", "tool_success", "failure_reasons"),
}
INCIDENT_PLAYBOOK_ITEM = "ops.incident-playbook"  # the general playbook of document 000; others: the three


# ---------------------------------------------------------------- shared helpers


def as_of(ctx: AuditContext) -> date:
    """The audit's reference date: ``ctx.as_of``, else the end of the audited window, else today."""
    if ctx.as_of is not None:
        return ctx.as_of
    end = ctx.metric("volume")["window_end"][0]
    return end.date() if isinstance(end, datetime) else datetime.now(UTC).date()


def declared_phase(manifest: Manifest | None, config: dict) -> int | None:
    """The rollout phase in force: the manifest's ``declared_phase``, else the config's."""
    if manifest is not None and manifest.declared_phase is not None:
        return manifest.declared_phase
    return config.get("declared_phase")


def stale_limit(ctx: AuditContext, item: Item) -> int | None:
    """Days after which the item's attestation is stale: a config override, else the catalog's."""
    return (ctx.config.get("stale_after_days") or {}).get(item.id, item.stale_after_days)


def attested(name: str, **declared) -> Callable:
    """``@check`` for an item the readiness manifest attests: the evaluator gets the manifest as ``m`` and
    is not called without one (the item is then NO_DATA, never a pass)."""
    def register(fn: Callable[[AuditContext, Item, Manifest], ItemResult]) -> Callable:
        @functools.wraps(fn)
        def evaluator(ctx: AuditContext, item: Item) -> ItemResult:
            if ctx.manifest is None:
                return ItemResult(item.id, NO_DATA, reason=NO_MANIFEST)
            return fn(ctx, item, ctx.manifest)
        return check(name, suite=False, **declared)(evaluator)
    return register


def _not_declared(m: Manifest, item: Item, key: str, what: str) -> ItemResult:
    text = f"{what} not declared in {m.path.name}"
    return ItemResult(item.id, FAIL, display=text, reason=text, at_fault=[key],
                      evidence={"manifest": m.path.name, "owner": m.owner_name})


def _evidence(ctx: AuditContext, m: Manifest, entry: Entry | None, **more) -> dict:
    ev = {"manifest": m.where(entry.field) if entry else m.path.name,
          "owner": (entry.owner if entry else None) or m.owner_name}
    if entry is not None and entry.date is not None:
        ev["date"] = entry.date.isoformat()
    if entry is not None and entry.link:
        ev["link"] = entry.link
    return {**ev, **{k: v for k, v in more.items() if v is not None}}


def _age(ctx: AuditContext, day: date) -> int:
    return (as_of(ctx) - day).days


def _stale(ctx: AuditContext, item: Item, entry: Entry, limit: int | None = None) -> bool:
    limit = limit if limit is not None else stale_limit(ctx, item)
    return limit is not None and entry.date is not None and _age(ctx, entry.date) > limit


def _when(ctx: AuditContext, day: date) -> str:
    age = _age(ctx, day)
    if age < 0:
        return f"{day.isoformat()} (after the reference date {as_of(ctx).isoformat()})"
    return f"{day.isoformat()} ({age} day{'s' if age != 1 else ''} before {as_of(ctx).isoformat()})"


def _result(item: Item, problems: list[tuple[str, str]], ok_text: str, **result) -> ItemResult:
    """PASS with ``ok_text`` when there is no problem, else FAIL listing (field, problem) pairs."""
    if not problems:
        return ItemResult(item.id, PASS, display=ok_text, **result)
    text = "; ".join(p for _, p in problems)
    return ItemResult(item.id, FAIL, display=text, reason=text, at_fault=[f for f, _ in problems], **result)


def _dated_entries(ctx: AuditContext, item: Item, entries: dict[str, Entry | None], what: str,
                   limit: int | None = None) -> tuple[list[tuple[str, str]], list[int]]:
    """Problems (missing, undated, stale) and ages of a set of dated entries."""
    limit = limit if limit is not None else stale_limit(ctx, item)
    problems, ages = [], []
    for name, entry in entries.items():
        if entry is None:
            problems.append((name, f"{name.rsplit('.', 1)[-1]} not declared"))
        elif entry.date is None:
            problems.append((name, f"{name.rsplit('.', 1)[-1]} never {what}"))
        else:
            ages.append(_age(ctx, entry.date))
            if _stale(ctx, item, entry, limit):
                problems.append((name, f"{name.rsplit('.', 1)[-1]} last {what} {_when(ctx, entry.date)}, "
                                       f"older than {limit} days"))
    return problems, ages


# ---------------------------------------------------------------- manifest.* evaluators


@attested("manifest.workflow")
def workflow(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if not m.workflow:
        return _not_declared(m, item, "workflow.name", "the workflow")
    seen = frame(ctx.con, "SELECT workflow, count(*) AS sessions FROM sessions GROUP BY ALL ORDER BY sessions DESC")
    total = int(seen["sessions"].sum()) if not seen.is_empty() else 0
    labelled = {r["workflow"]: r["sessions"] for r in seen.iter_rows(named=True) if r["workflow"] is not None}
    ev = _evidence(ctx, m, None, workflow=m.workflow, sessions=total,
                   sessions_by_workflow=labelled or None)
    ev["manifest"] = m.where("workflow.name")
    if not labelled:
        return ItemResult(item.id, PASS, display=f"{m.workflow} (the traces carry no workflow label to compare)",
                          evidence=ev)
    share = labelled.get(m.workflow, 0) / total
    if m.workflow not in labelled:
        text = f"declared workflow {m.workflow} is not in the traces (seen: {', '.join(sorted(labelled))})"
        return ItemResult(item.id, FAIL, value=0.0, display=text, reason=text, evidence=ev,
                          at_fault=["workflow.name"])
    others = {w: n for w, n in labelled.items() if w != m.workflow}
    if others:
        text = (f"{m.workflow} declared, but {sum(others.values())} of {total} sessions belong to other workflows "
                f"({', '.join(f'{w}: {n}' for w, n in sorted(others.items()))}); audit one workflow at a time")
        return ItemResult(item.id, WARN, value=share, display=text, reason=text, evidence=ev,
                          at_fault=sorted(others))
    return ItemResult(item.id, PASS, value=share, display=f"{m.workflow}: {labelled[m.workflow]} of {total} sessions",
                      evidence=ev)


@attested("manifest.owner")
def owner(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if m.owner is None:
        return _not_declared(m, item, "owner", "an owner")
    o = m.owner
    return ItemResult(item.id, PASS, display=f"{o.owner} ({o.data['contact']})",
                      evidence=_evidence(ctx, m, o, contact=o.data["contact"]))


@attested("manifest.playbooks")
def playbooks(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if item.id == INCIDENT_PLAYBOOK_ITEM:
        entry = m.playbooks.get("incident")
        if entry is None:
            return _not_declared(m, item, "playbooks.incident", "an incident playbook")
        covers = entry.data.get("covers") or []
        problems = [("playbooks.incident.covers", f"the incident playbook does not cover {step.replace('_', ' ')}")
                    for step in INCIDENT_STEPS if step not in covers]
        if not _stale(ctx, item, entry):
            stale = []
        else:
            stale = [("playbooks.incident.date", f"reviewed {_when(ctx, entry.date)}, older than "
                                                 f"{stale_limit(ctx, item)} days")]
        return _result(item, problems + stale, f"incident playbook covering {', '.join(covers)}: {entry.link}",
                       evidence=_evidence(ctx, m, entry, covers=", ".join(covers)))
    entries = {f"playbooks.{name}": m.playbooks.get(name) for name in PLAYBOOKS}
    declared = {k: e for k, e in entries.items() if e is not None}
    problems = [(k, f"no {k.split('.')[1].replace('_', ' ')} playbook") for k, e in entries.items() if e is None]
    limit = stale_limit(ctx, item)
    problems += [(k, f"{k.split('.')[1].replace('_', ' ')} playbook dated {_when(ctx, e.date)}, older than "
                     f"{limit} days") for k, e in declared.items() if _stale(ctx, item, e)]
    count = len(declared)
    if item.threshold is not None and not item.threshold.holds(count):
        problems.insert(0, ("playbooks", f"{count} of the {len(PLAYBOOKS)} playbooks declared"))
    ev = _evidence(ctx, m, None, **{k.split(".")[1]: e.link for k, e in declared.items()})
    ev["manifest"] = m.where("playbooks")
    return _result(item, problems, f"{count} playbooks: {', '.join(k.split('.')[1] for k in declared)}",
                   value=count, evidence=ev)


@attested("manifest.kill_switches")
def kill_switches(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if not m.kill_switches:
        return _not_declared(m, item, "kill_switches", "kill switches")
    entries = {f"kill_switches.{name}": m.kill_switches.get(name) for name in KILL_SWITCHES}
    problems, ages = _dated_entries(ctx, item, entries, "tested")
    oldest = max(ages) if ages else None
    ev = _evidence(ctx, m, None, as_of=as_of(ctx).isoformat(), stale_after_days=stale_limit(ctx, item),
                   **{k.split(".")[1]: (e.date.isoformat() if e.date else "never tested")
                      for k, e in entries.items() if e is not None})
    ev["manifest"] = m.where("kill_switches")
    owners = sorted({e.owner for e in entries.values() if e is not None and e.owner})
    if owners:
        ev["owner"] = ", ".join(owners)
    return _result(item, problems, f"all {len(KILL_SWITCHES)} kill switches tested, the oldest test "
                                   f"{oldest} days before {as_of(ctx).isoformat()}",
                   value=oldest, evidence=ev)


@attested("manifest.fire_drill")
def fire_drill(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if not m.fire_drills:
        return _not_declared(m, item, "fire_drills", "a fire drill")
    latest = max(m.fire_drills, key=lambda e: e.date)
    minutes = latest.data["minutes"]
    worst = max(minutes.values())
    limit = stale_limit(ctx, item)
    problems = []
    if _stale(ctx, item, latest):
        problems.append((f"{latest.field}.date", f"latest drill {_when(ctx, latest.date)}, older than {limit} days"))
    if item.threshold is not None and not item.threshold.holds(worst):
        slowest = max(DRILL_STEPS, key=lambda s: minutes[s])
        problems.append((f"{latest.field}.minutes.{slowest}",
                         f"{slowest} took {minutes[slowest]:g} minutes (limit {item.threshold.describe()})"))
    steps = ", ".join(f"{s} {minutes[s]:g}" for s in DRILL_STEPS)
    return _result(item, problems, f"drill {_when(ctx, latest.date)}: minutes to {steps}", value=worst,
                   evidence=_evidence(ctx, m, latest, as_of=as_of(ctx).isoformat(), stale_after_days=limit,
                                      scenario=latest.data.get("scenario"), drills=len(m.fire_drills),
                                      **{f"{s}_minutes": minutes[s] for s in DRILL_STEPS}))


@attested("manifest.weekly_review")
def weekly_review(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    entry = m.weekly_review
    if entry is None:
        return _not_declared(m, item, "weekly_review", "a weekly review")
    limit = stale_limit(ctx, item)
    problems = [("weekly_review.date", f"last review {_when(ctx, entry.date)}, older than {limit} days")] \
        if _stale(ctx, item, entry) else []
    return _result(item, problems, f"last review {_when(ctx, entry.date)}", value=_age(ctx, entry.date),
                   evidence=_evidence(ctx, m, entry, as_of=as_of(ctx).isoformat(), stale_after_days=limit))


@attested("manifest.credentials_split")
def credentials_split(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    entry = m.credentials
    if entry is None:
        return _not_declared(m, item, "credentials", "read/write credentials and secret rotation")
    limit, schedule = stale_limit(ctx, item), entry.data.get("rotation_days")
    if schedule is not None:
        limit = schedule if limit is None else min(limit, schedule)
    problems = []
    if not entry.data["separate_read_write"]:
        problems.append(("credentials.separate_read_write", "read and write use the same credentials"))
    if entry.date is None:
        problems.append(("credentials.last_rotated", "no secret rotation recorded"))
    elif _stale(ctx, item, entry, limit):
        problems.append(("credentials.last_rotated", f"secrets last rotated {_when(ctx, entry.date)}, "
                                                     f"older than the {limit}-day schedule"))
    ok = f"separate read and write credentials; secrets rotated {_when(ctx, entry.date)}" if entry.date else ""
    return _result(item, problems, ok, value=_age(ctx, entry.date) if entry.date else None,
                   evidence=_evidence(ctx, m, entry, as_of=as_of(ctx).isoformat(), rotation_days=schedule,
                                      stale_after_days=limit))


@attested("manifest.dashboards")
def dashboards(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if not m.dashboards:
        return _not_declared(m, item, "dashboards", "dashboards")
    wanted = DASHBOARD_ITEMS[item.id]
    per_workflow = item.id == "observe.workflow-dashboards"
    boards = [d for d in m.dashboards
              if not per_workflow or d.data["workflow"] in (None, m.workflow)]
    shown = {view for d in boards for view in d.data["shows"]}
    problems = [("dashboards", f"no dashboard shows {view.replace('_', ' ')}"
                 + (f" for {m.workflow}" if per_workflow and m.workflow else "")) for view in wanted
                if view not in shown]
    ev = _evidence(ctx, m, None, **{d.data["name"]: d.link for d in boards})
    ev["manifest"] = m.where("dashboards")
    return _result(item, problems, f"{', '.join(v.replace('_', ' ') for v in wanted)} shown on "
                                   f"{', '.join(d.data['name'] for d in boards)}",
                   value=sum(v in shown for v in wanted), evidence=ev)


@attested("manifest.capability_tiers")
def capability_tiers(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    entry = m.capability_tiers
    if entry is None:
        return _not_declared(m, item, "capability_tiers", "capability tiers")
    tiers, current = entry.data["tiers"], entry.data["current"]
    problems = [] if len(tiers) >= 2 else [("capability_tiers.tiers", "a single tier is not a ladder of permissions")]
    return _result(item, problems, f"{len(tiers)} tiers ({' → '.join(tiers)}); current: {current}",
                   value=len(tiers), evidence=_evidence(ctx, m, entry, current=current))


@attested("manifest.backpressure")
def backpressure(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    entry = m.backpressure
    if entry is None:
        return _not_declared(m, item, "backpressure", "a backpressure rule")
    trigger = entry.data["trigger"]
    when = " or ".join(
        [f"tool P95 latency > {trigger['tool_p95_ms']:g} ms"] * ("tool_p95_ms" in trigger)
        + [f"tool error rate > {trigger['tool_error_rate']:.0%}"] * ("tool_error_rate" in trigger))
    action = entry.data["action"].replace("_", "-")
    return ItemResult(item.id, PASS, display=f"when {when}: {action}",
                      evidence=_evidence(ctx, m, entry, action=entry.data["action"], **trigger))


@attested("manifest.policy_file", metrics=("tool_call_classes",))
def policy_file(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    """The policy file sets allowed tools per agent, max spend and approvals, and covers the traced tools."""
    policy = m.policy
    if policy is None:
        return _not_declared(m, item, "policy_file", "a policy-as-code file")
    calls = ctx.metric("tool_call_classes")
    ev = {"manifest": m.where("policy_file"), "owner": m.owner_name, "policy_file": policy.path.name,
          "policy_version": policy.version, "policy_sha256": policy.sha256}
    problems = []
    if not policy.allowed_tools:
        problems.append(("allowed_tools", f"{policy.path.name} lists no allowed tools per agent"))
    if calls.is_empty():
        if problems:
            return _result(item, problems, "", evidence=ev)
        return ItemResult(item.id, NO_DATA, reason=f"{policy.path.name} is complete, but there are no tool calls "
                                                   "in the traces to check it against", evidence=ev)
    pairs = calls.group_by("agent", "tool").agg(
        pl.col("calls").sum(), (pl.col("access") == "write").any().alias("write")).sort("agent", "tool",
                                                                                         nulls_last=False)
    writes = set()
    for r in pairs.iter_rows(named=True):
        declared = m.tool(r["tool"], r["agent"])
        if r["write"] or (declared is not None and declared.access == "write"):
            writes.add(r["tool"])
        if not policy.allows(r["agent"], r["tool"]):
            agent = r["agent"] or "(no agent name)"
            problems.append((f"{agent}/{r['tool']}", f"{agent} called {r['tool']} {r['calls']} times but "
                                                      f"{policy.path.name} does not allow it"))
    for tool in sorted(writes):
        if tool not in policy.max_spend and tool not in policy.approvals:
            problems.append((tool, f"write tool {tool} has no max spend and no approval rule"))
    ev.update(agent_tools_seen=pairs.height, write_tools=", ".join(sorted(writes)) or None,
              max_spend_rules=len(policy.max_spend), approval_rules=len(policy.approvals))
    ok = (f"{policy.path.name} allows all {pairs.height} agent/tool pairs seen; every write tool "
          f"({', '.join(sorted(writes)) or 'none'}) has a max spend or approval rule")
    return _result(item, problems, ok, value=len(problems), evidence={k: v for k, v in ev.items() if v is not None})
