"""Week-over-week changes, and the rule that makes a change an alert.

A change compares the audited ISO week with the week just before it. Each one gets a two-sided interval
at the configured confidence (``weekly_alerts.confidence``, default 0.95), of the same kinds the
regression gate uses (``evals.gate``, closed form, deterministic):

- a mean per task (cost, tokens): Welch's unequal-variance normal interval for the difference of the two
  weeks' means, from each week's number of tasks, mean and sample standard deviation; shown as a percent
  of the week before's mean, like the change itself;
- a rate (policy violations over attempted actions, traced over all sessions): Newcombe's hybrid score
  interval for the difference of two independent proportions, from the two weeks' counts.

**The rule.** A change alerts when it is larger than its alert level (the threshold: the smallest change
that matters) *and* the interval tells it from noise (for a rise, its lower bound is above zero; for a
drop, its upper bound is below zero). A change past the level that the interval cannot tell from noise is
kept in ``changes`` with ``significant`` false, and does not alert.

A change is *not tested* (``significant`` None) when a week lacks what the interval needs: a week recorded
in the history by an older toolkit (no spread or counts), or fewer than ``gate.MIN_SCORE_CASES`` tasks in a
week for a mean (the normal interval is not trusted there, as in the gate). An untested change past its
level alerts, and its message says that it was not tested.

What each week needs is recorded in the history beside the number itself (``week_metrics``): for a mean
``<metric>:n`` and ``<metric>:sd``, for a rate ``<metric>:count`` and ``<metric>:n`` (``STATS``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from agentops_audit.evals import gate

RISE, DROP = 1, -1
# what each compared number records beside itself in the history
MEAN_STATS, RATE_STATS = (":n", ":sd"), (":count", ":n")


def stats_keys(metric: str, kind: str) -> tuple[str, str]:
    """The history keys of what the interval of ``metric`` needs (``kind`` mean or rate)."""
    return tuple(metric + suffix for suffix in (MEAN_STATS if kind == "mean" else RATE_STATS))


def stats(metric: str, kind: str, *values) -> dict:
    """What the interval of ``metric`` needs, under its history keys: ``values`` n and sd for a mean, count
    and n for a rate."""
    return dict(zip(stats_keys(metric, kind), values, strict=True))


@dataclass(frozen=True)
class Change:
    """One number compared with the week before: the change, its interval, and whether it alerts."""

    metric: str
    previous: float
    current: float
    change: float  # percent of the previous value (unit percent_change) or a difference of ratios
    unit: str  # percent_change or ratio
    threshold: float  # the alert level, as a size: the smallest change that matters
    direction: int  # RISE: a rise alerts; DROP: a fall alerts
    confidence: float
    ci_low: float | None = None  # the interval of ``change``, same unit; None when not tested
    ci_high: float | None = None
    method: str | None = None  # welch_normal, newcombe_independent; None when not tested
    note: str = ""  # why it was not tested

    @property
    def past_level(self) -> bool:
        return self.direction * self.change > self.threshold

    @property
    def significant(self) -> bool | None:
        """Whether the interval excludes no change (in the alerting direction); None when not tested."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return self.ci_low > 0 if self.direction == RISE else self.ci_high < 0

    @property
    def fires(self) -> bool:
        return self.past_level and self.significant is not False

    def to_dict(self) -> dict:
        return {**asdict(self), "past_level": self.past_level, "significant": self.significant, "alert": self.fires}


def mean_change(metric: str, before: dict, after: dict, threshold: float, confidence: float) -> Change | None:
    """The change of a mean per task (percent of the week before's), with Welch's interval; None when a week
    has no value or the week before's is 0. ``before`` and ``after`` are the weeks' recorded numbers."""
    m1, m2 = before.get(metric), after.get(metric)
    if m1 is None or m2 is None or m1 == 0:
        return None
    change = (m2 - m1) / abs(m1) * 100
    n_key, sd_key = stats_keys(metric, "mean")
    n1, sd1, n2, sd2 = before.get(n_key), before.get(sd_key), after.get(n_key), after.get(sd_key)
    untested = Change(metric, m1, m2, change, "percent_change", threshold, RISE, confidence)
    if None in (n1, sd1, n2, sd2):
        return replace(untested, note="a week was recorded without the per-task spread (by an older toolkit)")
    if min(n1, n2) < gate.MIN_SCORE_CASES:
        return replace(untested, note=f"fewer than {gate.MIN_SCORE_CASES} tasks in a week")
    summary = gate.IndependentScores(n1, m1, sd1, n2, m2, sd2)
    low, high = summary.interval(gate.z_value(confidence))
    scale = 100 / abs(m1)
    return replace(untested, ci_low=low * scale, ci_high=high * scale, method=summary.method)


def rate_change(
    metric: str, before: dict, after: dict, threshold: float, direction: int, confidence: float
) -> Change | None:
    """The change of a rate (a difference of ratios), with Newcombe's interval for independent
    proportions; None when a week has no value."""
    p1, p2 = before.get(metric), after.get(metric)
    if p1 is None or p2 is None:
        return None
    k_key, n_key = stats_keys(metric, "rate")
    k1, n1, k2, n2 = before.get(k_key), before.get(n_key), after.get(k_key), after.get(n_key)
    untested = Change(metric, p1, p2, p2 - p1, "ratio", threshold, direction, confidence)
    if None in (k1, n1, k2, n2) or not n1 or not n2:
        return replace(untested, note="a week was recorded without the counts behind the rate (by an older toolkit)")
    summary = gate.IndependentCounts(k1, n1, k2, n2)
    low, high = summary.interval(gate.z_value(confidence))
    return replace(untested, ci_low=low, ci_high=high, method=summary.method)


def _interval(c: Change) -> str:
    level = f"{c.confidence:.0%} interval"
    if c.unit == "percent_change":
        return f"{level} {c.ci_low:+.0f}% to {c.ci_high:+.0f}%"
    return f"{level} {c.ci_low * 100:+.2f} to {c.ci_high * 100:+.2f} points"


def describe(c: Change, what: str, shown: str = "{:,.4g}") -> str:
    """The change as one sentence, e.g. ``cost per task rose 39.2% week over week ($0.008256 to $0.0115; 95%
    interval +7% to +71%); the alert level is +25%``, saying when it is noise or was not tested."""
    if c.unit == "percent_change":
        moved = f"{'rose' if c.change >= 0 else 'fell'} {abs(c.change):.1f}%"
        values = f"{shown.format(c.previous)} to {shown.format(c.current)}"
        level = f"{'+' if c.direction == RISE else '-'}{c.threshold:g}%"
    else:
        moved = f"{'rose' if c.change >= 0 else 'fell'} {abs(c.change) * 100:.2f} points"
        values = f"{c.previous:.2%} to {c.current:.2%}"
        level = f"{c.threshold * 100:g} points"
    tested = _interval(c) if c.significant is not None else f"not tested for noise: {c.note}"
    text = f"{what} {moved} week over week ({values}; {tested}); the alert level is {level}"
    if c.past_level and c.significant is False:
        text += ": within week-to-week noise, no alert"
    return text


def finite(value) -> float | None:
    """``value`` as a float, or None when it is missing or not finite (a standard deviation of one task)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
