"""Week over week, below the audit: the audited week's numbers, their changes against the week before,
the alerts, the streaks of weeks on target, and the trend series the report draws. The package's parts:
``windows`` (the one ISO ``Week`` type, and restricting an audit to one week), ``store`` (the history
store's schema and what an audit reads from it), ``alerts`` (a change and its interval); this module holds
the ``Scope``. Writing the history is the weekly command's (``agentops_audit/weekly/``).

A ``Scope`` is what a weekly audit knows beyond its own week: the ISO week, and a ``store.Snapshot``
of the weeks recorded before it. The evaluators of ``evaluators/weekly.py`` and ``audit.run`` use it;
``document`` adds ``week``, ``weekly_metrics``, ``changes``, ``alerts``, ``streaks`` and ``trends`` to
audit.json.

Alerts compare the audited week with the ISO week just before it (no alert without that week in the
history). Each change has an alert level, the smallest change that matters, and an interval at the
configured confidence (``alerts.py`` states the rule: past the level *and* told from noise):

- cost per task (mean) rose by more than the threshold of item ``cost.weekly-alerts`` (25%);
- tokens per task (mean) rose by more than the threshold of item ``cost.token-growth`` (20%);
- trace coverage fell by more than ``weekly_alerts.trace_coverage_drop`` (default 0.02: two points);
- the policy violation rate rose by more than ``weekly_alerts.policy_violation_rate_rise`` (default
  0.001: 0.1 point, the size of the go/no-go target itself);
- a tool's success rate after retries fell from meeting the threshold of item
  ``workflow.tool-success-per-tool`` (> 99.5%) to missing it (a crossing of the target, no interval).

The first two levels change with the config's ``thresholds`` (by item id), the next two and the
confidence (``weekly_alerts.confidence``, default 0.95) with its ``weekly_alerts`` mapping.

A streak is the number of consecutive ISO weeks, ending with the audited one, in which a go/no-go
criterion (``CRITERIA``) passed (PASS or NOT_APPLICABLE); a week missing from the history ends it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from agentops_audit.errors import check_keys
from agentops_audit.metrics import overall_cost
from agentops_audit.results import NOT_APPLICABLE, PASS
from agentops_audit.trends import alerts
from agentops_audit.trends.alerts import DROP, RISE, Change, finite
from agentops_audit.trends.records import (
    Alert,
    ShownChange,
    StreakCriterion,
    Streaks,
    TrendPoint,
    WeekInfo,
    WeeklyParts,
)
from agentops_audit.trends.store import Snapshot, snapshot, stable
from agentops_audit.trends.windows import Week

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
    "cost.weekly-alerts",
    "cost.token-growth",
    "workflow.tool-success-per-tool",
    "rollout.consecutive-weeks",
)
ALERT_DEFAULTS = {"trace_coverage_drop": 0.02, "policy_violation_rate_rise": 0.001, "confidence": 0.95}
TREND_WEEKS = 12
# compared metric -> (its words, how a value is shown), for the sentences of ``alerts.describe``
CHANGE_WORDS = {
    "cost_per_task": ("cost per task", "${:,.3g}"),
    "tokens_per_task": ("tokens per task", "{:,.0f}"),
    "trace_coverage": ("trace coverage", ""),
    "policy_violation_rate": ("the policy violation rate", ""),
}
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
    check_keys(raw, ALERT_DEFAULTS, "weekly_alerts", ValueError)
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"weekly_alerts.{key} must be a ratio between 0 and 1, not {value!r}")
        if key == "confidence" and not 0.5 < value < 1:
            raise ValueError(f"weekly_alerts.confidence must be between 0.5 and 1, e.g. 0.95; not {value!r}")
    return {**ALERT_DEFAULTS, **{k: float(v) for k, v in raw.items()}}


def measure(ctx) -> dict[str, float | None]:
    """The audited week's numbers, from the audit context's metric frames (DuckDB computed them), to the
    history's precision (``store.stable``)."""
    volume = ctx.metric("volume").row(0, named=True)
    cost = overall_cost(ctx.metric("cost_per_task"))
    tokens = ctx.metric("tokens_per_task").filter(pl.col("mean").is_not_null())
    tasks = int(tokens["tasks"].sum()) if not tokens.is_empty() else 0
    tools = {
        r["tool"]: r["success_rate_after_retries"]
        for r in ctx.metric("tool_success").iter_rows(named=True)
        if r["tool"] is not None
    }
    rates = [v for v in tools.values() if v is not None]
    coverage = ctx.metric("trace_coverage").row(0, named=True)
    policy = ctx.metric("policy_violation_rate").row(0, named=True)
    spread = ctx.metric("task_spread").row(0, named=True)  # what the alerts' intervals need (alerts.py)
    return {
        k: stable(v)
        for k, v in {
            "sessions": float(volume["sessions"]),
            "trace_coverage": coverage["coverage"],
            "policy_violation_rate": policy["rate"],
            "cost_per_task": cost.get("mean_usd"),
            "cost_per_task_p95": cost.get("p95_usd"),
            "tokens_per_task": float((tokens["tasks"] * tokens["mean"]).sum()) / tasks if tasks else None,
            "tool_success_min": min(rates) if rates else None,
            **{TOOL_PREFIX + t: v for t, v in sorted(tools.items())},
            **(alerts.stats("cost_per_task", "mean", spread["cost_tasks"], finite(spread["cost_sd"])) if cost else {}),
            **(
                alerts.stats("tokens_per_task", "mean", spread["token_tasks"], finite(spread["tokens_sd"]))
                if tasks
                else {}
            ),
            **alerts.stats("trace_coverage", "rate", coverage["covered_sessions"], coverage["all_sessions"]),
            **alerts.stats("policy_violation_rate", "rate", policy["violating_actions"], policy["attempted_actions"]),
        }.items()
    }


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

    def changes(self, ctx) -> list[Change]:
        """The audited week's numbers against the week before, each with its interval (``alerts.py``)."""
        if not self.has_previous_week:
            return []
        now, before = self.current(ctx), self.prior.metrics.get(self.week.previous().label, {})
        limits = validate_alerts(ctx.config.get("weekly_alerts"))
        confidence = limits["confidence"]
        found = [
            alerts.mean_change(metric, before, now, ctx.catalog.item(item).threshold.value, confidence)
            for metric, item in (("cost_per_task", COST_ITEM), ("tokens_per_task", TOKENS_ITEM))
        ]
        found += [
            alerts.rate_change("trace_coverage", before, now, limits["trace_coverage_drop"], DROP, confidence),
            alerts.rate_change(
                "policy_violation_rate", before, now, limits["policy_violation_rate_rise"], RISE, confidence
            ),
        ]
        return [c for c in found if c is not None]

    def change(self, ctx, metric: str) -> Change | None:
        return next((c for c in self.changes(ctx) if c.metric == metric), None)

    def alerts(self, ctx) -> list[Alert]:
        """The week-over-week alerts that fire for the audited week (see the module docstring)."""
        now, label = self.current(ctx), self.week.label
        out = []
        for c in self.changes(ctx):
            if c.fires:
                what, shown = CHANGE_WORDS[c.metric]
                interval = {k: getattr(c, k) for k in ("ci_low", "ci_high", "confidence", "significant")}
                message = alerts.describe(c, what, shown)
                out.append(
                    Alert(c.metric, label, c.previous, c.current, c.change, c.threshold, c.unit, message, interval)
                )
        target = ctx.catalog.item(TOOLS_ITEM).threshold
        for metric in sorted(k for k in now if k.startswith(TOOL_PREFIX)):
            before, after = self.previous(metric), now[metric]
            if before is not None and after is not None and target.holds(before) and not target.holds(after):
                tool = metric[len(TOOL_PREFIX) :]
                message = (
                    f"{tool} success after retries fell to {after:.2%} from {before:.2%}, "
                    f"below the {target.value:.2%} target"
                )
                out.append(Alert(metric, label, before, after, after - before, target.value, "ratio", message))
        return out

    def no_alerts_reason(self) -> str | None:
        """Why the week cannot have week-over-week alerts, or None when it can."""
        before = self.week.previous().label
        if self.history is None:
            return "no history store: week-over-week alerts need `agentops-audit weekly --history FILE`"
        if not self.prior.weeks:
            return (
                f"no week-over-week alerts yet: the history is new, {self.week.label} is its first week; "
                f"alerts start with the next week, compared with this one"
            )
        if not self.has_previous_week:
            return (
                f"no week-over-week alerts: the history holds no audit of {before}, the week before "
                f"{self.week.label} (weeks recorded: {', '.join(self.prior.weeks[-3:])}); audit {before} "
                "to compare with it"
            )
        return None

    def trends(self, current: dict[str, float | None]) -> list[TrendPoint]:
        """The last ``TREND_WEEKS`` weeks (the audited one included) of each ``WEEKLY_METRICS`` series."""
        weeks = [w for w in self.prior.weeks if w < self.week.label][-(TREND_WEEKS - 1) :]
        series = {**{w: self.prior.metrics.get(w, {}) for w in weeks}, self.week.label: current}
        return [
            TrendPoint(label, key, week, float(values[key]))
            for key, label in WEEKLY_METRICS.items()
            if key != "sessions"
            for week, values in series.items()
            if values.get(key) is not None
        ]

    def document(self, ctx, results: dict) -> WeeklyParts:
        """The weekly parts of audit.json; ``results`` are the audit's item results by id."""
        current = {**self.current(ctx)}
        every_release = results.get("eval.every-release")
        current["releases_with_eval_run"] = stable(every_release.value) if every_release else None
        streaks = self.streaks({k: r.status for k, r in results.items()})
        week = self.week
        return WeeklyParts(
            week=WeekInfo(
                week.label,
                week.start.isoformat(),
                week.end.isoformat(),
                self.history,
                len(self.prior.weeks),
                self.no_alerts_reason(),
            ),
            weekly_metrics=current,
            changes=[ShownChange(c, alerts.describe(c, *CHANGE_WORDS[c.metric])) for c in self.changes(ctx)],
            alerts=self.alerts(ctx),
            streaks=Streaks(
                ctx.catalog.item(STREAK_ITEM).threshold.value,
                [
                    StreakCriterion(item, name, streaks[item], results[item].status if item in results else None)
                    for item, name in CRITERIA.items()
                ],
            ),
            trends=self.trends(current),
        )
