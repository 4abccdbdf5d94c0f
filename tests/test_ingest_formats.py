"""Ingest of the non-OTLP formats: OpenInference (JSONL, Parquet), Langfuse, chat transcripts with mapping
files, canonical span files and the session registry. Real DuckDB; fixtures in tests/fixtures/ingest
(hand-written), broken variants and Parquet files generated here from them."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from agentops_audit import cli, db, ingest
from agentops_audit.db import frame, scalar
from agentops_audit.ingest import mapping
from agentops_audit.metrics import run as run_metric

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
NON_UTF8 = b"\xff\xfe not utf-8"


def _ledger_holds(con) -> bool:
    return scalar(con, "SELECT bool_and(rows_read = rows_loaded + rows_duplicate + rows_quarantined) FROM sources")


def _options(name: str) -> dict:
    return mapping.validate(yaml.safe_load((FIXTURES / name).read_text()), name)


def _by(con, key: str, sql: str = "SELECT * FROM spans") -> dict[str, dict]:
    return {row[key]: row for row in frame(con, sql).to_dicts()}


def _reasons(con) -> dict[str, int]:
    return dict(con.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1").fetchall())


def _broken(tmp_path: Path, name: str, good: bytes, extra: list[bytes]) -> Path:
    path = tmp_path / name
    path.write_bytes(good.rstrip(b"\n") + b"\n" + b"\n".join(extra) + b"\n")
    return path


def _reingest_changes_nothing(con, paths: list[str], **kwargs) -> None:
    before = [scalar(con, f"SELECT count(*) FROM {t}") for t in ("spans", "sources", "quarantine", "session_registry")]
    again = ingest.ingest(con, paths, **kwargs)
    assert all(s.skipped for s in again)
    assert [
        scalar(con, f"SELECT count(*) FROM {t}") for t in ("spans", "sources", "quarantine", "session_registry")
    ] == before


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("openinference.jsonl", "openinference"),
        ("langfuse-observations.json", "langfuse"),
        ("langfuse-traces.jsonl", "langfuse"),
        ("transcript-openai.jsonl", "transcript"),
        ("transcript-flat.json", "transcript"),
        ("transcript-anthropic.jsonl", "transcript"),
        ("session-registry.csv", "session-registry"),
    ],
)
def test_formats_are_sniffed(name, fmt):
    assert ingest.sniff(FIXTURES / name) == fmt


# --- OpenInference -------------------------------------------------------------------------------------------


def test_openinference_columns(tmp_path):
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(FIXTURES / "openinference.jsonl")])[0]
    assert (summary.format, summary.rows_read, summary.rows_loaded) == ("openinference", 11, 11)
    spans = _by(con, "span_id")
    assert {s["name"]: s["span_type"] for s in spans.values() if s["name"] != "ChatOpenAI"} == {
        "support_agent": "agent",
        "lookup_order": "tool",
        "search_kb": "retrieval",
        "embed_query": "embedding",
        "rerank": "retrieval",
        "pii_guard": "policy",
        "format_prompt": "other",
        "planner": "agent",
        "refund": "tool",
    }
    # ids: "0x" stripped, dropped leading zeros restored, parents normalised the same way
    llm, tool = spans["00f067aa0ba902b7"], spans["00f067aa0ba902b8"]
    assert llm["trace_id"] == tool["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert llm["parent_span_id"] == tool["parent_span_id"] == "b7ad6b7169203331"
    assert (
        llm["span_type"],
        llm["request_model"],
        llm["input_tokens"],
        llm["output_tokens"],
        llm["cost_usd"],
        llm["session_id"],
        llm["duration_ms"],
    ) == ("llm", "gpt-4o-mini", 120, 30, 0.00036, "oi-session-1", 1200.0)
    assert llm["start_time"] == datetime(2025, 3, 4, 10, 0, 0, 100000)
    assert (tool["tool_name"], json.loads(tool["tool_args"]), json.loads(tool["tool_result"])) == (
        "lookup_order",
        {"order_id": 42},
        {"order_id": 42, "status": "shipped"},
    )
    failed = spans["1000000000000008"]
    assert (failed["status_code"], failed["status_message"], failed["error_type"]) == (
        "ERROR",
        "rate limited",
        "RateLimitError",
    )
    assert failed["cost_usd"] == pytest.approx(0.00012)  # prompt + completion when there is no total
    flat = spans["2000000000000002"]  # dotted attribute names instead of nested ones
    assert (flat["tool_name"], flat["tool_args"], flat["session_id"]) == ("refund", '{"amount": 10}', "oi-session-2")
    assert (spans["2000000000000001"]["input_tokens"], spans["2000000000000001"]["agent_name"]) == (7, "planner-v2")
    payload = dict(con.execute("SELECT tool_name, failed_payload FROM tool_calls").fetchall())
    assert payload == {"lookup_order": False, "refund": True}
    assert _ledger_holds(con)
    _reingest_changes_nothing(con, [str(FIXTURES / "openinference.jsonl")])


def _phoenix_frame_rows() -> list[dict]:
    """The JSONL fixture as a Phoenix spans dataframe would hold it: dotted columns, real timestamps."""
    from agentops_audit.ingest.convert import flatten

    rows = []
    for line in (FIXTURES / "openinference.jsonl").read_text().splitlines():
        span = json.loads(line)
        context = span.pop("context", {})
        row = {
            "context.trace_id": context.get("trace_id", span.pop("context.trace_id", None)),
            "context.span_id": context.get("span_id", span.pop("context.span_id", None)),
        }
        for key in ("name", "span_kind", "parent_id", "status_code", "status_message"):
            row[key] = span.get(key)
        for key in ("start_time", "end_time"):
            row[key] = datetime.fromisoformat(span[key])
        row["events"] = json.dumps(span.get("events") or [])
        attrs = flatten(span.get("attributes") or {}, keep=frozenset({"tool.parameters"}))
        for key, value in attrs.items():
            row[f"attributes.{key}"] = json.dumps(value, separators=(",", ":")) if isinstance(value, dict) else value
        rows.append(row)
    return rows


def _write_parquet(path: Path, rows: list[dict]) -> None:
    columns = sorted({k for r in rows for k in r})
    pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]), path)


def test_openinference_parquet_matches_jsonl(tmp_path):
    parquet = tmp_path / "phoenix_spans.parquet"
    _write_parquet(parquet, _phoenix_frame_rows())
    assert ingest.sniff(parquet) == "openinference"
    from_json, from_parquet = db.connect(tmp_path / "j.duckdb"), db.connect(tmp_path / "p.duckdb")
    ingest.ingest(from_json, [str(FIXTURES / "openinference.jsonl")])
    summary = ingest.ingest(from_parquet, [str(parquet)])[0]
    assert (summary.format, summary.rows_loaded) == ("openinference", 11)
    sql = "SELECT * EXCLUDE (attributes, events, source_id) FROM spans ORDER BY span_id"
    assert frame(from_parquet, sql).to_dicts() == frame(from_json, sql).to_dicts()


def test_large_parquet_is_sniffed_from_its_footer(tmp_path):
    rows = []
    for copy in range(1, 401):  # many spans in many row groups: the column names sit far from the first bytes
        for number, row in enumerate(_phoenix_frame_rows()):
            rows.append(
                {
                    **row,
                    "context.trace_id": f"{copy:032x}",
                    "context.span_id": f"{copy:08x}{number:08x}",
                    "parent_id": None,
                }
            )
    parquet = tmp_path / "phoenix_large.parquet"
    columns = sorted({k for r in rows for k in r})
    pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]), parquet, row_group_size=100)
    assert parquet.stat().st_size > 2 * ingest.SNIFF_BYTES
    assert ingest.sniff(parquet) == "openinference"
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(parquet)])[0]
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (len(rows), len(rows), 0)
    out = tmp_path / "canonical_large.parquet"
    con.execute(f"COPY spans TO '{out}' (FORMAT parquet, ROW_GROUP_SIZE 100)")
    assert ingest.sniff(out) == "canonical"


def test_openinference_parquet_broken_rows_are_quarantined_by_row(tmp_path):
    rows = _phoenix_frame_rows()
    rows[1]["context.span_id"] = None
    rows[2]["end_time"] = datetime.fromisoformat("2025-03-04T09:00:00+00:00")
    parquet = tmp_path / "phoenix_broken.parquet"
    _write_parquet(parquet, rows)
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(parquet)], fmt="openinference")[0]
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (11, 9, 2)
    assert sorted(con.execute("SELECT locator, reason FROM quarantine").fetchall()) == [
        ("phoenix_broken.parquet:row 1", "span without a valid span id"),
        ("phoenix_broken.parquet:row 2", "impossible timestamps: end before start"),
    ]
    assert _ledger_holds(con)


def test_openinference_broken_lines(tmp_path):
    good = (FIXTURES / "openinference.jsonl").read_bytes()
    lines = good.splitlines()
    no_span_id = json.loads(lines[3])
    no_span_id["context"]["span_id"] = ""
    no_trace_id = json.loads(lines[4])
    no_trace_id["context"]["trace_id"] = "not-hex"
    backwards = json.loads(lines[5])
    backwards["context"]["span_id"] = "3000000000000001"
    backwards["end_time"] = "2025-03-04T09:59:00Z"
    bad_time = json.loads(lines[6])
    bad_time["context"]["span_id"] = "3000000000000002"
    bad_time["start_time"] = "yesterday"
    path = _broken(
        tmp_path,
        "oi_broken.jsonl",
        good,
        [
            lines[7][:-30],
            b'{"name": "x", "context": {',
            NON_UTF8,
            *(json.dumps(s).encode() for s in (no_span_id, no_trace_id, backwards, bad_time)),
        ],
    )
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(path)])[0]
    assert summary.format == "openinference" and summary.error is None
    assert _reasons(con) == {
        "invalid JSON (truncated or malformed line)": 2,
        "non-UTF-8 bytes at column 1": 1,
        "span without a valid span id": 1,
        "span without a valid trace id": 1,
        "impossible timestamps: end before start": 1,
        "unreadable timestamp (not a timestamp: 'yesterday')": 1,
    }
    assert summary.rows_loaded == 11 == scalar(con, "SELECT count(*) FROM spans")
    assert summary.rows_read == 11 + 7
    assert "oi_broken.jsonl:14" in {r[0] for r in con.execute("SELECT locator FROM quarantine").fetchall()}
    assert _ledger_holds(con)
    # the propagation metric counts the spans quarantined for lacking ids
    defects = dict(run_metric(con, "trace_propagation").select("defect", "count").iter_rows())
    assert defects["spans_without_ids"] == 2


# --- Langfuse ------------------------------------------------------------------------------------------------


def test_langfuse_traces_and_observations(tmp_path):
    con = db.connect(tmp_path / "a.duckdb")
    paths = [str(FIXTURES / "langfuse-observations.json"), str(FIXTURES / "langfuse-traces.jsonl")]
    summaries = ingest.ingest(con, paths)
    assert [(s.format, s.rows_loaded, s.rows_quarantined) for s in summaries] == [
        ("langfuse", 7, 0),
        ("langfuse", 3, 0),
    ]
    spans = _by(con, "span_id")
    root = spans["lf-trace-1"]  # the trace record is the agent root span, its span id is the trace id
    assert (
        root["trace_id"],
        root["parent_span_id"],
        root["span_type"],
        root["session_id"],
        root["workflow"],
        root["session_outcome"],
        root["service_version"],
        root["duration_ms"],
    ) == ("lf-trace-1", None, "agent", "lf-session-A", "booking", "failure", "v2.3.0", 8500.0)
    assert json.loads(root["attributes"])["langfuse.tags"] == ["prod", "booking"]
    assert spans["obs-agent-1"]["parent_span_id"] == "lf-trace-1"  # top-level observations hang under the root
    assert spans["obs-event-1"]["parent_span_id"] == "lf-trace-1"
    gen = spans["obs-gen-1"]
    assert (
        gen["span_type"],
        gen["parent_span_id"],
        gen["request_model"],
        gen["input_tokens"],
        gen["output_tokens"],
        gen["cost_usd"],
        gen["status_code"],
    ) == ("llm", "obs-agent-1", "claude-3-5-sonnet", 900, 120, 0.0045, "UNSET")
    assert json.loads(gen["input_text"])[0]["content"] == "Book me on the 9am"
    assert (spans["obs-gen-2"]["input_tokens"], spans["obs-gen-2"]["status_code"]) == (50, "UNSET")  # WARNING
    assert spans["obs-ret-1"]["span_type"] == "retrieval"
    assert (spans["obs-event-1"]["span_type"], spans["obs-event-1"]["end_time"]) == ("other", None)
    assert spans["obs-span-9"]["parent_span_id"] == "obs-gen-2"  # nested under its trace record
    tools = _by(con, "tool_name", "SELECT * FROM tool_calls")
    assert json.loads(tools["search_flights"]["tool_args"]) == {"from": "SFO", "to": "JFK"}
    assert json.loads(tools["search_flights"]["tool_result"]) == {"flights": ["UA1"]}
    assert tools["search_flights"]["tool_call_id"] is None  # an observation's id is not a call id
    assert (
        tools["book_flight"]["status_code"],
        tools["book_flight"]["status_message"],
        tools["book_flight"]["failed_status"],
        tools["book_flight"]["failed_payload"],
    ) == ("ERROR", "upstream 503", True, True)
    sessions = _by(con, "session_id", "SELECT * FROM sessions")
    assert set(sessions) == {"lf-session-A", "lf-session-B"}
    assert (sessions["lf-session-A"]["tool_calls"], sessions["lf-session-A"]["cost_usd"]) == (2, 0.0045)
    assert (sessions["lf-session-B"]["outcome"], sessions["lf-session-B"]["workflow"]) == ("success", "faq")
    locators = {r[0] for r in con.execute("SELECT locator FROM quarantine").fetchall()}
    assert not locators
    assert _ledger_holds(con)
    _reingest_changes_nothing(con, paths)


def test_langfuse_broken_records(tmp_path):
    good = b'{"id": "t-9", "timestamp": "2025-02-01T09:00:00Z", "sessionId": "s", "observations": []}'
    records = [
        {"id": "o-1", "type": "SPAN", "startTime": "2025-02-01T09:00:01Z"},  # no traceId
        {"traceId": "t-9", "type": "TOOL", "name": "x", "startTime": "2025-02-01T09:00:01Z"},  # no id
        {
            "id": "o-2",
            "traceId": "t-9",
            "type": "SPAN",
            "startTime": "2025-02-01T09:00:05Z",
            "endTime": "2025-02-01T09:00:01Z",
        },
        {
            "id": "o-3",
            "traceId": "t-9",
            "type": "GENERATION",
            "startTime": "2025-02-01T09:00:02Z",
            "endTime": "2025-02-01T09:00:03Z",
            "parentObservationId": None,
        },
    ]
    path = _broken(
        tmp_path,
        "lf.jsonl",
        good,
        [*(json.dumps(r).encode() for r in records), b'{"id": "o-4", "traceId": "t-9", "startT', NON_UTF8],
    )
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(path)])[0]
    assert summary.format == "langfuse"
    assert _reasons(con) == {
        "span without a valid trace id": 1,
        "span without a valid span id": 1,
        "impossible timestamps: end before start": 1,
        "invalid JSON (truncated or malformed line)": 1,
        "non-UTF-8 bytes at column 1": 1,
    }
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 5)
    assert _ledger_holds(con)


# --- Chat transcripts ----------------------------------------------------------------------------------------


def _attr(row: dict, name: str):
    return json.loads(row["attributes"]).get(name)


def test_transcript_openai_style(tmp_path):
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(FIXTURES / "transcript-openai.jsonl")])[0]
    assert (summary.format, summary.rows_loaded, summary.rows_quarantined) == ("transcript", 11, 0)
    tools = _by(con, "tool_call_id", "SELECT * FROM tool_calls")
    assert set(tools) == {"call_a", "call_b", "call_c", "call_d"}
    # results are joined by id, whatever their order in the conversation
    assert json.loads(tools["call_a"]["tool_result"]) == {"invoice": 7, "amount": 30}
    assert json.loads(tools["call_b"]["tool_result"]) == {"customer": "c-9"}
    assert tools["call_b"]["end_time"] == datetime(2025, 1, 10, 8, 0, 8)
    assert (tools["call_c"]["failed_payload"], tools["call_a"]["failed_payload"]) == (True, False)
    assert (tools["call_a"]["tool_name"], json.loads(tools["call_a"]["tool_args"])) == ("get_invoice", {"invoice": 7})
    missing = tools["call_d"]  # no result in the transcript
    assert (missing["tool_result"], missing["end_time"], _attr(missing, "agentops.tool.result_missing")) == (
        None,
        None,
        True,
    )
    assert _attr(tools["call_a"], "agentops.tool.result_missing") is None
    defects = dict(run_metric(con, "trace_propagation").select("defect", "count").iter_rows())
    assert defects["tool_calls_without_result"] == 1  # the propagation metric counts what the adapter flagged
    sessions = _by(con, "session_id", "SELECT * FROM sessions")
    assert {k: (v["outcome"], v["llm_calls"], v["tool_calls"]) for k, v in sessions.items()} == {
        "oa-1": ("success", 3, 3),
        "oa-2": ("failure", 2, 1),
    }
    assert sessions["oa-1"]["cost_usd"] == pytest.approx(0.0036)
    assert sessions["oa-1"]["duration_ms"] == 14_000  # real timestamps: 08:00:00 to 08:00:14
    llm = frame(con, "SELECT * FROM llm_calls WHERE session_id = 'oa-1' ORDER BY start_time").to_dicts()
    assert [(r["input_tokens"], r["output_tokens"], r["cache_read_tokens"], r["request_model"]) for r in llm] == [
        (200, 25, 64, "gpt-4o"),
        (260, 20, None, "gpt-4o"),
        (300, 12, None, "gpt-4o"),
    ]
    assert llm[0]["input_text"] == "You are a billing agent.\n\nRefund invoice 7"
    assert llm[2]["output_text"] == "I could not refund it; escalating."
    roots = frame(con, "SELECT * FROM spans WHERE parent_span_id IS NULL").to_dicts()
    assert {r["span_type"] for r in roots} == {"agent"} and len(roots) == 2
    assert all(_attr(r, "agentops.synthetic_time") is None for r in roots)
    assert frame(con, "SELECT * FROM spans WHERE session_id = 'oa-2' AND parent_span_id IS NULL").to_dicts()[0][
        "start_time"
    ] == datetime(2025, 1, 10, 8, 0, 0)  # epoch seconds
    assert _ledger_holds(con)


def test_transcript_flat_style_with_mapping_and_synthetic_clock(tmp_path):
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(FIXTURES / "transcript-flat.json")], options=_options("transcript-flat.yml"))[0]
    assert (summary.rows_loaded, summary.rows_quarantined) == (8, 0)
    sessions = _by(con, "session_id", "SELECT * FROM sessions")
    assert {k: (v["outcome"], v["workflow"]) for k, v in sessions.items()} == {
        "flat-1": ("success", "assistant"),
        "flat-2": ("failure", "assistant"),
    }  # reward 1.0 / 0.0, threshold 0.5
    tools = frame(con, "SELECT * FROM tool_calls ORDER BY start_time").to_dicts()
    assert [(t["tool_call_id"], t["tool_name"], json.loads(t["tool_args"]), t["failed_payload"]) for t in tools] == [
        ("t1", "weather", {"city": "Oslo"}, True),
        ("t2", "weather", {"city": "Oslo"}, False),
    ]
    # no timestamps in the file: a deterministic synthetic clock, flagged on every span
    assert scalar(con, "SELECT bool_and(attributes->>'$.\"agentops.synthetic_time\"' = 'true') FROM spans")
    assert scalar(con, "SELECT min(start_time) FROM spans") == datetime(2000, 1, 1)
    assert sessions["flat-1"]["duration_ms"] == 5_000  # six messages, one second apart
    success = dict(run_metric(con, "tool_success").select("tool", "success_rate_after_retries").iter_rows())
    assert success == {"weather": 1.0}  # the retry with the same arguments succeeded
    # without the mapping the session id is still found (conversation_id) but no outcome is guessed
    plain = db.connect(tmp_path / "b.duckdb")
    ingest.ingest(plain, [str(FIXTURES / "transcript-flat.json")])
    assert frame(plain, "SELECT session_id, outcome FROM sessions ORDER BY 1").rows() == [
        ("flat-1", None),
        ("flat-2", None),
    ]


def test_transcript_anthropic_blocks(tmp_path):
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(FIXTURES / "transcript-anthropic.jsonl")])[0]
    assert (summary.rows_loaded, summary.rows_quarantined) == (6, 0)
    tools = _by(con, "tool_call_id", "SELECT * FROM tool_calls")
    assert json.loads(tools["toolu_01"]["tool_args"]) == {"env": "staging"}
    assert tools["toolu_01"]["tool_result"] == '["staging-db"]'
    assert (tools["toolu_01"]["failed_status"], tools["toolu_01"]["failed_payload"]) == (False, False)
    assert (tools["toolu_02"]["tool_result"], tools["toolu_02"]["status_code"], tools["toolu_02"]["failed_status"]) == (
        "permission denied",
        "ERROR",
        True,
    )  # is_error on the tool_result block
    assert _attr(tools["toolu_02"], "agentops.transcript.tool_call_style") == "anthropic"
    llm = frame(con, "SELECT * FROM llm_calls ORDER BY start_time").to_dicts()
    assert [(r["input_tokens"], r["output_tokens"], r["cache_read_tokens"]) for r in llm] == [
        (410, 33, 100),
        (450, 20, None),
        (480, 15, None),
    ]
    assert (llm[0]["output_text"], llm[0]["input_text"]) == ("Checking first.", "Delete the staging database")
    assert frame(con, "SELECT session_id, outcome, tokens FROM sessions").rows() == [("an-1", "escalated", 1408)]


def test_transcript_records_under_a_key(tmp_path):
    con = db.connect(tmp_path / "a.duckdb")
    path = FIXTURES / "transcript-under-key.json"
    assert ingest.sniff(path) is None  # renamed message fields: only --format transcript with the mapping reads it
    summary = ingest.ingest(con, [str(path)], fmt="transcript", options=_options("transcript-under-key.yml"))[0]
    assert (summary.rows_loaded, summary.rows_quarantined) == (6, 0)
    sessions = _by(con, "session_id", "SELECT * FROM sessions")
    assert {
        k: (v["outcome"], v["workflow"], v["cost_usd"], v["llm_calls"], v["tool_calls"]) for k, v in sessions.items()
    } == {"hd-100": ("success", "password_reset", 0.021, 2, 1), "hd-101": ("escalated", "billing", 0.004, 1, 0)}
    assert sessions["hd-100"]["started_at"] == datetime(2025, 1, 12, 7, 30)  # synthetic clock from started_at
    tool = frame(con, "SELECT * FROM tool_calls").to_dicts()[0]
    assert (tool["tool_name"], tool["tool_result"]) == ("send_reset_link", '{"sent": true}')
    llm = frame(con, "SELECT output_text FROM llm_calls WHERE session_id = 'hd-100' ORDER BY start_time").rows()
    assert llm == [("",), ("Check your inbox.",)]


def test_transcript_ids_are_deterministic_so_overlapping_exports_deduplicate(tmp_path):
    lines = (FIXTURES / "transcript-openai.jsonl").read_bytes().splitlines()
    newer = json.loads(lines[1])
    newer["session_id"] = "oa-3"
    overlap = tmp_path / "export-2.jsonl.gz"  # another file name, gzipped, one conversation already loaded
    overlap.write_bytes(gzip.compress(lines[1] + b"\n" + json.dumps(newer).encode() + b"\n"))
    con = db.connect(tmp_path / "a.duckdb")
    first = ingest.ingest(con, [str(FIXTURES / "transcript-openai.jsonl")])[0]
    second = ingest.ingest(con, [str(overlap)])[0]
    assert (second.format, second.rows_read, second.rows_loaded, second.rows_duplicate) == ("transcript", 8, 4, 4)
    assert scalar(con, "SELECT count(*) FROM spans") == first.rows_loaded + 4
    assert scalar(con, "SELECT count(DISTINCT trace_id) FROM spans") == 3
    assert _ledger_holds(con)


def test_transcript_broken_records(tmp_path):
    good = (FIXTURES / "transcript-openai.jsonl").read_bytes()
    backwards = {
        "session_id": "b-1",
        "messages": [
            {"role": "user", "content": "a", "timestamp": 1736496009},
            {"role": "assistant", "content": "b", "timestamp": 1736496000},
        ],
    }
    unreadable = {"session_id": "b-2", "messages": [{"role": "user", "content": "a", "timestamp": "soon"}]}
    path = _broken(
        tmp_path,
        "tx.jsonl",
        good,
        [
            json.dumps({"session_id": "b-3", "transcript": "no messages"}).encode(),
            json.dumps({"session_id": "b-4", "messages": ["hello"]}).encode(),
            json.dumps(backwards).encode(),
            json.dumps(unreadable).encode(),
            good.splitlines()[0][:-50],
            NON_UTF8,
        ],
    )
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(path)])[0]
    assert _reasons(con) == {
        "conversation without a message list at 'messages|conversation|traj|trajectory'": 1,
        "message is not a JSON object": 1,
        "impossible timestamps: a message is earlier than the one before it": 1,
        "unreadable timestamp (not a timestamp: 'soon')": 1,
        "invalid JSON (truncated or malformed line)": 1,
        "non-UTF-8 bytes at column 1": 1,
    }
    assert (summary.rows_loaded, summary.rows_quarantined) == (11, 6)
    assert _ledger_holds(con)
    # a mapped session id that is absent quarantines the conversation, naming the path
    strict = db.connect(tmp_path / "b.duckdb")
    ingest.ingest(
        strict, [str(FIXTURES / "transcript-openai.jsonl")], options={"transcript": {"session_id": "meta.conversation"}}
    )
    assert _reasons(strict) == {"conversation without a session id at 'meta.conversation'": 2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "transcript:\n  outcome:\n    path: reward\n    success_at_least: high\n",
            "transcript.outcome.success_at_least must be a number, got 'high'",
        ),
        ("transcript:\n  sesion_id: task_id\n", "transcript.sesion_id is not a known key"),
        (
            "transcript:\n  outcome:\n    path: status\n    values: {done: won}\n",
            "transcript.outcome.values.done must be one of success, failure, escalated, got 'won'",
        ),
        ("transcript:\n  session_id: [task_id, {const: x}]\n", "transcript.session_id: a constant is written"),
        ("attributes:\n  sesion_id: [app.session]\n", "attributes.sesion_id is not a canonical column"),
    ],
)
def test_invalid_mapping_file_is_one_clear_error(tmp_path, capsys, text, message):
    bad = tmp_path / "bad-mapping.yml"
    bad.write_text(text)
    database = tmp_path / "a.duckdb"
    code = cli.main(["ingest", str(FIXTURES / "transcript-flat.json"), "--db", str(database), "--mapping", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{bad}: {message}" in err
    assert not database.exists()  # nothing was created or loaded


# --- Canonical span files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("copy_format", ["parquet", "csv", "json"])
def test_canonical_files_round_trip(tmp_path, copy_format):
    source = db.connect(tmp_path / "source.duckdb")
    ingest.ingest(source, [str(FIXTURES / "openinference.jsonl"), str(FIXTURES / "transcript-anthropic.jsonl")])
    ingest.ingest(source, [str(FIXTURES / "langfuse-observations.json")])
    out = tmp_path / f"spans.{copy_format}"
    options = {"parquet": "(FORMAT parquet)", "csv": "(HEADER)", "json": "(FORMAT json)"}[copy_format]
    source.execute(f"COPY spans TO '{out}' {options}")
    assert ingest.sniff(out) == "canonical"
    target = db.connect(tmp_path / "target.duckdb")
    summary = ingest.ingest(target, [str(out)])[0]
    assert (summary.format, summary.rows_loaded, summary.rows_quarantined) == ("canonical", 24, 0)
    sql = "SELECT * EXCLUDE (source_id) FROM spans ORDER BY trace_id, span_id"
    assert frame(target, sql).to_dicts() == frame(source, sql).to_dicts()
    _reingest_changes_nothing(target, [str(out)])


@pytest.mark.parametrize("copy_format", ["parquet", "csv"])
def test_canonical_files_of_an_older_schema_fill_new_columns_from_attributes(tmp_path, copy_format):
    """A canonical file written before a column existed (here llm_purpose, schema 3) gets that column from
    the spans' attributes, as the other adapters fill it; a column the file has stays as the file says."""
    source = db.connect(tmp_path / "source.duckdb")
    ingest.ingest(source, [str(FIXTURES / "openinference.jsonl")])
    source.execute("""UPDATE spans SET llm_purpose = NULL,
                      attributes = json_merge_patch(attributes, '{"agentops.llm.purpose": "classify"}')
                      WHERE span_type = 'llm'""")
    llm = scalar(source, "SELECT count(*) FROM spans WHERE span_type = 'llm'")
    assert llm > 0
    out, kept = tmp_path / f"old.{copy_format}", tmp_path / f"kept.{copy_format}"
    options = {"parquet": "(FORMAT parquet)", "csv": "(HEADER)"}[copy_format]
    source.execute(f"COPY (SELECT * EXCLUDE (llm_purpose) FROM spans) TO '{out}' {options}")
    source.execute(f"COPY (SELECT * FROM spans) TO '{kept}' {options}")
    old, new = db.connect(tmp_path / "old.duckdb"), db.connect(tmp_path / "new.duckdb")
    ingest.ingest(old, [str(out)])
    ingest.ingest(new, [str(kept)])
    assert frame(
        old, "SELECT span_type, llm_purpose, count(*) AS n FROM spans WHERE llm_purpose IS NOT NULL GROUP BY ALL"
    ).rows() == [("llm", "classify", llm)]
    assert scalar(new, "SELECT count(llm_purpose) FROM spans") == 0  # the file says NULL: it stays NULL


