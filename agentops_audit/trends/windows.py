"""ISO weeks, and restricting an audit connection to the sessions of one week.

A session belongs to the ISO week (Monday 00:00 to the next Monday 00:00, UTC, as the spans store
times) in which its earliest span started; every span of that session is in the week, even one that
ends after Sunday midnight. A session whose spans all lack a start time belongs to no week.

``restrict`` shadows the ``spans`` and ``session_registry`` tables of a read-only audit connection with
TEMP tables holding only the week's rows. DuckDB resolves unqualified names temp-first, also inside the
persistent views, so ``span_sessions``, ``tool_calls``, ``sessions``, ``eval_results`` and every metric
read the week alone; ``restrict`` checks that this holds before the audit runs. The session registry
keeps the sessions registered as started in the week, plus those without a start time whose traced
session is in the week. Evaluation results, the source ledger and the quarantine are not restricted:
an eval run belongs to a release, not to a week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb

from agentops_audit.db import main_catalog, scalar

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")  # 2026-W46; 2026-W6 is 2026-W06


@dataclass(frozen=True, order=True)
class Week:
    """One ISO week; ``start`` is its Monday 00:00 and ``end`` the next Monday 00:00 (naive UTC)."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """``2026-W46`` (or ``2026-W6``) -> Week; ValueError on anything else (or a week the year does not
        have). The one week parser: the weekly runs, the CLI and the explorer all read weeks with it."""
        m = _WEEK.match(str(text).strip())
        if not m:
            raise ValueError(f"expected an ISO week like 2026-W46, got {text!r}")
        year, number = int(m.group(1)), int(m.group(2))
        try:
            monday = date.fromisocalendar(year, number, 1)
        except ValueError:
            raise ValueError(f"{text!r}: {year} has no ISO week {number}") from None
        return cls.of(monday)

    @classmethod
    def of(cls, day: date | datetime) -> Week:
        """The ISO week that contains ``day``."""
        iso = (day.date() if isinstance(day, datetime) else day).isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, today: date | None = None) -> Week:
        """The last ISO week that ended before ``today`` (default: today, UTC): on any day of 2026-W47,
        2026-W46. This is the default of ``agentops-audit weekly``, meant for a run early in the week."""
        return cls.of(today or datetime.now(UTC).date()).previous()

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def start(self) -> datetime:
        return datetime.combine(date.fromisocalendar(self.year, self.number, 1), datetime.min.time())

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    def previous(self) -> Week:
        return Week.of(self.start - timedelta(days=7))

    def next(self) -> Week:
        return Week.of(self.end)

    def __str__(self) -> str:
        return self.label


def week_range(first: Week, last: Week) -> list[Week]:
    """Every week from ``first`` to ``last``, both included; ValueError when ``first`` is after ``last``."""
    if first > last:
        raise ValueError(f"--from {first} is after --to {last}")
    weeks = [first]
    while weeks[-1] < last:
        weeks.append(weeks[-1].next())
    return weeks


_main = main_catalog


def _in_week(main: str) -> str:
    return (
        f"SELECT session_key FROM {main}.span_sessions GROUP BY session_key "
        "HAVING min(start_time) >= ? AND min(start_time) < ?"
    )


def sessions_in(con: duckdb.DuckDBPyConnection, week: Week) -> int:
    """How many sessions started in ``week`` (on an unrestricted connection)."""
    return scalar(con, f"SELECT count(*) FROM ({_in_week(_main(con))})", [week.start, week.end])


def week_spans_sql(main: str) -> str:
    """The week's spans (parameters: the week's start and end), read from ``main``'s ``span_sessions``; the
    Spark engine runs the same SQL (``engine/spark.py``)."""
    return f"SELECT * EXCLUDE (session_key) FROM {main}.span_sessions WHERE session_key IN ({_in_week(main)})"


def week_registry_sql(main: str) -> str:
    """The week's session registry (parameters: start, end), once ``spans`` holds the week's spans."""
    return (
        f"SELECT * FROM {main}.session_registry WHERE (started_at >= ? AND started_at < ?) "
        "OR (started_at IS NULL AND session_id IN (SELECT DISTINCT session_key FROM span_sessions))"
    )


def restrict(con: duckdb.DuckDBPyConnection, week: Week) -> None:
    """Make every unqualified read of ``con`` see only ``week`` (see the module docstring)."""
    if scalar(
        con, "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name IN ('spans', 'session_registry')"
    ):
        raise RuntimeError("this connection is already restricted to a window")
    main = _main(con)
    bounds = [week.start, week.end]
    con.execute(f"CREATE TEMP TABLE spans AS {week_spans_sql(main)}", bounds)
    con.execute(f"CREATE TEMP TABLE session_registry AS {week_registry_sql(main)}", bounds)
    # the persistent views must read the TEMP spans: their row count is the week's, not the whole table's
    if scalar(con, "SELECT count(*) FROM span_sessions") != scalar(con, "SELECT count(*) FROM spans"):
        raise RuntimeError(
            "DuckDB resolved the canonical views to the stored spans, not to the week's: "
            "the weekly window cannot be applied with this DuckDB version"
        )
