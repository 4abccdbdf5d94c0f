"""Week over week: the audited week's numbers, their deltas against the week before, the alerts, the
streaks of weeks on target, and the trend series the report draws.

A ``Scope`` is what a weekly audit knows beyond its own week: the ISO week, and a ``history.Snapshot``
of the weeks recorded before it. The evaluators of ``evaluators/weekly.py`` and ``audit.run`` use it;
``document`` adds ``week``, ``weekly_metrics``, ``alerts``, ``streaks`` and ``trends`` to audit.json.

Alert rules (an alert compares the audited week with the ISO week just before it; no alert without
that week in the history):

- cost per task (mean) rose by more than the threshold of item ``cost.weekly-alerts`` (25%);
- tokens per task (mean) rose by more than the threshold of item ``cost.token-growth`` (20%);
- a tool's success rate after retries fell from meeting the threshold of item
  ``workflow.tool-success-per-tool`` (> 99.5%) to missing it;
- trace coverage fell by more than ``weekly_alerts.trace_coverage_drop`` (default 0.02: two points);
- the policy violation rate rose by more than ``weekly_alerts.policy_violation_rate_rise`` (default
  0.001: 0.1 point, the size of the go/no-go target itself).

The first two thresholds change with the config's ``thresholds`` (by item id), the last two with its
``weekly_alerts`` mapping.

A streak is the number of consecutive ISO weeks, ending with the audited one, in which a go/no-go
criterion (``CRITERIA``) passed (PASS or NOT_APPLICABLE); a week missing from the history ends it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from agentops_audit.history import Snapshot, snapshot, stable
from agentops_audit.results import NOT_APPLICABLE, PASS
from agentops_audit.windows import Week

# The five go/no-go criteria of checklist "002", section 6, by catalog item.
CRITERIA = {
    "observe.trace-coverage": "trace coverage",
    "workflow.tool-success-per-tool": "tool success per tool",
    "security.policy-violation-rate": "policy violations",
    "eval.every-release": "eval suite stable and automated",
    "cost.p95-predictable": "cost budgets and P95 predictable",
}
ON_TARGET = (PASS, NOT_APPLICABLE)
COST_ITEM, TOKENS_ITEM, TOOLS_ITEM, STREAK_ITEM = (
    "cost.weekly-alerts", "cost.token-growth", "workflow.tool-success-per-tool", "rollout.consecutive-weeks")
ALERT_DEFAULTS = {"trace_coverage_drop": 0.02, "policy_violation_rate_rise": 0.001}
TREND_WEEKS = 12
TOOL_PREFIX = "tool_success:"
# metric key -> label: the series recorded every week and drawn as trends (per-tool rates are recorded too)
WEEKLY_METRICS = {
    "trace_coverage": "trace coverage",
    "tool_success_min": "worst tool success (after retries)",
    "policy_violation_rate": "policy violation rate",
    "releases_with_eval_run": "releases with an eval run",
    "cost_per_task_p95": "cost per task, P95 (USD)",
    "cost_per_task": "cost per task, mean (USD)",
    "tokens_per_task": "tokens per task, mean",
    "sessions": "sessions",
}


def validate_alerts(raw) -> dict:
    """The config's ``weekly_alerts`` merged over the defaults; ValueError on an unknown key or a bad value."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ValueError("weekly_alerts must map alert names to numbers")
    unknown = set(raw) - set(ALERT_DEFAULTS)
    if unknown:
        raise ValueError(f"weekly_alerts: unknown key(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(ALERT_DEFAULTS)}")
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"weekly_alerts.{key} must be a ratio between 0 and 1, not {value!r}")
    return {**ALERT_DEFAULTS, **{k: float(v) for k, v in raw.items()}}


def measure(ctx) -> dict[str, float | None]:
    """The audited week's numbers, from the audit context's metric frames (DuckDB computed them), to the
    history's precision (``history.stable``)."""
    volume = ctx.metric("volume").row(0, named=True)
    cost = ctx.metric("cost_per_task").filter(pl.col("workflow") == "(all)")
    cost = cost.row(0, named=True) if not cost.is_empty() else {}
    priced = bool(cost.get("exported_cost_spans") or cost.get("priced_spans"))
    tokens = ctx.metric("tokens_per_task").filter(pl.col("mean").is_not_null())
    tasks = int(tokens["tasks"].sum()) if not tokens.is_empty() else 0
    tools = {r["tool"]: r["success_rate_after_retries"] for r in ctx.metric("tool_success").iter_rows(named=True)
             if r["tool"] is not None}
    rates = [v for v in tools.values() if v is not None]
    return {k: stable(v) for k, v in {
        "sessions": float(volume["sessions"]),
        "trace_coverage": ctx.metric("trace_coverage").row(0, named=True)["coverage"],
        "policy_violation_rate": ctx.metric("policy_violation_rate").row(0, named=True)["rate"],
        "cost_per_task": cost.get("mean_usd") if priced else None,
        "cost_per_task_p95": cost.get("p95_usd") if priced else None,
        "tokens_per_task": float((tokens["tasks"] * tokens["mean"]).sum()) / tasks if tasks else None,
        "tool_success_min": min(rates) if rates else None,
        **{TOOL_PREFIX + t: v for t, v in sorted(tools.items())},
    }.items()}


def open_scope(week: str | Week, history=None) -> Scope:
    """The scope of a weekly audit of ``week``: the weeks ``history`` (a path; None: no history) recorded
    before it."""
    week = week if isinstance(week, Week) else Week.parse(week)
    return Scope(week, snapshot(history, week.label), str(history) if history is not None else None)