def test_canonical_csv_broken_rows(tmp_path):
    source = db.connect(tmp_path / "source.duckdb")
    ingest.ingest(source, [str(FIXTURES / "transcript-openai.jsonl")])
    out = tmp_path / "spans.csv"
    source.execute(f"COPY (SELECT * FROM spans ORDER BY trace_id, span_id) TO '{out}' (HEADER)")
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    no_id = {**rows[0], "span_id": ""}
    backwards = {**rows[1], "span_id": "ffffffffffffffff", "end_time": "1999-12-31 00:00:00"}
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writerows([no_id, backwards])
    truncated = next(line for line in out.read_bytes().splitlines()[1:] if line.count(b",") > 10)[:40]
    path = _broken(
        tmp_path, "spans_broken.csv", out.read_bytes(), [text.getvalue().encode().rstrip(b"\n"), truncated, NON_UTF8]
    )
    target = db.connect(tmp_path / "target.duckdb")
    summary = ingest.ingest(target, [str(path)])[0]
    assert summary.format == "canonical"
    assert _reasons(target) == {
        "span without a valid span id": 1,
        "impossible timestamps: end before start": 1,
        "CSV row with the wrong number of fields (truncated or malformed)": 1,
        "non-UTF-8 bytes at column 1": 1,
    }
    assert summary.rows_loaded == 11 and summary.rows_quarantined == 4
    assert _ledger_holds(target)


