"""Weekly audits over a generated multi-week history: alerts on exactly the injected drift, streaks across
a failing week, trends, the week window, and the multi-week demo. Ground truth comes from the
generator's tallies (``weeks.json`` and each week's ``truth.json``), never from a run's output."""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from agentops_audit import audit, catalog, cli, db, ingest, pipeline, trends
from agentops_audit.demo import weeks as synth_weeks
from agentops_audit.evals import gate
from agentops_audit.results import FAIL, NO_DATA, PASS
from agentops_audit.trends import windows
from agentops_audit.trends.windows import Week

SEED = 21
SESSIONS = 84  # 12 a day: enough for the daily P95 cost check
SCALES = [1.0, 1.45, 1.45, 1.0, 1.5]  # token jumps in weeks 2 and 5; week 4 drops
LAST = Week.parse("2026-W46")
UNTRACED = 10  # sessions the application registered in week 3 that were never traced
Z95 = 1.959963984540054  # the two-sided 95% normal quantile


def weekly(db_path, history, out_root, *options: str) -> int:
    """``agentops-audit weekly`` without the report: the database, the history store, the output root."""
    argv = ["weekly", "--db", str(db_path), "--history", str(history), "--out-root", str(out_root)]
    return cli.main([*argv, "--no-report", *options])


def _items(doc: dict) -> dict:
    return {i["id"]: i for s in doc["sections"] for i in s["items"]}


def _register_untraced(db_path: Path, week: Week, path: Path) -> int:
    """A session registry for ``week``: every traced session of it plus UNTRACED that never were."""
    con = db.connect(db_path, read_only=True)
    try:
        traced = con.execute(
            "SELECT session_key, min(start_time) FROM span_sessions GROUP BY 1 "
            "HAVING min(start_time) >= ? AND min(start_time) < ?",
            [week.start, week.end],
        ).fetchall()
    finally:
        con.close()
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["session_id", "started_at"])
        out.writerows((s, t.isoformat()) for s, t in traced)
        out.writerows((f"untraced-{k}", (week.start + timedelta(hours=5 + k)).isoformat()) for k in range(UNTRACED))
    return len(traced)