def pct_change(previous: float | None, current: float | None) -> float | None:
    """Percent change (25.0 means +25%); None when either side is missing or the previous one is 0."""
    if previous is None or current is None or previous == 0:
        return None
    return (current - previous) / abs(previous) * 100


def streak(week: Week, statuses: dict[str, dict[str, str]], item_id: str) -> int:
    """Consecutive ISO weeks ending with ``week`` in which ``item_id`` was on target; ``statuses`` maps
    week labels to item statuses (a week it does not hold ends the streak)."""
    n = 0
    while statuses.get(week.label, {}).get(item_id) in ON_TARGET:
        n += 1
        week = week.previous()
    return n


@dataclass
class Scope:
    """One weekly audit: its week and the history before it. ``history`` is the store's path."""

    week: Week
    prior: Snapshot
    history: str | None = None
    _current: dict | None = field(default=None, repr=False)

    def current(self, ctx) -> dict[str, float | None]:
        if self._current is None:
            self._current = measure(ctx)
        return self._current

    def previous(self, metric: str) -> float | None:
        """The metric's value in the ISO week just before the audited one (None when not recorded)."""
        return self.prior.value(self.week.previous().label, metric)

    @property
    def has_previous_week(self) -> bool:
        return self.week.previous().label in self.prior.metrics

    def streaks(self, current_statuses: dict[str, str]) -> dict[str, int]:
        """Weeks on target in a row, per go/no-go criterion, counting the audited week."""
        statuses = {**self.prior.statuses, self.week.label: current_statuses}
        return {item: streak(self.week, statuses, item) for item in CRITERIA}

    def alerts(self, ctx) -> list[dict]:
        """The week-over-week alerts that fire for the audited week (see the module docstring)."""
        now, label = self.current(ctx), self.week.label
        limits = validate_alerts(ctx.config.get("weekly_alerts"))
        out = []

        def add(metric, previous, current, change, threshold, unit, message):
            out.append({"metric": metric, "week": label, "previous": previous, "current": current,
                        "change": change, "threshold": threshold, "unit": unit, "message": message})

        for metric, item, what, shown in (("cost_per_task", COST_ITEM, "cost per task", "${:,.4g}"),
                                          ("tokens_per_task", TOKENS_ITEM, "tokens per task", "{:,.0f}")):
            limit = ctx.catalog.item(item).threshold.value
            before, after = self.previous(metric), now.get(metric)
            change = pct_change(before, after)
            if change is not None and change > limit:
                add(metric, before, after, change, limit, "percent_change",
                    f"{what} rose {change:.1f}% week over week ({shown.format(before)} to {shown.format(after)}); "
                    f"the alert level is +{limit:g}%")
        target = ctx.catalog.item(TOOLS_ITEM).threshold
        for metric in sorted(k for k in now if k.startswith(TOOL_PREFIX)):
            before, after = self.previous(metric), now[metric]
            if before is not None and after is not None and target.holds(before) and not target.holds(after):
                tool = metric[len(TOOL_PREFIX):]
                add(metric, before, after, after - before, target.value, "ratio",
                    f"{tool} success after retries fell to {after:.2%} from {before:.2%}, below the "
                    f"{target.value:.2%} target")
        for metric, key, sign, what in (("trace_coverage", "trace_coverage_drop", -1, "trace coverage fell"),
                                        ("policy_violation_rate", "policy_violation_rate_rise", 1,
                                         "the policy violation rate rose")):
            before, after = self.previous(metric), now.get(metric)
            if before is not None and after is not None and sign * (after - before) > limits[key]:
                add(metric, before, after, after - before, limits[key], "ratio",
                    f"{what} {abs(after - before) * 100:.2f} points week over week ({before:.2%} to "
                    f"{after:.2%}); the alert level is {limits[key] * 100:g} points")
        return out

    def trends(self, current: dict[str, float | None]) -> list[dict]:
        """The last ``TREND_WEEKS`` weeks (the audited one included) of each ``WEEKLY_METRICS`` series."""
        weeks = [w for w in self.prior.weeks if w < self.week.label][-(TREND_WEEKS - 1):]
        series = {**{w: self.prior.metrics.get(w, {}) for w in weeks}, self.week.label: current}
        return [{"metric": label, "key": key, "week": week, "value": float(values[key])}
                for key, label in WEEKLY_METRICS.items() if key != "sessions"
                for week, values in series.items() if values.get(key) is not None]

    def document(self, ctx, results: dict) -> dict:
        """The weekly keys of audit.json; ``results`` are the audit's item results by id."""
        current = {**self.current(ctx)}
        every_release = results.get("eval.every-release")
        current["releases_with_eval_run"] = stable(every_release.value) if every_release else None
        streaks = self.streaks({k: r.status for k, r in results.items()})
        needed = ctx.catalog.item(STREAK_ITEM).threshold.value
        return {
            "week": {"label": self.week.label, "start": self.week.start.isoformat(),
                     "end": self.week.end.isoformat(), "history": self.history,
                     "weeks_before": len(self.prior.weeks)},
            "weekly_metrics": current,
            "alerts": self.alerts(ctx),
            "streaks": {"threshold": needed,
                        "criteria": [{"item": item, "criterion": name, "streak": streaks[item],
                                      "status": results[item].status if item in results else None}
                                     for item, name in CRITERIA.items()]},
            "trends": self.trends(current),
        }