# --- Session registry ----------------------------------------------------------------------------------------


def test_session_registry_gives_true_coverage(tmp_path):
    con = db.connect(tmp_path / "a.duckdb")
    ingest.ingest(con, [str(FIXTURES / "transcript-openai.jsonl")])
    before = run_metric(con, "trace_coverage").to_dicts()[0]
    assert before["method"] == "estimated_from_completeness"
    registry = str(FIXTURES / "session-registry.csv")
    summary = ingest.ingest(con, [registry], fmt="session-registry")[0]
    assert (summary.format, summary.rows_read, summary.rows_loaded, summary.rows_duplicate) == (
        "session-registry",
        5,
        4,
        1,
    )
    assert scalar(con, "SELECT format FROM sources WHERE path = ?", [registry]) == "session-registry"
    assert frame(con, "SELECT session_id, workflow FROM session_registry ORDER BY 1").rows()[0] == (
        "never-traced-1",
        "billing",
    )
    after = run_metric(con, "trace_coverage").to_dicts()[0]
    assert (after["method"], after["covered_sessions"], after["all_sessions"], after["coverage"]) == (
        "registry",
        2,
        4,
        0.5,
    )
    assert _ledger_holds(con)
    _reingest_changes_nothing(con, [registry], fmt="session-registry")


