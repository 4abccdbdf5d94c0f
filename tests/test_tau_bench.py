"""The real tau-bench airline result file loads through the transcript adapter with mappings/tau-bench.yml.

Expected numbers are computed here from the raw JSON, independently of the adapter; the file lives in the
shared data folder next to the repository and the test skips when it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentops_audit import cli, db
from agentops_audit.db import scalar

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tau-bench-airline" / "gpt-4o-airline.json"
MAPPING = REPO / "mappings" / "tau-bench.yml"


@pytest.fixture(scope="module")
def raw() -> list[dict]:
    if not DATA.exists():
        pytest.skip(f"tau-bench data not available at {DATA}")
    return json.loads(DATA.read_text())


@pytest.fixture(scope="module")
def database(raw, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tau") / "tau.duckdb"
    assert cli.main(["ingest", str(DATA), "--mapping", str(MAPPING), "--db", str(path)]) == 0
    return path


@pytest.fixture()
def loaded(database):
    con = db.connect(database, read_only=True)
    yield con
    con.close()


def test_every_conversation_is_a_session(raw, loaded):
    assert len(raw) == 200
    assert scalar(loaded, "SELECT format FROM sources") == "transcript"
    assert scalar(loaded, "SELECT count(*) FROM sessions") == len(raw)
    assert scalar(loaded, "SELECT count(*) FROM spans WHERE parent_span_id IS NULL AND span_type = 'agent'") == 200
    assert scalar(loaded, "SELECT count(*) FROM quarantine") == 0
    assert scalar(loaded, "SELECT bool_and(rows_read = rows_loaded + rows_duplicate + rows_quarantined) FROM sources")
    assistant = sum(1 for r in raw for m in r["traj"] if m["role"] == "assistant")
    assert scalar(loaded, "SELECT count(*) FROM llm_calls") == assistant


def test_outcomes_follow_the_reward(raw, loaded):
    expected = sum(1 for r in raw if r["reward"] >= 1)
    assert expected == 84
    assert scalar(loaded, "SELECT count(*) FROM sessions WHERE outcome = 'success'") == expected
    assert scalar(loaded, "SELECT count(*) FROM sessions WHERE outcome = 'failure'") == len(raw) - expected
    by_session = dict(loaded.execute("SELECT session_id, outcome FROM sessions").fetchall())
    for record in raw:
        key = f"airline:{record['task_id']}:{record['trial']}"
        assert by_session[key] == ("success" if record["reward"] >= 1 else "failure")


def _expected_calls(raw: list[dict]) -> dict[str, list[tuple]]:
    """Per session, (tool, arguments, result) of every call, each result taken by the first earlier call
    with its id that has none yet (tau-bench reuses call ids, even within a conversation)."""
    out = {}
    for record in raw:
        joined, pending = [], {}
        for message in record["traj"]:
            for call in message.get("tool_calls") or ():
                entry = [call["function"]["name"], call["function"]["arguments"], None]
                joined.append(entry)
                pending.setdefault(call["id"], []).append(entry)
            if message["role"] == "tool":
                pending[message["tool_call_id"]].pop(0)[2] = message["content"]
        out[f"airline:{record['task_id']}:{record['trial']}"] = sorted(tuple(e) for e in joined)
    return out


def test_every_tool_call_is_joined_to_its_result(raw, loaded):
    expected = _expected_calls(raw)
    assert sum(len(calls) for calls in expected.values()) == 1164
    assert all(result is not None for calls in expected.values() for _, _, result in calls)
    rows = loaded.execute("SELECT session_id, tool_name, tool_args, tool_result FROM tool_calls").fetchall()
    found = {}
    for session, name, args, result in rows:
        found.setdefault(session, []).append((name, args, result))
    assert {k: sorted(v) for k, v in found.items()} == {k: v for k, v in expected.items() if v}
    assert (
        scalar(
            loaded,
            "SELECT count(*) FROM tool_calls WHERE tool_result IS NULL OR "
            "attributes->>'$.\"agentops.tool.result_missing\"' IS NOT NULL",
        )
        == 0
    )


def test_error_results_count_as_failed_calls(raw, loaded):
    expected = sum(1 for r in raw for m in r["traj"] if m["role"] == "tool" and m["content"].startswith("Error"))
    assert expected > 0
    failed = scalar(loaded, "SELECT count(*) FROM tool_calls WHERE failed_status OR failed_payload")
    assert failed == expected
    assert scalar(loaded, "SELECT count(*) FROM tool_calls WHERE failed_status") == 0  # the payload says so


def test_synthetic_clock_is_flagged(loaded):
    assert scalar(loaded, "SELECT bool_and(attributes->>'$.\"agentops.synthetic_time\"' = 'true') FROM spans")


def test_reingest_changes_nothing(database, capsys):
    with db.connect(database, read_only=True) as con:
        before = scalar(con, "SELECT count(*) FROM spans"), scalar(con, "SELECT count(*) FROM sources")
    assert cli.main(["ingest", str(DATA), "--mapping", str(MAPPING), "--db", str(database)]) == 0
    assert "already ingested" in capsys.readouterr().out
    with db.connect(database, read_only=True) as con:
        assert (scalar(con, "SELECT count(*) FROM spans"), scalar(con, "SELECT count(*) FROM sources")) == before
