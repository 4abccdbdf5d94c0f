"""The rules every attested or artifact item (``check: manifest.<field>``) follows, and ``@attested``, the
``@check`` that applies them. The evaluators are in ``operations.py`` (playbooks, kill switches, fire
drills, weekly review, credential rotation: dated, and stale after a while) and ``declared.py`` (workflow,
owner, dashboards, capability tiers, backpressure, policy file); ``phase.py`` judges the declared rollout
phase against the traces.

Rules (README, "Readiness manifest"):
- no manifest: every ``manifest.*`` item is NO_DATA ("no readiness manifest supplied");
- a manifest that does not declare an item's section: FAIL ("not declared"), with the field at fault;
- staleness: an entry whose date is more than ``stale_after_days`` before the audit's reference date
  (``AuditContext.as_of``) is FAIL. The limit comes from the catalog item, a config override
  (``stale_after_days: {item id: days}``) replaces it, and the secret-rotation schedule declared in the
  manifest can only shorten it. The verdict weighs a minor item's FAIL as a warning.
- every result names the manifest line it read (``evidence.manifest``) and the entry's owner
  (``evidence.owner``), which audit.json shows beside the blocker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime

from agentops_audit.catalog import Item
from agentops_audit.evaluators.base import AuditContext, check
from agentops_audit.manifest import Entry, Manifest
from agentops_audit.results import FAIL, NO_DATA, PASS, ItemResult

NO_MANIFEST = "no readiness manifest supplied (`agentops-audit init` writes a template; pass it with --manifest)"
NEVER = 99  # the phase needed by a call that no phase permits


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


def not_declared(m: Manifest, item: Item, key: str, what: str) -> ItemResult:
    text = f"{what} not declared in {m.path.name}"
    return ItemResult(
        item.id,
        FAIL,
        display=text,
        reason=text,
        at_fault=[key],
        evidence={"manifest": m.path.name, "owner": m.owner_name},
    )


def manifest_evidence(ctx: AuditContext, m: Manifest, entry: Entry | None, **more) -> dict:
    ev = {
        "manifest": m.where(entry.field) if entry else m.path.name,
        "owner": (entry.owner if entry else None) or m.owner_name,
    }
    if entry is not None and entry.date is not None:
        ev["date"] = entry.date.isoformat()
    if entry is not None and entry.link:
        ev["link"] = entry.link
    return {**ev, **{k: v for k, v in more.items() if v is not None}}


def age_days(ctx: AuditContext, day: date) -> int:
    return (as_of(ctx) - day).days


def is_stale(ctx: AuditContext, item: Item, entry: Entry, limit: int | None = None) -> bool:
    limit = limit if limit is not None else stale_limit(ctx, item)
    return limit is not None and entry.date is not None and age_days(ctx, entry.date) > limit


def dated(ctx: AuditContext, day: date) -> str:
    age = age_days(ctx, day)
    if age < 0:
        return f"{day.isoformat()} (after the reference date {as_of(ctx).isoformat()})"
    return f"{day.isoformat()} ({age} day{'s' if age != 1 else ''} before {as_of(ctx).isoformat()})"


def outcome(item: Item, problems: list[tuple[str, str]], ok_text: str, **result) -> ItemResult:
    """PASS with ``ok_text`` when there is no problem, else FAIL listing (field, problem) pairs."""
    if not problems:
        return ItemResult(item.id, PASS, display=ok_text, **result)
    text = "; ".join(p for _, p in problems)
    return ItemResult(item.id, FAIL, display=text, reason=text, at_fault=[f for f, _ in problems], **result)


def dated_entries(
    ctx: AuditContext, item: Item, entries: dict[str, Entry | None], what: str, limit: int | None = None
) -> tuple[list[tuple[str, str]], list[int]]:
    """Problems (missing, undated, stale) and ages of a set of dated entries."""
    limit = limit if limit is not None else stale_limit(ctx, item)
    problems, ages = [], []
    for name, entry in entries.items():
        if entry is None:
            problems.append((name, f"{name.rsplit('.', 1)[-1]} not declared"))
        elif entry.date is None:
            problems.append((name, f"{name.rsplit('.', 1)[-1]} never {what}"))
        else:
            ages.append(age_days(ctx, entry.date))
            if is_stale(ctx, item, entry, limit):
                problems.append(
                    (name, f"{name.rsplit('.', 1)[-1]} last {what} {dated(ctx, entry.date)}, older than {limit} days")
                )
    return problems, ages