def test_session_registry_jsonl_broken_rows(tmp_path):
    path = tmp_path / "registry.jsonl"
    path.write_bytes(
        b"\n".join(
            [
                b'{"session_id": "s-1", "started_at": "2025-01-01T00:00:00Z", "workflow": "w"}',
                b'{"session_id": "s-2"}',
                b'{"workflow": "w"}',
                b'{"session_id": "s-3", "started_at": "last tuesday"}',
                b'{"session_id": "s-1"}',
                b'{"session_id": "s-4", "star',
                NON_UTF8,
            ]
        )
        + b"\n"
    )
    con = db.connect(tmp_path / "a.duckdb")
    con.execute("INSERT INTO session_registry VALUES ('s-2', NULL, NULL)")  # already registered: a duplicate
    summary = ingest.ingest(con, [str(path)], fmt="session-registry")[0]
    assert (summary.rows_read, summary.rows_loaded, summary.rows_duplicate, summary.rows_quarantined) == (7, 1, 2, 4)
    assert _reasons(con) == {
        "registry row without a session_id": 1,
        "unreadable started_at (not a timestamp: 'last tuesday')": 1,
        "invalid JSON (truncated or malformed line)": 1,
        "non-UTF-8 bytes at column 1": 1,
    }
    assert _ledger_holds(con)


