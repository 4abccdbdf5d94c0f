"""The weekly parts of audit.json as typed records: ``Scope.document`` builds a ``WeeklyParts``, whose
``to_dict`` gives the keys ``week``, ``weekly_metrics``, ``changes``, ``alerts``, ``streaks`` and ``trends``
(``audit.schema.json`` describes them)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from agentops_audit.results import plain
from agentops_audit.trends.alerts import Change


@dataclass
class WeekInfo:
    """``week``: the ISO week audited and the history it was compared with."""

    label: str
    start: str
    end: str
    history: str | None
    weeks_before: int
    no_alerts_reason: str | None  # why the week can have no week-over-week alert; None when it can


@dataclass
class ShownChange:
    """One of ``changes``: a number against the week before (``alerts.Change``) and its sentence."""

    change: Change
    text: str

    def to_dict(self) -> dict:
        return {**self.change.to_dict(), "text": self.text}


@dataclass
class Alert:
    """One of ``alerts``: a change that fired. ``interval`` (``ci_low``, ``ci_high``, ``confidence``,
    ``significant``) for a change with one; a tool's crossing of its target has none."""

    metric: str
    week: str
    previous: float
    current: float
    change: float
    threshold: float
    unit: str
    message: str
    interval: dict | None = None

    def to_dict(self) -> dict:
        head = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("message", "interval")}
        return {**head, **(self.interval or {}), "message": self.message}


@dataclass
class StreakCriterion:
    """Consecutive weeks on target of one go/no-go criterion, the audited week included."""

    item: str
    criterion: str
    streak: int
    status: str | None  # the item's status this week


@dataclass
class Streaks:
    threshold: float  # the weeks on target the go/no-go item asks for
    criteria: list[StreakCriterion]


@dataclass
class TrendPoint:
    """One week of one series the report draws."""

    metric: str
    key: str
    week: str
    value: float


@dataclass
class WeeklyParts:
    week: WeekInfo
    weekly_metrics: dict[str, float | None]
    changes: list[ShownChange]
    alerts: list[Alert]
    streaks: Streaks
    trends: list[TrendPoint]

    def to_dict(self) -> dict:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}
