"""The explorer and its verdict: the window the verdict covers, finding audit.json where `audit` or
`weekly` wrote it, a command that works without one, the evidence marked on the example trace, the
latency histogram's clipping, a light import and tables that show names in full."""

from __future__ import annotations

import html as htmllib
import json
import re
import shlex
import shutil
import subprocess
import sys

import polars as pl
import pytest

from agentops_audit import cli
from agentops_audit.explore import Explorer, charts


@pytest.fixture(scope="module")
def ex(demo) -> Explorer:
    return Explorer(demo["db"])


def _dataset(spec: dict) -> list[dict]:
    return next(iter(spec["datasets"].values()))


def _walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _items_of(doc: dict) -> dict:
    return {it["id"]: it for s in doc["sections"] for it in s["items"]}


def test_explorer_shows_the_week_the_verdict_covers(weekly_demo):
    """The weekly demo's verdict covers 2026-W46; the explorer's sessions and evidence are that week's, so
    they agree with the verdict's counts, and window='all' widens them to every week."""
    doc = weekly_demo["audit"]
    week = doc["week"]["label"]
    ex = Explorer(weekly_demo["db"])
    assert ex.window.week == week
    verdict = ex.verdict()
    assert verdict.verdict == doc["verdict"] and week in verdict.window and week in repr(verdict)
    items = _items_of(doc)
    pii_rows = ex.evidence("observe.pii-redaction")
    assert pii_rows.total_rows == items["observe.pii-redaction"]["evidence"]["findings"]
    failed = ex.evidence("workflow.tool-success-per-tool")
    expected_failed = sum(r["logical_failed"] for r in doc["metrics"]["tool_success"].values())
    assert failed.total_rows == expected_failed and week in failed.window
    sessions = ex.sessions()
    assert sessions.height == doc["metrics"]["sessions"] and set(sessions["week"]) == {week}
    assert ex.example_session() in set(sessions["session_id"])
    wide = Explorer(weekly_demo["db"], window="all")
    every = sum(w["sessions"] for w in weekly_demo["weeks"]["weeks"])
    assert wide.window.week is None and wide.sessions().height == every
    assert wide.evidence("observe.pii-redaction").total_rows > pii_rows.total_rows
    other = Explorer(weekly_demo["db"], window="2026-W45")
    assert set(other.sessions()["week"]) == {"2026-W45"}
    with pytest.raises(ValueError, match="ISO week"):
        Explorer(weekly_demo["db"], window="last week")


def test_explorer_finds_the_verdict_weekly_wrote(weekly_demo, tmp_path):
    """`weekly --out-root reports` writes reports/<week>/audit.json: the explorer finds the latest week of this
    database there, or takes audit_json= (a file or that folder)."""
    db_path = tmp_path / "audit.duckdb"
    shutil.copy(weekly_demo["db"], db_path)
    assert Explorer(db_path).verdict().verdict is None
    assert (
        cli.main(
            [
                "weekly",
                "--db",
                str(db_path),
                "--history",
                str(tmp_path / "history.duckdb"),
                "--from",
                "2026-W45",
                "--to",
                "2026-W46",
                "--out-root",
                str(tmp_path / "reports"),
                "--no-report",
            ]
        )
        in cli.EXIT_CODES.values()
    )
    ex = Explorer(db_path)
    assert ex.audit_json == tmp_path / "reports" / "2026-W46" / "audit.json" and ex.window.week == "2026-W46"
    assert ex.verdict().verdict == json.loads(ex.audit_json.read_text())["verdict"]
    given = Explorer(db_path, audit_json=tmp_path / "reports")
    assert given.audit_json == ex.audit_json
    older = Explorer(db_path, audit_json=tmp_path / "reports" / "2026-W45" / "audit.json")
    assert older.window.week == "2026-W45"
    with pytest.raises(FileNotFoundError, match="no audit.json"):
        Explorer(db_path, audit_json=tmp_path / "nowhere")


def test_the_command_without_a_verdict_works(demo, tmp_path):
    bare = tmp_path / "wk" / "audit.duckdb"
    bare.parent.mkdir()
    shutil.copy(demo["db"], bare)
    message = Explorer(bare).verdict().message
    command = re.search(r"`(agentops-audit audit [^`]+)`", message).group(1)
    assert cli.main(shlex.split(command)[1:]) in cli.EXIT_CODES.values()  # it runs as written
    assert Explorer(bare).verdict().verdict == demo["audit"]["verdict"]


def test_the_pii_example_trace_marks_where_the_leak_is(ex, demo):
    evidence = ex.evidence("observe.pii-redaction")
    session = ex.example_session(evidence)
    spans = ex.trace(session_id=session, evidence=evidence)
    leaks = evidence.rows.filter(pl.col("session_id") == session)
    marked = spans.filter(pl.col("evidence"))
    assert (
        set(zip(marked["trace_id"], marked["span_id"], strict=True))
        == set(zip(leaks["trace_id"], leaks["span_id"], strict=True))
        != set()
    )
    for note in marked["evidence_note"]:
        assert " in tool result" in note or " in " in note
    words = {"email": "e-mail address", "phone": "phone number"}
    assert any(words.get(e, e) in n for e in leaks["entity"] for n in marked["evidence_note"])
    rows = _dataset(charts.waterfall(spans).to_dict())
    assert {r["span_id"] for r in rows if r["state"] == "evidence"} == set(marked["span_id"])
    assert "evidence on span" in json.dumps(charts.waterfall(spans).to_dict())
    for value in demo["truth"]["pii_values"]:
        assert value not in json.dumps(rows)
    plain = ex.trace(session_id=session)
    assert not plain["evidence"].any()


def test_latency_histogram_ends_at_the_99th_percentile(ex):
    sessions = ex.sessions()
    spec = charts.latency_sessions(sessions).to_dict()
    rows = _dataset(spec)
    seconds = sessions["duration_ms"] / 1000
    cap = seconds.quantile(charts.LATENCY_CLIP, interpolation="higher")
    assert max(r["shown_s"] for r in rows) == pytest.approx(cap)
    assert max(r["duration_s"] for r in rows) == pytest.approx(seconds.max())  # the table keeps the real value
    slower = int((seconds > cap).sum())
    assert slower and f"the last bar also holds {slower} slower session" in json.dumps(spec)
    hist = next(
        n
        for n in _walk(spec)
        if n.get("mark") == "bar" or (isinstance(n.get("mark"), dict) and n["mark"].get("type") == "bar")
    )
    assert hist["encoding"]["x"]["field"] == "shown_s"


def test_importing_the_explorer_leaves_great_expectations_alone():
    code = (
        "import sys; from agentops_audit.explore import Explorer; "
        "print('great_expectations' in sys.modules, 'altair' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_verdict_and_evidence_show_names_in_full(ex, demo):
    """Item names and display lines are not cut short (polars cuts strings at 32 characters by default)."""
    html_view = ex.verdict()._repr_html_()
    for b in demo["audit"]["blockers"]:
        assert b["item"] in html_view and htmllib.escape(b["title"], quote=False) in html_view
    text = repr(ex.verdict())
    for b in demo["audit"]["blockers"]:
        assert b["item"] in text  # ids fit their column (long titles wrap inside their cell)
    assert text.count("┆ …") == 0  # no column left out