@pytest.fixture(scope="module")
def backfill(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("weekly")
    drift = synth_weeks.generate(
        root / "data" / "traces", LAST, weeks=len(SCALES), sessions=SESSIONS, seed=SEED, scales=SCALES
    )
    weeks = [Week.parse(w["week"]) for w in drift["weeks"]]
    db_path = root / "audit.duckdb"
    con = db.connect(db_path)
    try:
        ingest.ingest(con, [str(root / "data" / "traces")])
    finally:
        con.close()
    traced = _register_untraced(db_path, weeks[2], root / "registry.csv")
    con = db.connect(db_path)
    try:
        [summary] = ingest.ingest(con, [str(root / "registry.csv")], fmt="session-registry")
        assert summary.error is None
    finally:
        con.close()
    history = root / "history.duckdb"
    code = weekly(str(db_path), str(history), str(root / "reports"), "--from", str(weeks[0]), "--to", str(weeks[-1]))
    docs = {w.label: json.loads((root / "reports" / w.label / "audit.json").read_text()) for w in weeks}
    return {
        "root": root,
        "db": db_path,
        "history": history,
        "weeks": weeks,
        "drift": drift,
        "docs": docs,
        "code": code,
        "traced_in_week3": traced,
        "truth": {w.label: json.loads((root / "data" / "truth" / f"{w.label}.json").read_text()) for w in weeks},
    }


def _history_rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_exit_code_follows_the_last_weeks_verdict(backfill):
    last = backfill["docs"][backfill["weeks"][-1].label]
    assert backfill["code"] == cli.EXIT_CODES[last["verdict"]]


def _recorded(history: Path) -> dict:
    return {(w, m): v for w, m, v in _history_rows(history, "SELECT week, metric, value FROM week_metrics")}


def _welch_low_pct(before: tuple, after: tuple) -> float:
    """Reference for the rule: the lower bound of Welch's 95% interval for the difference of two means
    (mean, n, sd each), as a percent of the first mean."""
    (m1, n1, s1), (m2, n2, s2) = before, after
    return (m2 - m1 - Z95 * math.sqrt(s1**2 / n1 + s2**2 / n2)) / m1 * 100


def test_cost_and_token_alerts_follow_the_interval_rule(backfill):
    """An alert needs the rise past the level and the interval's lower bound above zero; the designed jumps
    pass the level, but at 84 sessions a week (one runaway task each week) the interval cannot tell them
    from noise, so nothing fires here (the 400-session demo's jump does: test_multi_week_demo...)."""
    drift, docs, weeks = backfill["drift"], backfill["docs"], backfill["weeks"]
    assert drift["drift_weeks"] == [str(weeks[1]), str(weeks[4])]  # the injected jumps
    recorded = _recorded(backfill["history"])
    cat = catalog.load()
    for metric, item_id in (("cost_per_task", "cost.weekly-alerts"), ("tokens_per_task", "cost.token-growth")):
        level = cat.item(item_id).threshold.value
        expected = []
        for a, b in pairwise(w.label for w in weeks):
            before, after = (
                (recorded[(w, metric)], recorded[(w, f"{metric}:n")], recorded[(w, f"{metric}:sd")]) for w in (a, b)
            )
            change = (after[0] - before[0]) / before[0] * 100
            low = _welch_low_pct(before, after)
            found = next(c for c in docs[b]["changes"] if c["metric"] == metric)
            assert found["change"] == pytest.approx(change) and found["ci_low"] == pytest.approx(low)
            if change > level and low > 0:
                expected.append(b)
        fired = [w for w, doc in docs.items() if any(a["metric"] == metric for a in doc["alerts"])]
        assert fired == expected, metric
        for week in drift["expected_alerts"][metric]:  # the designed jumps are past the level
            assert next(c for c in docs[week]["changes"] if c["metric"] == metric)["past_level"]
        for week, doc in docs.items():
            item = _items(doc)[item_id]
            status = NO_DATA if week == str(weeks[0]) else FAIL if week in fired else PASS
            assert item["status"] == status, (week, item_id, item["display"])
    for week, doc in docs.items():
        for a in doc["alerts"]:
            assert set(a) >= {"metric", "week", "previous", "current", "change", "threshold", "message"}
            assert a["week"] == week


def test_recorded_spread_is_the_sessions_spread(backfill):
    """The per-task spread the intervals use, recomputed here from the spans (tokens of each session)."""
    recorded = _recorded(backfill["history"])
    con = db.connect(backfill["db"], read_only=True)
    try:
        rows = con.execute(
            "SELECT session_key, min(start_time), sum(coalesce(input_tokens, 0) "
            "+ coalesce(output_tokens, 0)) FROM span_sessions GROUP BY session_key"
        ).fetchall()
    finally:
        con.close()
    for week in backfill["weeks"]:
        tokens = [float(t) for _, start, t in rows if week.start <= start < week.end]
        assert recorded[(week.label, "tokens_per_task:n")] == len(tokens) == SESSIONS
        assert recorded[(week.label, "tokens_per_task:sd")] == pytest.approx(statistics.stdev(tokens), rel=1e-9)
        assert recorded[(week.label, "tokens_per_task")] == pytest.approx(statistics.mean(tokens), rel=1e-9)
        truth = backfill["truth"][week.label]["policy_violations"]
        assert recorded[(week.label, "policy_violation_rate:count")] == truth["violating_actions"]
        assert recorded[(week.label, "policy_violation_rate:n")] == truth["attempted_actions"]


def test_weekly_numbers_equal_the_generated_truth(backfill):
    rows = _history_rows(backfill["history"], "SELECT week, metric, value FROM week_metrics")
    recorded = {(w, m): v for w, m, v in rows}
    for tally in backfill["drift"]["weeks"]:
        week = tally["week"]
        assert recorded[(week, "sessions")] == tally["sessions"] == SESSIONS
        assert recorded[(week, "cost_per_task")] == pytest.approx(tally["cost_per_task"], rel=1e-9)
        assert recorded[(week, "tokens_per_task")] == pytest.approx(tally["tokens_per_task"], rel=1e-9)
        assert recorded[(week, "policy_violation_rate")] == pytest.approx(tally["policy_violation_rate"], rel=1e-9)
        for tool, rate in tally["tool_success"].items():
            assert recorded[(week, f"tool_success:{tool}")] == pytest.approx(rate, rel=1e-9)


def test_policy_and_tool_alerts_follow_the_truth(backfill):
    """The other alert rules, checked against the generator's per-week truth: a policy alert needs the rise
    past the level and Newcombe's interval (from the true counts) above zero; a tool alert, a crossing."""
    cat = catalog.load()
    target = cat.item(trends.TOOLS_ITEM).threshold
    rise = trends.ALERT_DEFAULTS["policy_violation_rate_rise"]
    tallies = backfill["drift"]["weeks"]
    counts = {w: backfill["truth"][w]["policy_violations"] for w in backfill["truth"]}
    pairs = [
        (a["week"], b["week"])
        for a, b in pairwise(tallies)
        if b["policy_violation_rate"] - a["policy_violation_rate"] > rise
    ]
    past_level = [b for _, b in pairs]
    expected_policy = [
        b
        for a, b in pairs
        if gate.IndependentCounts(
            counts[a]["violating_actions"],
            counts[a]["attempted_actions"],
            counts[b]["violating_actions"],
            counts[b]["attempted_actions"],
        ).interval(Z95)[0]
        > 0
    ]
    expected_tools = sorted(
        (b["week"], t)
        for a, b in pairwise(tallies)
        for t in b["tool_success"]
        if t in a["tool_success"] and target.holds(a["tool_success"][t]) and not target.holds(b["tool_success"][t])
    )
    assert past_level and expected_tools  # this seed exercises both rules
    alerts = [a for doc in backfill["docs"].values() for a in doc["alerts"]]
    assert [a["week"] for a in alerts if a["metric"] == "policy_violation_rate"] == expected_policy
    assert (
        sorted((a["week"], a["metric"].split(":", 1)[1]) for a in alerts if a["metric"].startswith("tool_success:"))
        == expected_tools
    )
    for week in set(past_level) - set(expected_policy):  # past the level, within the noise: said, not alerted
        change = next(c for c in backfill["docs"][week]["changes"] if c["metric"] == "policy_violation_rate")
        assert change["past_level"] and change["significant"] is False and not change["alert"]
        assert "within week-to-week noise, no alert" in change["text"]


def _rewrite_week(history: Path, week: str, values: dict[str, float | None]) -> None:
    con = duckdb.connect(str(history))
    try:
        for metric, value in values.items():
            con.execute("DELETE FROM week_metrics WHERE week = ? AND metric = ?", [week, metric])
            if value is not None:
                con.execute("INSERT INTO week_metrics VALUES (?, ?, ?)", [week, metric, value])
    finally:
        con.close()


def test_a_clear_rise_alerts_and_an_old_history_still_reads(backfill, tmp_path):
    """Through the real audit: a week before with a far lower policy rate and cost (a twentieth), on many
    actions and tasks, makes both rises significant even against this week's own spread (84 tasks, one of
    them a runaway), so both alert; the same week without the counts and spreads (as an older
    toolkit recorded it) still reads, and the rises alert on the level alone, saying they were not tested."""
    weeks = backfill["weeks"]
    last, before = weeks[-1].label, weeks[-2].label
    now = backfill["docs"][last]["weekly_metrics"]
    history = tmp_path / "history.duckdb"
    shutil.copyfile(backfill["history"], history)
    _rewrite_week(
        history,
        before,
        {
            "policy_violation_rate": 0.0,
            "policy_violation_rate:count": 0.0,
            "policy_violation_rate:n": 5000.0,
            "cost_per_task": now["cost_per_task"] / 20,
            "cost_per_task:n": 5000.0,
            "cost_per_task:sd": now["cost_per_task"] / 50,
        },
    )
    doc = audit.run(backfill["db"], week=last, history=history)
    changes = {c["metric"]: c for c in doc["changes"]}
    for metric in ("policy_violation_rate", "cost_per_task"):
        assert changes[metric]["significant"] is True and changes[metric]["alert"], changes[metric]
        assert metric in {a["metric"] for a in doc["alerts"]}
    assert _items(doc)["cost.weekly-alerts"]["status"] == FAIL
    _rewrite_week(
        history,
        before,
        {
            k: None
            for k in ("policy_violation_rate:count", "policy_violation_rate:n", "cost_per_task:n", "cost_per_task:sd")
        },
    )
    old = audit.run(backfill["db"], week=last, history=history)
    changes = {c["metric"]: c for c in old["changes"]}
    for metric in ("policy_violation_rate", "cost_per_task"):
        assert changes[metric]["significant"] is None and "older toolkit" in changes[metric]["note"]
        alert = next(a for a in old["alerts"] if a["metric"] == metric)
        assert "not tested for noise" in alert["message"]
    assert _items(old)["cost.weekly-alerts"]["status"] == FAIL


def test_streak_counts_across_a_failing_week(backfill):
    weeks, docs = backfill["weeks"], backfill["docs"]
    for week in weeks:  # without the registry, coverage is estimated; the truth bounds it above the target
        truth = backfill["truth"][week.label]
        if week != weeks[2]:
            assert 1 - truth["orphan_spans"] / truth["sessions"] > 0.95
    week3 = _items(docs[weeks[2].label])["observe.trace-coverage"]
    assert week3["status"] == FAIL
    assert week3["value"] == pytest.approx(backfill["traced_in_week3"] / (backfill["traced_in_week3"] + UNTRACED))
    expected_coverage = [1, 2, 0, 1, 2]  # PASS, PASS, FAIL (week 3), PASS, PASS
    got = [{c["item"]: c["streak"] for c in docs[w.label]["streaks"]["criteria"]} for w in weeks]
    assert [g["observe.trace-coverage"] for g in got] == expected_coverage
    statuses = _history_rows(
        backfill["history"],
        "SELECT week, status FROM week_items WHERE item_id = 'observe.trace-coverage' ORDER BY week",
    )
    assert [s for _, s in statuses] == [PASS, PASS, FAIL, PASS, PASS]
    # the synthetic agent breaks policy above the 0.1% target every week, so no week reaches the bar of 4
    assert all(t["policy_violation_rate"] > 0.001 for t in backfill["drift"]["weeks"])
    for week, g in zip(weeks, got, strict=True):
        item = _items(docs[week.label])["rollout.consecutive-weeks"]
        assert item["evidence"]["streaks"] == g
        assert g["security.policy-violation-rate"] == 0
        assert item["value"] == min(g.values()) == 0
        assert item["status"] == FAIL and item["at_fault"] == [i for i, n in g.items() if n < 4]


def test_trends_hold_the_go_no_go_series(backfill):
    last = backfill["docs"][backfill["weeks"][-1].label]
    rows = last["trends"]
    assert {r["key"] for r in rows} >= {
        "trace_coverage",
        "tool_success_min",
        "policy_violation_rate",
        "cost_per_task_p95",
        "cost_per_task",
        "tokens_per_task",
    }
    recorded = {
        (w, m): v for w, m, v in _history_rows(backfill["history"], "SELECT week, metric, value FROM week_metrics")
    }
    for r in rows:
        assert set(r) >= {"metric", "week", "value"} and isinstance(r["value"], float)
        assert r["value"] == pytest.approx(recorded[(r["week"], r["key"])])
    weeks = sorted({r["week"] for r in rows})
    assert weeks == [w.label for w in backfill["weeks"]]  # every week so far (at most trends.TREND_WEEKS)


def test_ledger_records_inputs_and_config(backfill):
    runs = _history_rows(
        backfill["history"], "SELECT week, inputs, inputs_sha256, config_hash, verdict FROM runs ORDER BY run_id"
    )
    assert [r[0] for r in runs] == [w.label for w in backfill["weeks"]]
    for week, inputs, digest, config_hash, verdict in runs:
        doc = backfill["docs"][week]
        assert {i["sha256"] for i in json.loads(inputs)} == {i["sha256"] for i in doc["provenance"]["inputs"]}
        assert len(digest) == 64 and config_hash == doc["config_hash"] and verdict == doc["verdict"]


def test_the_week_window_shows_only_that_week(backfill):
    week = backfill["weeks"][1]
    truth = backfill["truth"][week.label]
    con = db.connect(backfill["db"], read_only=True)
    try:
        windows.restrict(con, week)
        assert db.scalar(con, "SELECT count(*) FROM sessions") == truth["sessions"]
        assert db.scalar(con, "SELECT count(*) FROM tool_calls") == truth["tool_calls"]
        assert db.scalar(con, "SELECT count(*) FROM spans") == truth["spans"]
        assert db.scalar(con, "SELECT count(*) FROM session_registry") == 0  # the registry covers week 3 only
        with pytest.raises(RuntimeError, match="already restricted"):
            windows.restrict(con, week)
    finally:
        con.close()


def test_a_plain_audit_has_no_weekly_history(backfill):
    doc = audit.run(backfill["db"])
    items = _items(doc)
    for item_id in ("cost.weekly-alerts", "cost.token-growth", "rollout.consecutive-weeks"):
        assert items[item_id]["status"] == NO_DATA
        assert "needs weekly history" in items[item_id]["reason"]
    assert "alerts" not in doc and "trends" not in doc


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-W60"], "has no ISO week 60"),
        (["--week", "46"], "expected an ISO week"),
        (["--week", "2026-W46", "--from", "2026-W40"], "exclude each other"),
        (["--from", "2026-W40"], "go together"),
        (["--from", "2026-W46", "--to", "2026-W40"], "is after"),
        (["--week", "2026-W01"], "no session in the audit database started in 2026-W01"),
    ],
)
def test_weekly_usage_errors_are_one_line(backfill, tmp_path, capsys, args, message):
    code = weekly(str(backfill["db"]), str(tmp_path / "h.duckdb"), str(tmp_path), *args)
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_a_file_that_is_not_a_history_is_refused(backfill, tmp_path, capsys):
    code = weekly(str(backfill["db"]), str(backfill["db"]), str(tmp_path), "--week", str(backfill["weeks"][0]))
    assert code == cli.EXIT_USAGE
    assert "is not a weekly history store" in capsys.readouterr().err