def test_session_registry_via_cli(tmp_path, capsys):
    database = tmp_path / "a.duckdb"
    code = cli.main(
        ["ingest", str(FIXTURES / "session-registry.csv"), "--format", "session-registry", "--db", str(database)]
    )
    assert code == 0
    assert "[session-registry]: read 5, loaded 4, duplicate 1, quarantined 0" in capsys.readouterr().out


def test_chat_transcripts_under_any_key_behind_a_large_header_are_sniffed(tmp_path):
    """A benchmark results file ({info, tasks, <conversations>}) whose first 64 KiB hold no message is
    recognised by its shape; a mapping with a transcript section implies the format."""
    conversation = {
        "id": "sim-1",
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": None,
                "usage": {"prompt_tokens": 5, "completion_tokens": 2},
                "tool_calls": [{"id": "c1", "name": "lookup", "arguments": {"q": 1}}],
            },
            {"role": "tool", "id": "c1", "content": "found", "error": False},
            {"role": "assistant", "content": "done", "usage": {"prompt_tokens": 9, "completion_tokens": 1}},
        ],
    }
    doc = {"info": {"notes": "x" * 100_000}, "tasks": [{"id": "t1"}], "runs": [conversation]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    con = db.connect(tmp_path / "a.duckdb")
    [summary] = ingest.ingest(con, [str(path)])
    assert (summary.format, summary.rows_loaded) == ("transcript", 4), summary.line()
    assert con.execute(
        "SELECT tool_name, tool_call_id, tool_result FROM spans WHERE span_type = 'tool'"
    ).fetchall() == [("lookup", "c1", "found")]
    mapped = tmp_path / "other.json"
    mapped.write_text(json.dumps({"dialogues": [{"sid": "a", "turns": conversation["messages"]}]}))
    options = {"transcript": {"records": "dialogues", "session_id": "sid", "messages": "turns"}}
    [summary] = ingest.ingest(con, [str(mapped)], options=options)
    assert (summary.format, summary.rows_loaded) == ("transcript", 4), summary.line()
    assert _ledger_holds(con)


def _kv(**attrs) -> list[dict]:
    def value(v):
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        return {"stringValue": v if isinstance(v, str) else json.dumps(v)}

    return [{"key": k.replace("__", "."), "value": value(v)} for k, v in attrs.items()]


def test_older_genai_message_events_and_tool_calls_only_in_messages(tmp_path):
    """The GenAI conventions' older per-message span events (gen_ai.user.message, gen_ai.choice,
    gen_ai.tool.message) are an LLM call's messages; a tool call found only there becomes a tool span,
    joined to its result by call id, and loading again changes nothing."""
    trace, t0 = "5b8aa5a2d2c872e8321cf37308d69df2", 1_796_000_000_000_000_000
    call = {"id": "call_7", "type": "function", "function": {"name": "lookup_order", "arguments": '{"id": 7}'}}

    def span(span_id, start, events, **attrs):
        return {
            "traceId": trace,
            "spanId": span_id,
            "parentSpanId": "a" * 16,
            "name": "chat gpt-4o",
            "kind": 3,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + 10**9),
            "attributes": _kv(gen_ai__operation__name="chat", gen_ai__request__model="gpt-4o", **attrs),
            "events": [{"name": n, "timeUnixNano": str(start), "attributes": _kv(**a)} for n, a in events],
        }

    root = {
        "traceId": trace,
        "spanId": "a" * 16,
        "name": "invoke_agent support",
        "startTimeUnixNano": str(t0),
        "endTimeUnixNano": str(t0 + 5 * 10**9),
        "attributes": _kv(gen_ai__operation__name="invoke_agent"),
    }
    asks = {"index": 0, "message": {"role": "assistant", "tool_calls": [call]}}
    first = span("b" * 16, t0, [("gen_ai.user.message", {"content": "where is order 7?"}), ("gen_ai.choice", asks)])
    second = span(
        "c" * 16,
        t0 + 2 * 10**9,
        [
            ("gen_ai.user.message", {"content": "where is order 7?"}),
            ("gen_ai.assistant.message", {"tool_calls": [call]}),
            ("gen_ai.tool.message", {"id": "call_7", "content": "shipped"}),
            ("gen_ai.choice", {"index": 0, "message": {"role": "assistant", "content": "It shipped."}}),
        ],
    )
    path = tmp_path / "legacy.otlp.jsonl"
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [root, first, second]}]}]}) + "\n")
    con = db.connect(tmp_path / "a.duckdb")
    [summary] = ingest.ingest(con, [str(path)])
    assert (summary.rows_loaded, summary.rows_derived) == (3, 1), summary.line()
    tools = con.execute(
        "SELECT parent_span_id, tool_name, tool_call_id, tool_args, tool_result, derived_from "
        "FROM spans WHERE span_type = 'tool'"
    ).fetchall()
    assert tools == [("b" * 16, "lookup_order", "call_7", '{"id": 7}', "shipped", "llm_message")]
    assert json.loads(scalar(con, f"SELECT input_text FROM spans WHERE span_id = '{'b' * 16}'"))[0]["role"] == "user"
    assert scalar(con, "SELECT sum(rows_loaded) FROM sources") == scalar(
        con, "SELECT count(*) FROM spans WHERE derived_from IS NULL"
    )
    _reingest_changes_nothing(con, [str(path)])
