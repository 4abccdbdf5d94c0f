"""The weekly history store, read side: one DuckDB file that weekly audits append to
(``weekly/history.py`` holds its lock and writes it). An audit of one week reads from it, before the
audit, what the weeks before recorded (``snapshot``).

Tables (schema version ``SCHEMA_VERSION``, in ``meta``):

- ``weeks``: one row per audited ISO week: its verdict, recommended phase, sessions and the run that
  recorded it;
- ``week_metrics``: one row per (week, metric): the numbers week-over-week alerts and trends compare
  (``trends.WEEKLY_METRICS``, and ``tool_success:<tool>`` per tool), and what the alerts' intervals need
  beside them (``alerts.stats_keys``: ``cost_per_task:n`` and ``:sd``, ``policy_violation_rate:count`` and
  ``:n``, ...). Those rows were added without a schema change: a week recorded before them still reads,
  and its changes are reported as not tested for noise;
- ``week_items``: one row per (week, checklist item): its status, value and display;
- ``runs``: the ledger, append-only: one row per recording run, with the input files' sha256, the
  config hash, the toolkit version, how long the run waited for the lock, and when it ran.

Numbers are kept to ``SIGNIFICANT_DIGITS`` significant digits (``stable``): DuckDB sums doubles in
parallel, so a re-run can differ in the last bits, and the history must not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from agentops_audit.db import scalar

SCHEMA_VERSION = "1"
SIGNIFICANT_DIGITS = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS weeks (
    week              VARCHAR PRIMARY KEY,   -- ISO week, 2026-W46
    week_start        TIMESTAMP NOT NULL,
    week_end          TIMESTAMP NOT NULL,
    verdict           VARCHAR NOT NULL,
    recommended_phase INTEGER,
    sessions          BIGINT,
    config_hash       VARCHAR,
    run_id            BIGINT NOT NULL        -- the ledger row that recorded this week last
);
CREATE TABLE IF NOT EXISTS week_metrics (
    week   VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    value  DOUBLE,
    PRIMARY KEY (week, metric)
);
CREATE TABLE IF NOT EXISTS week_items (
    week    VARCHAR NOT NULL,
    item_id VARCHAR NOT NULL,
    status  VARCHAR NOT NULL,
    value   DOUBLE,
    display VARCHAR,
    PRIMARY KEY (week, item_id)
);
CREATE SEQUENCE IF NOT EXISTS run_ids;
CREATE TABLE IF NOT EXISTS runs (          -- the ledger: rows are only ever appended
    run_id          BIGINT PRIMARY KEY DEFAULT nextval('run_ids'),
    week            VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,    -- when the run held the lock
    recorded_at     TIMESTAMP NOT NULL,
    waited_s        DOUBLE NOT NULL,       -- time spent waiting for the lock
    database        VARCHAR,
    inputs          JSON,                  -- [{path, sha256}] of the audit database's sources
    inputs_sha256   VARCHAR,               -- sha256 over the sorted input hashes
    config_hash     VARCHAR,
    toolkit_version VARCHAR,
    verdict         VARCHAR,
    alerts          INTEGER,
    host            VARCHAR,
    pid             INTEGER
);
"""


class HistoryError(RuntimeError):
    """The history file cannot be used (another schema version, not a history store)."""


def connect(history: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the history store; a writable open creates it. Call with the lock held."""
    history = Path(history)
    if history.is_dir():
        raise HistoryError(
            f"history {history} is a directory; give the history store's file, e.g. {history / 'history.duckdb'}"
        )
    if not read_only:
        history.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(history), read_only=read_only)
    except duckdb.IOException as exc:  # e.g. a file that is not a DuckDB database
        text = str(exc).splitlines()[0].removeprefix("IO Error: ")
        raise HistoryError(f"history {history} cannot be opened as a history store: {text}") from None
    _check(con, history)
    if read_only:
        return con
    con.execute(SCHEMA)
    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    return con


def _check(con: duckdb.DuckDBPyConnection, history: Path) -> None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if tables and "week_metrics" not in tables:
        raise HistoryError(f"{history} is not a weekly history store (it holds {', '.join(sorted(tables))})")
    if "meta" in tables:
        found = scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'")
        if found not in (None, SCHEMA_VERSION):
            raise HistoryError(f"{history} has history schema version {found}; this toolkit writes {SCHEMA_VERSION}")


@dataclass
class Snapshot:
    """What the history holds for the weeks before one audited week (read once, before the audit)."""

    metrics: dict[str, dict[str, float | None]] = field(default_factory=dict)  # week -> metric -> value
    statuses: dict[str, dict[str, str]] = field(default_factory=dict)  # week -> item id -> status

    def value(self, week: str, metric: str) -> float | None:
        return self.metrics.get(week, {}).get(metric)

    @property
    def weeks(self) -> list[str]:
        return sorted(set(self.metrics) | set(self.statuses))


def snapshot(history: str | Path | None, before: str) -> Snapshot:
    """The weeks recorded in ``history`` before ISO week ``before``; empty when the file does not exist."""
    if history is None or not Path(history).exists():
        return Snapshot()
    con = connect(history, read_only=True)
    try:
        snap = Snapshot()
        for week, metric, value in con.execute(
            "SELECT week, metric, value FROM week_metrics WHERE week < ? ORDER BY week, metric", [before]
        ).fetchall():
            snap.metrics.setdefault(week, {})[metric] = value
        for week, item, status in con.execute(
            "SELECT week, item_id, status FROM week_items WHERE week < ? ORDER BY week, item_id", [before]
        ).fetchall():
            snap.statuses.setdefault(week, {})[item] = status
        return snap
    finally:
        con.close()


def stable(value) -> float | None:
    """``value`` as a float to ``SIGNIFICANT_DIGITS`` significant digits (None when not a number)."""
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, int | float):
        return None
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
