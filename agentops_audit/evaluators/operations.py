"""Attested operations of the readiness manifest (``check: manifest.<field>``), each dated and stale after a
while: the playbooks (the incident playbook and the three others), the kill switches' tests, the fire
drills, the weekly review and the credentials' split and rotation. The rules they share are in
``attested.py``.
"""

from __future__ import annotations

from agentops_audit.catalog import Item
from agentops_audit.evaluators.attested import (
    age_days,
    as_of,
    attested,
    dated,
    dated_entries,
    is_stale,
    manifest_evidence,
    not_declared,
    outcome,
    stale_limit,
)
from agentops_audit.evaluators.base import AuditContext
from agentops_audit.manifest import DRILL_STEPS, INCIDENT_STEPS, KILL_SWITCHES, PLAYBOOKS, Manifest
from agentops_audit.results import ItemResult

INCIDENT_PLAYBOOK_ITEM = "ops.incident-playbook"  # the general playbook of document 000; others: the three


@attested("manifest.playbooks")
def playbooks(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if item.id == INCIDENT_PLAYBOOK_ITEM:
        entry = m.playbooks.get("incident")
        if entry is None:
            return not_declared(m, item, "playbooks.incident", "an incident playbook")
        covers = entry.data.get("covers") or []
        problems = [
            ("playbooks.incident.covers", f"the incident playbook does not cover {step.replace('_', ' ')}")
            for step in INCIDENT_STEPS
            if step not in covers
        ]
        if not is_stale(ctx, item, entry):
            stale = []
        else:
            stale = [
                (
                    "playbooks.incident.date",
                    f"reviewed {dated(ctx, entry.date)}, older than {stale_limit(ctx, item)} days",
                )
            ]
        return outcome(
            item,
            problems + stale,
            f"incident playbook covering {', '.join(covers)}: {entry.link}",
            evidence=manifest_evidence(ctx, m, entry, covers=", ".join(covers)),
        )
    entries = {f"playbooks.{name}": m.playbooks.get(name) for name in PLAYBOOKS}
    declared = {k: e for k, e in entries.items() if e is not None}
    problems = [(k, f"no {k.split('.')[1].replace('_', ' ')} playbook") for k, e in entries.items() if e is None]
    limit = stale_limit(ctx, item)
    problems += [
        (k, f"{k.split('.')[1].replace('_', ' ')} playbook dated {dated(ctx, e.date)}, older than {limit} days")
        for k, e in declared.items()
        if is_stale(ctx, item, e)
    ]
    count = len(declared)
    if item.threshold is not None and not item.threshold.holds(count):
        problems.insert(0, ("playbooks", f"{count} of the {len(PLAYBOOKS)} playbooks declared"))
    ev = manifest_evidence(ctx, m, None, **{k.split(".")[1]: e.link for k, e in declared.items()})
    ev["manifest"] = m.where("playbooks")
    return outcome(
        item, problems, f"{count} playbooks: {', '.join(k.split('.')[1] for k in declared)}", value=count, evidence=ev
    )


@attested("manifest.kill_switches")
def kill_switches(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if not m.kill_switches:
        return not_declared(m, item, "kill_switches", "kill switches")
    entries = {f"kill_switches.{name}": m.kill_switches.get(name) for name in KILL_SWITCHES}
    problems, ages = dated_entries(ctx, item, entries, "tested")
    oldest = max(ages) if ages else None
    ev = manifest_evidence(
        ctx,
        m,
        None,
        as_of=as_of(ctx).isoformat(),
        stale_after_days=stale_limit(ctx, item),
        **{
            k.split(".")[1]: (e.date.isoformat() if e.date else "never tested")
            for k, e in entries.items()
            if e is not None
        },
    )
    ev["manifest"] = m.where("kill_switches")
    owners = sorted({e.owner for e in entries.values() if e is not None and e.owner})
    if owners:
        ev["owner"] = ", ".join(owners)
    return outcome(
        item,
        problems,
        f"all {len(KILL_SWITCHES)} kill switches tested, the oldest test {oldest} days before {as_of(ctx).isoformat()}",
        value=oldest,
        evidence=ev,
    )


@attested("manifest.fire_drill")
def fire_drill(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    if not m.fire_drills:
        return not_declared(m, item, "fire_drills", "a fire drill")
    latest = max(m.fire_drills, key=lambda e: e.date)
    minutes = latest.data["minutes"]
    worst = max(minutes.values())
    limit = stale_limit(ctx, item)
    problems = []
    if is_stale(ctx, item, latest):
        problems.append((f"{latest.field}.date", f"latest drill {dated(ctx, latest.date)}, older than {limit} days"))
    if item.threshold is not None and not item.threshold.holds(worst):
        slowest = max(DRILL_STEPS, key=lambda s: minutes[s])
        problems.append(
            (
                f"{latest.field}.minutes.{slowest}",
                f"{slowest} took {minutes[slowest]:g} minutes (limit {item.threshold.describe()})",
            )
        )
    steps = ", ".join(f"{s} {minutes[s]:g}" for s in DRILL_STEPS)
    return outcome(
        item,
        problems,
        f"drill {dated(ctx, latest.date)}: minutes to {steps}",
        value=worst,
        evidence=manifest_evidence(
            ctx,
            m,
            latest,
            as_of=as_of(ctx).isoformat(),
            stale_after_days=limit,
            scenario=latest.data.get("scenario"),
            drills=len(m.fire_drills),
            **{f"{s}_minutes": minutes[s] for s in DRILL_STEPS},
        ),
    )


@attested("manifest.weekly_review")
def weekly_review(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    entry = m.weekly_review
    if entry is None:
        return not_declared(m, item, "weekly_review", "a weekly review")
    limit = stale_limit(ctx, item)
    problems = (
        [("weekly_review.date", f"last review {dated(ctx, entry.date)}, older than {limit} days")]
        if is_stale(ctx, item, entry)
        else []
    )
    return outcome(
        item,
        problems,
        f"last review {dated(ctx, entry.date)}",
        value=age_days(ctx, entry.date),
        evidence=manifest_evidence(ctx, m, entry, as_of=as_of(ctx).isoformat(), stale_after_days=limit),
    )


@attested("manifest.credentials_split")
def credentials_split(ctx: AuditContext, item: Item, m: Manifest) -> ItemResult:
    entry = m.credentials
    if entry is None:
        return not_declared(m, item, "credentials", "read/write credentials and secret rotation")
    limit, schedule = stale_limit(ctx, item), entry.data.get("rotation_days")
    if schedule is not None:
        limit = schedule if limit is None else min(limit, schedule)
    problems = []
    if not entry.data["separate_read_write"]:
        problems.append(("credentials.separate_read_write", "read and write use the same credentials"))
    if entry.date is None:
        problems.append(("credentials.last_rotated", "no secret rotation recorded"))
    elif is_stale(ctx, item, entry, limit):
        problems.append(
            (
                "credentials.last_rotated",
                f"secrets last rotated {dated(ctx, entry.date)}, older than the {limit}-day schedule",
            )
        )
    ok = f"separate read and write credentials; secrets rotated {dated(ctx, entry.date)}" if entry.date else ""
    return outcome(
        item,
        problems,
        ok,
        value=age_days(ctx, entry.date) if entry.date else None,
        evidence=manifest_evidence(
            ctx, m, entry, as_of=as_of(ctx).isoformat(), rotation_days=schedule, stale_after_days=limit
        ),
    )
