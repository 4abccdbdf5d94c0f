"""The weekly history store: one DuckDB file that weekly audits append to.

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

Re-recording a week replaces that week's rows of the first three tables and adds one ledger row, in
one transaction: a week is never duplicated and never half-written. Numbers are kept to
``SIGNIFICANT_DIGITS`` significant digits (``stable``): DuckDB sums doubles in parallel, so a re-run can
differ in the last bits, and the history must not.

DuckDB lets one process at a time open a file for writing, so every writer holds ``locked(path)``, an
exclusive ``fcntl.flock`` on ``<history>.lock`` (left in place: deleting a lock file races), taken
with a bounded wait; the weekly command holds it for the whole run, reads included, so the weeks of
two concurrent runs can neither interleave nor compare against a half-recorded week.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from agentops_audit.db import scalar

SCHEMA_VERSION = "1"
LOCK_POLL_S = 0.2
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


class HistoryBusy(RuntimeError):
    """Another run holds the history's lock past the allowed wait."""


class HistoryError(RuntimeError):
    """The history file cannot be used (another schema version, not a history store)."""


@dataclass
class Lock:
    """A held history lock: when it was taken and how long the run waited for it."""

    path: Path
    acquired_at: datetime
    waited_s: float
    _fd: int = field(repr=False, default=-1)


def lock_path(history: str | Path) -> Path:
    return Path(str(history) + ".lock")


@contextmanager
def locked(history: str | Path, timeout: float = 60.0, note: str = "",
           echo: Callable[[str], None] | None = None) -> Iterator[Lock]:
    """Hold the exclusive lock of ``history`` (waiting at most ``timeout`` seconds, then HistoryBusy).

    ``note`` (e.g. the weeks being audited) is written into the lock file with the pid, so a run that
    has to wait, or gives up, can say who holds the lock; ``echo`` is told once when the wait starts.
    """
    path = lock_path(history)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    began = time.monotonic()
    told = held = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(path)
                if time.monotonic() - began >= timeout:
                    raise HistoryBusy(f"history {history} is in use by another run ({holder}); gave up after "
                                      f"{timeout:g} s (raise --lock-timeout to wait longer)") from None
                if echo and not told:
                    echo(f"waiting up to {timeout:g} s for the history lock held by {holder}")
                    told = True
                time.sleep(LOCK_POLL_S)
        held = True
        acquired = datetime.now(UTC).replace(tzinfo=None)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {acquired:%Y-%m-%d %H:%M:%S} UTC"
                      f"{' (' + note + ')' if note else ''}\n".encode(), 0)
        yield Lock(path, acquired, round(time.monotonic() - began, 3), fd)
    finally:
        if held:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)  # closing also releases the lock if the process dies: it never outlives its holder


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        text = ""
    return text or "holder unknown"


def connect(history: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the history store; a writable open creates it. Call with the lock held."""
    history = Path(history)
    if history.is_dir():
        raise HistoryError(f"history {history} is a directory; give the history store's file, e.g. "
                           f"{history / 'history.duckdb'}")
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
            raise HistoryError(f"{history} has history schema version {found}; this toolkit writes "
                               f"{SCHEMA_VERSION}")


@dataclass
class Snapshot:
    """What the history holds for the weeks before one audited week (read once, before the audit)."""

    metrics: dict[str, dict[str, float | None]] = field(default_factory=dict)   # week -> metric -> value
    statuses: dict[str, dict[str, str]] = field(default_factory=dict)           # week -> item id -> status

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


def inputs_of(doc: dict) -> list[dict]:
    """The input files of an audit document (path and sha256), the ledger's record of what was read."""
    return [{"path": i.get("path"), "sha256": i.get("sha256")} for i in doc.get("provenance", {}).get("inputs", [])]


def record(history: str | Path, doc: dict, lock: Lock) -> int:
    """Record the weekly audit ``doc`` (an audit document with a ``week``) into ``history`` in one
    transaction: its week's rows replace any earlier ones, and one ledger row is appended. Returns the
    ledger's run id. ``lock`` proves the caller holds the history lock."""
    if lock.path != lock_path(history):
        raise ValueError(f"record() needs the lock of {history}, not {lock.path}")
    week = doc["week"]
    inputs = inputs_of(doc)
    digest = hashlib.sha256("\n".join(sorted(str(i["sha256"]) for i in inputs)).encode()).hexdigest()
    items = [(week["label"], it["id"], it["status"], stable(it.get("value")), it.get("display") or it.get("reason"))
             for s in doc["sections"] for it in s["items"]]
    metrics = [(week["label"], k, stable(v)) for k, v in sorted(doc["weekly_metrics"].items())]
    con = connect(history)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            run_id = scalar(con, """
                INSERT INTO runs (week, started_at, recorded_at, waited_s, database, inputs, inputs_sha256,
                                  config_hash, toolkit_version, verdict, alerts, host, pid)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING run_id""",
                [week["label"], lock.acquired_at, datetime.now(UTC).replace(tzinfo=None), lock.waited_s,
                 doc.get("database"), json.dumps(inputs), digest, doc.get("config_hash"), doc.get("toolkit_version"),
                 doc["verdict"], len(doc.get("alerts") or []), socket.gethostname(), os.getpid()])
            for table in ("weeks", "week_metrics", "week_items"):
                con.execute(f"DELETE FROM {table} WHERE week = ?", [week["label"]])
            con.execute("INSERT INTO weeks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [week["label"], week["start"], week["end"], doc["verdict"], doc.get("recommended_phase"),
                         doc["weekly_metrics"].get("sessions"), doc.get("config_hash"), run_id])
            if metrics:
                con.executemany("INSERT INTO week_metrics VALUES (?, ?, ?)", metrics)
            if items:
                con.executemany("INSERT INTO week_items VALUES (?, ?, ?, ?, ?)", items)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return run_id
    finally:
        con.close()


def stable(value) -> float | None:
    """``value`` as a float to ``SIGNIFICANT_DIGITS`` significant digits (None when not a number)."""
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, int | float):
        return None
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
