"""Ingest of OTLP JSON into the canonical DuckDB schema: counts, ledger, quarantine, idempotence."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from agentops_audit import db, ingest
from agentops_audit.db import scalar
from agentops_audit.errors import InputError
from agentops_audit.ingest import loader, otlp, otlp_sql
from tests.support.odd_otlp import REASONS, broken_lines


def _ledger_holds(con) -> bool:
    return scalar(
        con, "SELECT bool_and(rows_read = rows_loaded + rows_duplicate + rows_quarantined + rows_filtered) FROM sources"
    )


def test_demo_counts_match_truth(demo):
    con = db.connect(demo["db"], read_only=True)
    truth = demo["truth"]
    assert scalar(con, "SELECT count(*) FROM spans") == truth["spans"]
    assert scalar(con, "SELECT count(*) FROM sessions") == truth["sessions"]
    assert scalar(con, "SELECT count(*) FROM tool_calls") == truth["tool_calls"]
    assert scalar(con, "SELECT rows_read FROM sources") == truth["spans"]
    assert scalar(con, "SELECT sha256 FROM sources") == truth["sha256"]
    assert scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'") == db.SCHEMA_VERSION
    assert _ledger_holds(con)


def test_deprecated_aliases_are_mapped(traces, tmp_path):
    path, truth = traces
    con = db.connect(tmp_path / "a.duckdb")
    ingest.ingest(con, [str(path)])
    # every LLM span has token counts, whether exported under the current or the deprecated names
    assert scalar(con, "SELECT count(*) FROM spans WHERE span_type = 'llm' AND input_tokens IS NULL") == 0
    assert (
        scalar(con, "SELECT count(*) FROM spans WHERE attributes->>'$.\"gen_ai.usage.prompt_tokens\"' IS NOT NULL") > 0
    )


def test_reingest_changes_nothing(traces, tmp_path):
    path, truth = traces
    con = db.connect(tmp_path / "a.duckdb")
    first = ingest.ingest(con, [str(path)])
    assert first[0].rows_loaded == truth["spans"]
    before = scalar(con, "SELECT count(*) FROM spans"), scalar(con, "SELECT count(*) FROM sources")
    again = ingest.ingest(con, [str(path)])
    assert again[0].skipped
    assert (scalar(con, "SELECT count(*) FROM spans"), scalar(con, "SELECT count(*) FROM sources")) == before


def test_overlapping_export_is_deduplicated(traces, tmp_path):
    path, truth = traces
    lines = path.read_bytes().splitlines()
    overlap = tmp_path / "overlap.jsonl"
    overlap.write_bytes(b"\n".join(lines[:2] + lines[:1]) + b"\n")  # two batches, the first one twice
    gz = tmp_path / "all.jsonl.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    con = db.connect(tmp_path / "a.duckdb")
    s1 = ingest.ingest(con, [str(overlap)])[0]
    assert s1.rows_duplicate == s1.rows_read - s1.rows_loaded > 0
    s2 = ingest.ingest(con, [str(gz)])[0]
    assert s2.rows_loaded == truth["spans"] - s1.rows_loaded
    assert s2.rows_duplicate == s1.rows_loaded
    assert scalar(con, "SELECT count(*) FROM spans") == truth["spans"]
    assert _ledger_holds(con)


@pytest.mark.parametrize("fast", [None, otlp_sql.load], ids=["python-reader", "duckdb-fast-path"])
def test_rows_go_straight_into_spans_unless_the_file_repeats_a_span_differently(traces, tmp_path, fast):
    """Without filters a file's rows are written once, straight into spans (the fast path's records for
    Python and a broken line included); a span repeated unchanged keeps one copy; a file that repeats a
    span with other content is loaded again through the staging table, where its first occurrence wins."""
    path, _ = traces
    lines = path.read_bytes().splitlines()
    spans = [
        [s for b in json.loads(line)["resourceSpans"] for sc in b["scopeSpans"] for s in sc["spans"]]
        for line in lines[:5]
    ]
    base64 = json.dumps(
        {
            "resourceSpans": [
                {
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": "S/kvNXezTaajzpKdDg5HNg==",
                                    "spanId": "APBnqgupArc=",
                                    "name": "b64",
                                    "startTimeUnixNano": "1794182400000000000",
                                    "endTimeUnixNano": "1794182401000000000",
                                }
                            ]
                        }
                    ]
                }
            ]
        }
    ).encode()
    con = db.connect(tmp_path / "a.duckdb")
    limit = scalar(con, "SELECT current_setting('memory_limit')")

    def load(name: str, data: list[bytes]) -> loader.SourceSummary:
        file = tmp_path / name
        file.write_bytes(b"\n".join(data) + b"\n")
        return loader.load_file(con, file, otlp.NAME, otlp.read, {}, fast=fast)

    first = load("first.jsonl", [lines[0], base64, b'{"resourceSpans": [', lines[1]])
    assert (first.staged, first.rows_loaded, first.rows_duplicate, first.rows_quarantined) == (
        False,
        len(spans[0]) + 1 + len(spans[1]),
        0,
        1,
    )
    assert scalar(con, "SELECT count(*) FROM spans WHERE trace_id = '' OR span_id LIKE '%:%'") == 0
    retry = load("retry.jsonl", [lines[2], lines[2]])  # an exporter's retry: the same batch twice
    assert (retry.staged, retry.rows_loaded, retry.rows_duplicate) == (False, len(spans[2]), len(spans[2]))
    doc = json.loads(lines[3])
    original = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    doc["resourceSpans"][-1]["scopeSpans"][-1]["spans"].append(dict(original, name="the second copy"))
    changed = load("changed.jsonl", [json.dumps(doc).encode(), b"not json"])
    assert (
        changed.staged,
        changed.rows_read,
        changed.rows_loaded,
        changed.rows_duplicate,
        changed.rows_quarantined,
    ) == (True, len(spans[3]) + 2, len(spans[3]), 1, 1)
    assert scalar(con, "SELECT name FROM spans WHERE span_id = ?", [original["spanId"]]) == original["name"]
    # overlapping every file before and repeating a batch of its own: direct, nothing stored twice
    overlap = load("overlap.jsonl", [lines[1], lines[2], lines[4], lines[3], lines[4]])
    assert (overlap.staged, overlap.rows_loaded, overlap.rows_duplicate) == (
        False,
        len(spans[4]),
        len(spans[1]) + len(spans[2]) + len(spans[3]) + len(spans[4]),
    )
    assert scalar(con, "SELECT count(*) FROM spans") == sum(map(len, spans)) + 1
    assert scalar(con, "SELECT count(*) FROM quarantine") == 2
    assert _ledger_holds(con)
    assert scalar(con, "SELECT current_setting('memory_limit')") == limit
    assert scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_stage'") == 0


def test_broken_lines_are_quarantined_and_the_rest_loads(traces, tmp_path):
    path, truth = traces
    lines = path.read_bytes().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(broken_lines(lines))
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(broken)])[0]
    assert summary.error is None
    reasons = dict(con.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1").fetchall())
    assert reasons == REASONS
    assert summary.rows_quarantined == 7
    assert summary.rows_loaded == scalar(con, "SELECT count(*) FROM spans") > 0
    assert _ledger_holds(con)
    locators = [r[0] for r in con.execute("SELECT locator FROM quarantine ORDER BY locator").fetchall()]
    assert "broken.jsonl:2" in locators and "broken.jsonl:4#1" in locators


def test_base64_ids_are_normalised(tmp_path):
    import base64

    tid, sid = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736"), bytes.fromhex("00f067aa0ba902b7")
    span = {
        "traceId": base64.b64encode(tid).decode(),
        "spanId": base64.b64encode(sid).decode(),
        "name": "x",
        "startTimeUnixNano": "1794182400000000000",
        "endTimeUnixNano": "1794182401000000000",
        "status": {"code": 2},
    }
    doc = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
    f = tmp_path / "one.json"
    f.write_text(doc)
    con = db.connect(tmp_path / "a.duckdb")
    ingest.ingest(con, [str(f)])
    assert con.execute("SELECT trace_id, span_id, status_code, duration_ms FROM spans").fetchall() == [
        ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "ERROR", 1000.0)
    ]


def test_a_span_runs_for_its_nearest_enclosing_agent(tmp_path):
    """A model or tool span that names no agent takes its nearest enclosing agent span's name, across spans that
    name none (200 levels deep too); under an agent span without a name it stays unnamed; a span's own name is
    kept; spans in a parent cycle (a broken export) are left as they are, without an error."""

    def span(sid: str, parent: str | None, name: str, attrs: dict, trace: str = "a" * 32) -> dict:
        kvs = [{"key": f"gen_ai.{k}", "value": {"stringValue": v}} for k, v in attrs.items()]
        out = {"traceId": trace, "spanId": (sid * 16)[:16], "name": name, "attributes": kvs}
        out.update(startTimeUnixNano="1794182400000000000", endTimeUnixNano="1794182401000000000")
        return {**out, "parentSpanId": (parent * 16)[:16]} if parent else out

    agent, chat = {"operation.name": "invoke_agent"}, {"operation.name": "chat"}

    def tool(name: str, **more) -> dict:
        return {"operation.name": "execute_tool", "tool.name": name, **more}

    spans = [
        span("1", None, "invoke_agent triage", {**agent, "agent.name": "triage"}),
        span("2", "1", "step", {}),  # names no agent: inherits, and passes the name on
        span("3", "2", "chat gpt-4o", chat),
        span("4", "3", "execute_tool refund", tool("refund")),
        span("5", "1", "invoke_agent", agent),  # an agent without a name
        span("6", "5", "execute_tool lookup", tool("lookup")),
        span("7", "1", "execute_tool own", {**tool("own"), "agent.name": "billing"}),
        span("8", "9", "execute_tool loop", tool("loop"), "b" * 32),
        span("9", "8", "step", {}, "b" * 32),
    ]
    deep = [span(f"{n:x}", f"{n - 1:x}" if n > 0x100 else "a", "step", {}, "c" * 32) for n in range(0x100, 0x1C8)]
    spans += [span("a", None, "invoke_agent deep", {**agent, "agent.name": "deep"}, "c" * 32), *deep]
    f = tmp_path / "agents.json"
    f.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
    con = db.connect(tmp_path / "a.duckdb")
    (summary,) = ingest.ingest(con, [str(f)])
    assert summary.error is None and summary.rows_loaded == 9 + 1 + 200
    deep_named = "SELECT count(*) FROM spans WHERE trace_id = '" + "c" * 32 + "' AND agent_name = 'deep'"
    assert scalar(con, deep_named) == 201
    agents = dict(
        con.execute(f"SELECT left(span_id, 1), agent_name FROM spans WHERE trace_id <> '{'c' * 32}'").fetchall()
    )
    assert agents == {
        "1": "triage", "2": "triage", "3": "triage", "4": "triage",
        "5": None, "6": None, "7": "billing", "8": None, "9": None,
    }  # fmt: skip
    ingest.ingest(con, [str(f)])  # loading again changes nothing
    assert (
        dict(con.execute(f"SELECT left(span_id, 1), agent_name FROM spans WHERE trace_id <> '{'c' * 32}'").fetchall())
        == agents
    )
    con.close()


def test_bad_paths_and_formats_are_clear_errors(tmp_path):
    con = db.connect(tmp_path / "a.duckdb")
    with pytest.raises(InputError, match="no such file"):
        ingest.ingest(con, [str(tmp_path / "missing.jsonl")])
    with pytest.raises(InputError, match="unknown format 'nope'"):
        ingest.ingest(con, [str(tmp_path)], fmt="nope")
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    summary = ingest.ingest(con, [str(other)])[0]
    assert summary.error and "format not recognised" in summary.error
    assert scalar(con, "SELECT count(*) FROM sources") == 0


# -- schema upgrades ----------------------------------------------------------------------------------------


def _as_schema_2(path) -> None:
    """Turn a database of this toolkit into what schema 2 wrote: no llm_purpose or derived_from column, version 2."""
    con = db.connect(path)
    con.execute("ALTER TABLE spans DROP COLUMN llm_purpose")
    con.execute("ALTER TABLE spans DROP COLUMN derived_from")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()


def test_schema_2_is_upgraded_in_place(traces, tmp_path, capsys):
    from agentops_audit import cli

    path, _ = traces
    database = tmp_path / "a.duckdb"
    con = db.connect(database)
    ingest.ingest(con, [str(path)])
    sql = "SELECT trace_id, span_id, llm_purpose FROM spans ORDER BY trace_id, span_id"
    expected = con.execute(sql).fetchall()
    con.close()
    assert sum(1 for row in expected if row[2]) > 0
    _as_schema_2(database)
    # a read-only open (the audit's) says how to upgrade, and changes nothing
    with pytest.raises(db.SchemaMismatch, match=f"agentops-audit upgrade --db {database}"):
        db.connect(database, read_only=True)
    assert cli.main(["audit", "--db", str(database), "--out", str(tmp_path / "out")]) == 2
    assert "agentops-audit upgrade" in capsys.readouterr().err
    # the upgrade command adds the column and fills it from the stored attributes, in place
    assert cli.main(["upgrade", "--db", str(database)]) == 0
    assert capsys.readouterr().out.strip() == f"{database}: schema version 2 upgraded to {db.SCHEMA_VERSION}"
    con = db.connect(database, read_only=True)
    assert con.execute(sql).fetchall() == expected
    assert scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'") == db.SCHEMA_VERSION
    con.close()
    assert cli.main(["upgrade", "--db", str(database)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    # a writable open (an ingest) upgrades by itself
    _as_schema_2(database)
    con = db.connect(database)
    assert con.execute(sql).fetchall() == expected
    con.close()


def test_schema_6_gets_the_agent_of_each_span_by_the_upgrade(tmp_path, capsys):
    """A database of schema 6 holds spans without their enclosing agent's name: `upgrade` gives them, over
    every trace, the names an ingest now gives (a real OpenAI Agents SDK export, OpenInference)."""
    from agentops_audit import cli

    export = Path(__file__).parent / "fixtures" / "real" / "openai-agents" / "handoff.otlp.jsonl"
    database = tmp_path / "a.duckdb"
    con = db.connect(database)
    ingest.ingest(con, [str(export)])
    sql = "SELECT span_id, agent_name FROM spans ORDER BY span_id"
    expected = con.execute(sql).fetchall()
    con.execute("UPDATE spans SET agent_name = NULL WHERE span_type <> 'agent'")  # as 6 loaded it
    con.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    con.close()
    assert {a for _, a in expected} >= {"triage", "billing"}
    with pytest.raises(db.SchemaMismatch, match="agentops-audit upgrade"):
        db.connect(database, read_only=True)
    assert cli.main(["upgrade", "--db", str(database)]) == 0
    assert "schema version 6 upgraded" in capsys.readouterr().out
    con = db.connect(database, read_only=True)
    assert con.execute(sql).fetchall() == expected
    con.close()


def test_unknown_schema_version_is_one_clear_error(traces, tmp_path):
    path, _ = traces
    database = tmp_path / "a.duckdb"
    con = db.connect(database)
    ingest.ingest(con, [str(path)])
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    for read_only in (True, False):
        with pytest.raises(db.SchemaMismatch, match="re-ingest the exports into a new database"):
            db.connect(database, read_only=read_only)
    with pytest.raises(db.SchemaMismatch, match="re-ingest"):
        db.upgrade(database)
    con = db.connect(database.with_name("b.duckdb"))  # other files are unaffected
    con.close()


def test_a_database_without_spans_is_not_audited(tmp_path, capsys):
    """Claude Code's log events alone (its usual telemetry; spans need its tracing beta) load, but hold no
    span: the audit stops with one line that says so and how to get spans, and writes no report; a database
    with the schema and nothing else likewise, and a DuckDB file that is no audit database. (Eval results
    alone are audited: tests/test_evals.py.)"""
    from agentops_audit import cli

    logs = Path(__file__).parent / "fixtures" / "real" / "claude-agent-sdk" / "mcp_permissions.logs.jsonl"
    out = tmp_path / "run"
    assert cli.main(["run", str(logs), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no spans and no eval results: nothing to audit (19 log records" in err
    assert "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1 and OTEL_TRACES_EXPORTER=otlp" in err
    assert not (out / "audit.json").exists()
    db.connect(tmp_path / "empty.duckdb").close()
    assert cli.main(["audit", "--db", str(tmp_path / "empty.duckdb"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip().endswith("empty.duckdb holds no spans and no eval results: nothing to audit")
    import duckdb

    duckdb.connect(str(tmp_path / "blank.duckdb")).close()  # a DuckDB file, but no audit database
    assert cli.main(["audit", "--db", str(tmp_path / "blank.duckdb"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "blank.duckdb is not an audit database" in err, err


def test_nothing_loaded_is_an_error_and_an_empty_file_is_not(traces, tmp_path, capsys):
    from agentops_audit import cli

    path, truth = traces
    empty, junk = tmp_path / "empty.jsonl", tmp_path / "junk.otlp.jsonl"
    empty.write_bytes(b"")
    junk.write_text('{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "no ids"}]}]}]}\n')
    database = tmp_path / "a.duckdb"
    # nothing at all loads: one line, exit 2, and `run` audits nothing
    assert cli.main(["ingest", str(junk), "--format", "otlp", "--db", str(database)]) == 2
    out, err = capsys.readouterr()
    assert "quarantined 1" in out
    assert err.strip() == (
        "agentops-audit: error: nothing loaded from 1 file (1 entirely quarantined); see the lines above"
    )
    assert cli.main(["run", str(junk), "--format", "otlp", "--out", str(tmp_path / "run")]) == 2
    assert "nothing loaded" in capsys.readouterr().err
    assert not (tmp_path / "run" / "audit.json").exists()
    # an empty file is reported as empty and does not fail the others; an entirely quarantined one does
    assert cli.main(["ingest", str(empty), str(path), "--db", str(database)]) == 0
    out = capsys.readouterr().out
    assert f"{empty}" in out and "empty, no records" in out
    assert cli.main(["ingest", str(junk), str(path), "--format", "otlp", "--db", str(tmp_path / "b.duckdb")]) == 2
    capsys.readouterr()
    # the same input again changes nothing and is not an error
    assert cli.main(["ingest", str(path), "--db", str(database)]) == 0
    assert "already ingested" in capsys.readouterr().out
    con = db.connect(database, read_only=True)
    assert scalar(con, "SELECT count(*) FROM spans") == truth["spans"]
    con.close()
