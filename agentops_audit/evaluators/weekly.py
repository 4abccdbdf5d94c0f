"""Checks that compare weeks: week-over-week cost and token growth, and the streak of weeks on target.

They read the weekly scope of the audit (``ctx.weekly``, a ``trends.Scope``: the audited ISO week and
the history recorded before it), which ``agentops-audit weekly`` supplies. A plain ``audit``, or a week
audited without a history store, has no history: these items are NO_DATA with that reason, never a
pass. So is a growth check when the history holds no audit of the week just before, or that week or
this one has no value to compare. Each check is asserted by its Great Expectations suite
(``checks/suites.yml``) against the item's threshold; a growth check fails when its week-over-week alert
fires: the rise passes the threshold and its interval tells it from noise (``alerts.py``).
"""

from __future__ import annotations

import polars as pl

from agentops_audit.catalog import Item
from agentops_audit.evaluators.base import AuditContext, check, evaluate, judge
from agentops_audit.results import NO_DATA, ItemResult
from agentops_audit.trends import CHANGE_WORDS, CRITERIA

NO_HISTORY = (
    "needs weekly history: week-over-week checks compare audits of consecutive weeks; run "
    "`agentops-audit weekly --history FILE` to record them"
)


def _growth(ctx: AuditContext, item: Item, metric: str, what: str) -> ItemResult:
    """FAIL when the week-over-week alert of ``metric`` fires: the rise passes the item's threshold and its
    interval tells it from noise (``alerts.py``). The GX suite asserts the change against the threshold on
    the rows ``beyond_noise`` (told from noise, or not testable): a rise within the noise cannot fail."""
    scope = ctx.weekly
    if scope is None or scope.history is None:
        return ItemResult(item.id, NO_DATA, reason=NO_HISTORY)
    before_week = scope.week.previous().label
    if not scope.has_previous_week:
        return ItemResult(
            item.id,
            NO_DATA,
            reason=f"the history holds no audit of {before_week}, the week before "
            f"{scope.week.label}: there is nothing to compare with yet",
        )
    before, now = scope.previous(metric), scope.current(ctx).get(metric)
    change = scope.change(ctx, metric)
    evidence = {
        "metric": metric,
        "week": scope.week.label,
        "previous_week": before_week,
        "previous": before,
        "current": now,
        "history": scope.history,
    }
    if change is None:
        missing = before_week if before is None or before == 0 else scope.week.label
        return ItemResult(item.id, NO_DATA, reason=f"no {what} to compare for {missing}", evidence=evidence)
    shown = CHANGE_WORDS[metric][1]
    if change.significant is None:
        tested = f"not tested for noise: {change.note}"
    else:
        tested = f"{change.confidence:.0%} interval {change.ci_low:+.0f}% to {change.ci_high:+.0f}%" + (
            ": past the alert level but within week-to-week noise"
            if change.past_level and not change.significant
            else ""
        )
    table = pl.DataFrame(
        {"metric": [metric], "change_pct": [change.change], "beyond_noise": [change.significant is not False]}
    )
    return judge(
        ctx,
        item,
        table,
        value=change.change,
        evidence={
            **evidence,
            "change_pct": change.change,
            "ci_low_pct": change.ci_low,
            "ci_high_pct": change.ci_high,
            "confidence": change.confidence,
            "significant": change.significant,
            "method": change.method,
        },
        display=f"{what} {'+' if change.change >= 0 else ''}{change.change:.1f}% week over week "
        f"({shown.format(before)} in {before_week}, {shown.format(now)} in {scope.week.label}; "
        f"{tested})",
    )


@check("cost_wow_alert")
def cost_wow_alert(ctx: AuditContext, item: Item) -> ItemResult:
    return _growth(ctx, item, "cost_per_task", "cost per task")


@check("token_wow_alert")
def token_wow_alert(ctx: AuditContext, item: Item) -> ItemResult:
    return _growth(ctx, item, "tokens_per_task", "tokens per task")


@check("consecutive_weeks")
def consecutive_weeks(ctx: AuditContext, item: Item) -> ItemResult:
    """PASS when every go/no-go criterion has been on target for at least the threshold's number of
    consecutive weeks, the audited week included."""
    scope = ctx.weekly
    if scope is None or scope.history is None:
        return ItemResult(item.id, NO_DATA, reason=NO_HISTORY)

    statuses = {i: evaluate(ctx, ctx.catalog.item(i)).status for i in CRITERIA}
    streaks = scope.streaks(statuses)
    table = pl.DataFrame({"criterion": list(streaks), "streak": [float(v) for v in streaks.values()]})
    short = [i for i, n in streaks.items() if n < item.threshold.value]
    weakest = min(streaks.values())
    return judge(
        ctx,
        item,
        table,
        value=float(weakest),
        display=f"{weakest} consecutive week{'s' if weakest != 1 else ''} with every go/no-go criterion on "
        f"target (to {scope.week.label}); "
        + (", ".join(f"{CRITERIA[i]} {streaks[i]}" for i in short) + " short" if short else "all criteria long enough"),
        evidence={
            "week": scope.week.label,
            "streaks": streaks,
            "statuses_this_week": statuses,
            "weeks_before": len(scope.prior.weeks),
            "history": scope.history,
        },
        at_fault=short,
    )