def test_weekly_says_which_weeks_have_data_and_why_no_alert_yet(backfill, tmp_path, capsys):
    code = weekly(str(backfill["db"]), str(tmp_path / "h.duckdb"), str(tmp_path), "--week", "2026-W01")
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and err.count("\n") == 1
    assert "weeks with sessions: " + ", ".join(f"{w} ({SESSIONS})" for w in backfill["weeks"]) in err
    first = str(backfill["weeks"][0])
    assert (
        weekly(str(backfill["db"]), str(tmp_path / "h.duckdb"), str(tmp_path), "--week", first)
        in cli.EXIT_CODES.values()
    )
    out = capsys.readouterr().out
    assert "no week-over-week alerts yet: the history is new" in out


@pytest.mark.parametrize("bad", ["db-not-duckdb", "history-directory", "history-not-duckdb"])
def test_file_errors_are_one_line_exit_2(backfill, tmp_path, capsys, bad):
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    (tmp_path / "folder").mkdir()
    database = str(text) if bad == "db-not-duckdb" else str(backfill["db"])
    history = {"history-directory": str(tmp_path / "folder"), "history-not-duckdb": str(text)}.get(
        bad, str(tmp_path / "h.duckdb")
    )
    code = weekly(database, history, str(tmp_path), "--week", str(backfill["weeks"][0]))
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("agentops-audit: error: ")
    assert {
        "db-not-duckdb": "not a valid DuckDB database file",
        "history-directory": "is a directory",
        "history-not-duckdb": "cannot be opened as a history store",
    }[bad] in err


def test_the_audit_notebook_records_a_week_for_an_orchestrator(backfill, tmp_path):
    """papermill on notebooks/audit.ipynb with record_history (the Airflow / plain papermill path)."""
    hist = tmp_path / "history.duckdb"
    shutil.copyfile(backfill["history"], hist)
    week = str(backfill["weeks"][-1])
    before = _history_rows(hist, "SELECT * FROM week_metrics ORDER BY metric")
    out = tmp_path / "out"
    pipeline.run_notebook(
        "audit.ipynb",
        out,
        {"db": str(backfill["db"]), "out_dir": str(out), "week": week, "history": str(hist), "record_history": True},
    )
    doc = json.loads((out / "audit.json").read_text())
    assert doc["week"]["label"] == week and doc["alerts"] == backfill["docs"][week]["alerts"]
    runs = _history_rows(hist, "SELECT week FROM runs ORDER BY run_id")
    assert [w for (w,) in runs] == [str(w) for w in backfill["weeks"]] + [week]  # one more ledger entry
    assert _history_rows(hist, "SELECT * FROM week_metrics ORDER BY metric") == before
