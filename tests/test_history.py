"""The weekly history store: ISO weeks, streak counting, idempotent re-runs, one transaction per week,
and the lock that keeps two real processes from writing the same history at once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from agentops_audit import cli, db, ingest, trends
from agentops_audit import config as audit_config
from agentops_audit.demo import weeks as synth_weeks
from agentops_audit.errors import InputError
from agentops_audit.results import FAIL, NO_DATA, NOT_APPLICABLE, PASS
from agentops_audit.trends import store
from agentops_audit.trends.windows import Week, week_range
from agentops_audit.weekly import history

WEEKS = ["2026-W45", "2026-W46"]
TABLES = {
    "weeks": "SELECT * EXCLUDE (run_id) FROM weeks ORDER BY week",
    "week_metrics": "SELECT * FROM week_metrics ORDER BY week, metric",
    "week_items": "SELECT * FROM week_items ORDER BY week, item_id",
}
HOLD = """import sys
from agentops_audit.weekly import history
with history.locked(sys.argv[1], note="test holder"):
    print("held", flush=True)
    sys.stdin.read()
"""


# ---------------------------------------------------------------- ISO weeks and streaks (pure)


def test_iso_weeks():
    w = Week.parse("2026-W46")
    assert (w.start.isoformat(), w.end.isoformat()) == ("2026-11-09T00:00:00", "2026-11-16T00:00:00")
    assert str(Week.parse("2026-W01").previous()) == "2025-W52"
    assert str(Week.parse("2026-W53").next()) == "2027-W01"
    assert Week.last_complete(date(2026, 11, 18)) == w == Week.last_complete(date(2026, 11, 23)).previous()
    assert [str(x) for x in week_range(Week.parse("2026-W52"), Week.parse("2027-W02"))] == [
        "2026-W52",
        "2026-W53",
        "2027-W01",
        "2027-W02",
    ]
    for bad in ("2026-46", "2026-W", "W46", "2025-W53"):
        with pytest.raises(ValueError):
            Week.parse(bad)
    assert str(Week.parse("2026-W1")) == "2026-W01"  # the one parser: the explorer always took one digit


def test_streak_ends_at_a_failing_or_missing_week():
    item = "observe.trace-coverage"
    statuses = {
        "2026-W40": {item: PASS},
        "2026-W41": {item: FAIL},
        "2026-W42": {item: PASS},
        "2026-W43": {item: NOT_APPLICABLE},
        "2026-W44": {item: PASS},
        "2026-W46": {item: PASS},
        "2026-W47": {item: NO_DATA},
    }
    assert trends.streak(Week.parse("2026-W44"), statuses, item) == 3  # W42-W44 (N/A is on target)
    assert trends.streak(Week.parse("2026-W41"), statuses, item) == 0
    assert trends.streak(Week.parse("2026-W46"), statuses, item) == 1  # W45 is missing: the streak ends
    assert trends.streak(Week.parse("2026-W47"), statuses, item) == 0  # no data is not on target


def test_scope_streaks_count_the_audited_week():
    snap = store.Snapshot(
        statuses={w: {i: PASS for i in trends.CRITERIA} for w in ("2026-W43", "2026-W44", "2026-W45")}
    )
    snap.statuses["2026-W44"]["cost.p95-predictable"] = FAIL
    scope = trends.Scope(Week.parse("2026-W46"), snap, "h.duckdb")
    streaks = scope.streaks({i: PASS for i in trends.CRITERIA})
    assert streaks == {**{i: 4 for i in trends.CRITERIA}, "cost.p95-predictable": 2}


def test_weekly_alert_config_is_validated(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text("weekly_alerts: {trace_coverage_drop: 0.05}\n")
    assert trends.validate_alerts(audit_config.load(good)["weekly_alerts"])["trace_coverage_drop"] == 0.05
    for text, message in (
        ("weekly_alerts: {coverage: 0.1}\n", "weekly_alerts.coverage is not a known key"),
        ("weekly_alerts: {trace_coverage_drop: 5}\n", "between 0 and 1"),
    ):
        bad = tmp_path / "bad.yml"
        bad.write_text(text)
        with pytest.raises(InputError, match=message):
            audit_config.load(bad)


# ---------------------------------------------------------------- the store, for real


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> dict:
    """Two generated weeks, ingested and recorded into a history by `agentops-audit weekly`."""
    root = tmp_path_factory.mktemp("history")
    synth_weeks.generate(root / "data" / "traces", WEEKS[-1], weeks=len(WEEKS), sessions=60, seed=3)
    db_path = root / "audit.duckdb"
    con = db.connect(db_path)
    try:
        ingest.ingest(con, [str(root / "data" / "traces")])
    finally:
        con.close()
    return {"root": root, "db": db_path}


def _weekly(audited: dict, hist: Path, *args: str) -> int:
    return cli.main(
        [
            "weekly",
            "--db",
            str(audited["db"]),
            "--history",
            str(hist),
            "--out-root",
            str(audited["root"] / "reports"),
            "--no-report",
            *args,
        ]
    )


def _dump(hist: Path) -> dict:
    con = duckdb.connect(str(hist), read_only=True)
    try:
        out = {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}
        out["runs"] = con.execute(
            "SELECT run_id, week, started_at, recorded_at, waited_s FROM runs ORDER BY run_id"
        ).fetchall()
        out["run_of_week"] = dict(con.execute("SELECT week, run_id FROM weeks").fetchall())
        return out
    finally:
        con.close()


def _verdict_code(audited: dict, week: str) -> int:
    doc = json.loads((audited["root"] / "reports" / week / "audit.json").read_text())
    return cli.EXIT_CODES[doc["verdict"]]


def test_rerunning_a_week_is_idempotent(audited, tmp_path):
    hist = tmp_path / "history.duckdb"
    assert _weekly(audited, hist, "--from", WEEKS[0], "--to", WEEKS[-1]) == _verdict_code(audited, WEEKS[-1])
    before = _dump(hist)
    assert [r[1] for r in before["runs"]] == WEEKS
    assert len(before["week_items"]) == 2 * len({r[1] for r in before["week_items"]})  # every item, once a week
    assert _weekly(audited, hist, "--week", WEEKS[-1]) == _verdict_code(audited, WEEKS[-1])
    after = _dump(hist)
    for table in TABLES:
        assert after[table] == before[table], table
    assert after["runs"][:2] == before["runs"] and len(after["runs"]) == 3  # the ledger gained one entry
    assert after["runs"][2][1] == WEEKS[-1]
    assert after["run_of_week"] == {WEEKS[0]: before["runs"][0][0], WEEKS[-1]: after["runs"][2][0]}


def test_a_failed_recording_changes_nothing(audited, tmp_path):
    hist = tmp_path / "history.duckdb"
    _weekly(audited, hist, "--week", WEEKS[0])
    before = _dump(hist)
    doc = json.loads((audited["root"] / "reports" / WEEKS[0] / "audit.json").read_text())
    doc["sections"][-1]["items"][-1]["status"] = None  # violates NOT NULL half-way through the transaction
    with history.locked(hist, timeout=5) as lock, pytest.raises(duckdb.ConstraintException):
        history.record(hist, doc, lock)
    assert _dump(hist) == before


class _Run:
    """A real `agentops-audit weekly` process; its stderr is read by a thread as it arrives."""

    def __init__(self, audited: dict, hist: Path, week: str, timeout: float):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentops_audit.cli",
                "weekly",
                "--db",
                str(audited["db"]),
                "--history",
                str(hist),
                "--week",
                week,
                "--out-root",
                str(audited["root"] / "reports"),
                "--no-report",
                "--lock-timeout",
                str(timeout),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err: list[str] = []
        self.reader = threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True)
        self.reader.start()

    def waiting(self) -> bool:
        return any("waiting up to" in line for line in self.err)

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        out = self.proc.stdout.read()
        code = self.proc.wait(timeout)
        self.reader.join(10)
        return code, out, "".join(self.err)


def test_concurrent_runs_wait_or_fail_clearly_and_never_corrupt_the_store(audited, tmp_path):
    hist = tmp_path / "history.duckdb"
    _weekly(audited, hist, "--week", WEEKS[0])
    before = _dump(hist)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(hist)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        # a run that may wait one second gives up with one clear line, exit 75, and writes nothing
        code, _, err = _Run(audited, hist, WEEKS[-1], timeout=1).finish()
        assert code == cli.EXIT_BUSY
        assert "is in use by another run" in err and "test holder" in err and f"pid {holder.pid}" in err
        assert "Traceback" not in err
        assert _dump(hist) == before
        # two runs that may wait: both wait while the lock is held...
        runs = [_Run(audited, hist, WEEKS[-1], timeout=240) for _ in range(2)]
        deadline = time.monotonic() + 120
        while not all(r.waiting() for r in runs):
            assert time.monotonic() < deadline, [r.err for r in runs]
            assert all(r.proc.poll() is None for r in runs), [r.err for r in runs]
            time.sleep(0.2)
    finally:
        holder.stdin.close()  # ...and run one after the other once it is released
        holder.wait(30)
    results = [r.finish() for r in runs]
    assert [code for code, _, _ in results] == [_verdict_code(audited, WEEKS[-1])] * 2, results
    after = _dump(hist)
    assert after["runs"][:1] == before["runs"] and len(after["runs"]) == 3
    (_, _, start_a, end_a, waited_a), (_, _, start_b, end_b, waited_b) = after["runs"][1:]
    assert waited_a > 0 and waited_b > 0
    assert end_a <= start_b or end_b <= start_a  # never at the same time
    con = duckdb.connect(str(hist), read_only=True)
    try:  # the store is whole: each week once, each (week, metric) and (week, item) once
        assert con.execute("SELECT week FROM weeks ORDER BY week").fetchall() == [(w,) for w in WEEKS]
        assert con.execute("SELECT count(*) - count(DISTINCT (week, metric)) FROM week_metrics").fetchone() == (0,)
        assert con.execute("SELECT count(*) - count(DISTINCT (week, item_id)) FROM week_items").fetchone() == (0,)
        assert (
            con.execute("SELECT count(DISTINCT item_id) FROM week_items WHERE week = ?", [WEEKS[-1]]).fetchone()
            == con.execute("SELECT count(DISTINCT item_id) FROM week_items WHERE week = ?", [WEEKS[0]]).fetchone()
        )
    finally:
        con.close()


def test_one_week_parser_for_weekly_and_the_explorer():
    from agentops_audit.explore.scope import week_range as explorer_week

    assert Week.parse("2026-W6") == Week.parse("2026-W06") and str(Week.parse("2026-W6")) == "2026-W06"
    assert explorer_week("2026-W6") == (Week.parse("2026-W06").start, Week.parse("2026-W06").end)
    for bad in ("2026-46", "2026-W60", "W6"):
        with pytest.raises(ValueError):
            Week.parse(bad)
        with pytest.raises(ValueError):
            explorer_week(bad)
