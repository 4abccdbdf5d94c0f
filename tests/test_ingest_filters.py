"""Ingest filters (--since, --until, --workflow), the rows_filtered ledger column, idempotence keyed on the
file and its filters, and the progress bar (only on a terminal)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from datetime import datetime
from pathlib import Path

import pytest

from agentops_audit import cli, db, ingest
from agentops_audit.db import scalar
from agentops_audit.demo import synth
from agentops_audit.errors import InputError
from agentops_audit.ingest.filters import Filters, parse_time

SINCE, UNTIL = "2026-11-11", "2026-11-13T12:00:00"


def _ledger_holds(con) -> bool:
    return scalar(
        con, "SELECT bool_and(rows_read = rows_loaded + rows_duplicate + rows_quarantined + rows_filtered) FROM sources"
    )


def _counts(con) -> tuple:
    return tuple(scalar(con, f"SELECT count(*) FROM {t}") for t in ("spans", "sources", "quarantine"))


@pytest.fixture()
def full(traces, tmp_path):
    """The export loaded without filters: the reference the filtered loads are checked against."""
    path, truth = traces
    con = db.connect(tmp_path / "full.duckdb")
    ingest.ingest(con, [str(path)])
    return con, path, truth


def test_time_window_keeps_whole_sessions_that_started_in_it(full, tmp_path):
    ref, path, truth = full
    since, until = parse_time(SINCE), parse_time(UNTIL)
    expected = scalar(ref, "SELECT sum(spans) FROM sessions WHERE started_at >= ? AND started_at < ?", [since, until])
    assert 0 < expected < truth["spans"]
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(path)], filters=Filters.of(SINCE, UNTIL))[0]
    assert summary.rows_loaded == expected == scalar(con, "SELECT count(*) FROM spans")
    assert summary.rows_filtered == truth["spans"] - expected
    assert f"filtered {summary.rows_filtered}" in summary.line()
    assert scalar(con, "SELECT count(*) FROM sessions WHERE started_at < ? OR started_at >= ?", [since, until]) == 0
    assert scalar(con, "SELECT rows_filtered FROM sources") == summary.rows_filtered
    assert json.loads(scalar(con, "SELECT filters FROM sources")) == {
        "since": "2026-11-11T00:00:00",
        "until": "2026-11-13T12:00:00",
    }
    assert _ledger_holds(con)


def test_workflow_filter_matches_the_generated_sessions(full, tmp_path):
    ref, path, truth = full
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(path)], filters=Filters.of(workflow="ticket_triage"))[0]
    assert scalar(con, "SELECT count(*) FROM sessions") == truth["workflows"]["ticket_triage"]
    assert scalar(con, "SELECT count(DISTINCT workflow) FROM spans") == 1
    assert summary.rows_loaded == scalar(ref, "SELECT count(*) FROM spans WHERE workflow = 'ticket_triage'")
    assert summary.rows_filtered == truth["spans"] - summary.rows_loaded
    assert _ledger_holds(con)


def test_spans_inherit_their_traces_workflow(traces, tmp_path):
    """Only the root span says which workflow it is: the filter still keeps (or drops) the whole trace."""
    path, truth = traces
    lines = []
    for line in path.read_text().splitlines():
        doc = json.loads(line)
        for span in doc["resourceSpans"][0]["scopeSpans"][0]["spans"]:
            if "parentSpanId" in span:
                span["attributes"] = [
                    a for a in span["attributes"] if a["key"] not in ("agentops.workflow", "gen_ai.conversation.id")
                ]
        lines.append(json.dumps(doc))
    stripped = tmp_path / "roots-only.jsonl"
    stripped.write_text("\n".join(lines) + "\n")
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(stripped)], filters=Filters.of(workflow="refund_eligibility"))[0]
    assert scalar(con, "SELECT count(*) FROM spans WHERE workflow IS NULL") > 0  # children came along
    assert scalar(con, "SELECT count(DISTINCT trace_id) FROM spans") == truth["workflows"]["refund_eligibility"]
    assert scalar(
        con,
        "SELECT count(*) FROM spans s WHERE NOT EXISTS (SELECT 1 FROM spans p "
        "WHERE p.span_id = s.parent_span_id) AND s.parent_span_id IS NOT NULL",
    ) == scalar(con, "SELECT count(*) FROM spans WHERE span_id IN (SELECT unnest(?))", [truth["orphan_span_ids"]])
    assert summary.rows_loaded + summary.rows_filtered == truth["spans"]


def test_same_file_same_filters_is_skipped_other_filters_load_the_rest(full, tmp_path):
    ref, path, truth = full
    con = db.connect(tmp_path / "a.duckdb")
    window = Filters.of(SINCE, UNTIL)
    first = ingest.ingest(con, [str(path)], filters=window)[0]
    before = _counts(con)
    again = ingest.ingest(con, [str(path)], filters=window)[0]
    assert again.skipped and _counts(con) == before
    rest = ingest.ingest(con, [str(path)])[0]  # no filters: a different load of the same file
    assert not rest.skipped
    assert rest.rows_loaded == truth["spans"] - first.rows_loaded
    assert rest.rows_duplicate == first.rows_loaded and rest.rows_filtered == 0
    assert scalar(con, "SELECT count(*) FROM spans") == truth["spans"]
    assert scalar(con, "SELECT count(*) FROM sources") == 2
    assert _ledger_holds(con)
    assert ingest.ingest(con, [str(path)])[0].skipped


def test_filtered_and_quarantined_are_counted_apart(traces, tmp_path):
    path, truth = traces
    lines = path.read_bytes().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"\n".join([*lines, b'{"resourceSpans": [', lines[0][:-30]]) + b"\n")
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(broken)], filters=Filters.of(until=SINCE))[0]
    assert summary.rows_quarantined == 2
    assert summary.rows_loaded > 0 and summary.rows_filtered > 0
    assert summary.rows_read == truth["spans"] + 2
    assert _ledger_holds(con)


def test_filter_values_are_parsed_as_utc_and_checked():
    assert parse_time("2026-11-12") == datetime(2026, 11, 12)
    assert parse_time("2026-11-12T02:30:00+02:00") == datetime(2026, 11, 12, 0, 30)
    assert parse_time("2026-11-12T00:30Z") == datetime(2026, 11, 12, 0, 30)
    assert not Filters() and Filters().key() == ""
    with pytest.raises(InputError, match="ISO date"):
        parse_time("last tuesday")
    with pytest.raises(InputError, match="must be before"):
        Filters.of("2026-11-12", "2026-11-12")


def test_cli_filters_print_one_line_and_bad_values_exit_2(traces, tmp_path, capsys):
    path, truth = traces
    database = tmp_path / "a.duckdb"
    assert cli.main(["ingest", str(path), "--db", str(database), "--workflow", "refund_eligibility"]) == 0
    out = capsys.readouterr()
    assert "filtered" in out.out and out.err == ""  # no progress bar: stderr is not a terminal here
    con = db.connect(database, read_only=True)
    assert scalar(con, "SELECT count(*) FROM sessions") == truth["workflows"]["refund_eligibility"]
    con.close()
    assert cli.main(["ingest", str(path), "--db", str(tmp_path / "b.duckdb"), "--since", "yesterday"]) == 2
    err = capsys.readouterr().err
    assert "ISO date" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "b.duckdb").exists()


def test_progress_bar_only_on_a_terminal(tmp_path):
    """A long ingest on a terminal shows a progress bar on stderr (run in a pseudo-terminal)."""
    synth.generate(tmp_path / "gen", sessions=200, seed=5)
    script = (
        "import sys; from agentops_audit import db, ingest; ingest.PROGRESS_DELAY = 0; "
        "con = db.connect(sys.argv[2]); ingest.ingest(con, [sys.argv[1]], progress=True)"
    )
    args = [sys.executable, "-c", script, str(tmp_path / "gen" / "traces.otlp.jsonl"), str(tmp_path / "p.duckdb")]
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal has a size
    proc = subprocess.Popen(args, stdin=follower, stdout=subprocess.DEVNULL, stderr=follower, close_fds=True)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    assert b"ingest:" in seen and b"%" in seen
    quiet = subprocess.run(args, capture_output=True, text=True, timeout=120)  # stderr is a pipe: no bar
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert Path(tmp_path / "p.duckdb").exists()
