"""Property tests: random corruptions of a valid OTLP export never crash ingest, every file's ledger
balances, re-ingesting changes nothing, and the DuckDB fast path loads exactly what the reference
Python reader loads (same rows, same quarantine reasons and locators, same ledger counts)."""

from __future__ import annotations

import functools
import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentops_audit import db
from agentops_audit.db import scalar
from agentops_audit.demo import synth
from agentops_audit.ingest import loader, otlp, otlp_sql
from tests.support.odd_otlp import REASONS, broken_lines

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def export() -> bytes:
    """A small valid export: 6 sessions, two per line (not a fixture: hypothesis would print it)."""
    with tempfile.TemporaryDirectory() as tmp:
        synth.generate(tmp, sessions=6, seed=3, batch=2)
        return (Path(tmp) / "traces.otlp.jsonl").read_bytes()


def _truncate(data: bytes, at: int, _arg: int) -> bytes:
    return data[: at % (len(data) + 1)]


def _flip(data: bytes, at: int, arg: int) -> bytes:
    i = at % max(len(data), 1)
    return data[:i] + bytes([arg % 256]) + data[i + 1 :] if data else data


def _bad_utf8(data: bytes, at: int, _arg: int) -> bytes:
    i = at % (len(data) + 1)
    return data[:i] + b"\xff\xfe\xc3" + data[i:]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _delete_line(data: bytes, at: int, _arg: int) -> bytes:
    lines = _lines(data)
    del lines[at % len(lines)]
    return b"\n".join(lines)


def _duplicate_line(data: bytes, at: int, arg: int) -> bytes:
    lines = _lines(data)
    lines.insert(arg % (len(lines) + 1), lines[at % len(lines)])
    return b"\n".join(lines)


_ID = re.compile(rb'"(traceId|spanId|parentSpanId)":"[0-9a-f]*"')
_TIME_PAIR = re.compile(rb'"startTimeUnixNano":"(\d+)","endTimeUnixNano":"(\d+)"')


def _nth(pattern: re.Pattern, data: bytes, at: int, repl) -> bytes:
    matches = list(pattern.finditer(data))
    if not matches:
        return data
    m = matches[at % len(matches)]
    return data[: m.start()] + repl(m) + data[m.end() :]


def _blank_id(data: bytes, at: int, _arg: int) -> bytes:
    return _nth(_ID, data, at, lambda m: b'"' + m.group(1) + b'":""')


def _swap_times(data: bytes, at: int, _arg: int) -> bytes:
    return _nth(
        _TIME_PAIR,
        data,
        at,
        lambda m: b'"startTimeUnixNano":"' + m.group(2) + b'","endTimeUnixNano":"' + m.group(1) + b'"',
    )


CORRUPTIONS = [_truncate, _flip, _bad_utf8, _delete_line, _duplicate_line, _blank_id, _swap_times]
corruptions = st.lists(
    st.tuples(st.sampled_from(CORRUPTIONS), st.integers(0, 2**31), st.integers(0, 2**31)), min_size=1, max_size=4
)


def _corrupt(data: bytes, ops) -> bytes:
    for op, at, arg in ops:
        data = op(data, at, arg)
    return data


def _first_wins(pairs):
    out = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def _difference(a: dict, b: dict) -> str:
    """The first difference between two ``_state``s, named (for a readable failure)."""
    for part in ("ledger", "quarantine"):
        if a[part] != b[part]:
            return f"{part}: {a[part]} != {b[part]}"
    if len(a["spans"]) != len(b["spans"]):
        return f"{len(a['spans'])} spans != {len(b['spans'])}"
    for x, y in zip(a["spans"], b["spans"], strict=True):
        if x != y:
            return "span " + "; ".join(
                f"{n}: {u!r} != {v!r}" for n, u, v in zip(a["columns"], x, y, strict=True) if u != v
            )
    return ""


def _state(con) -> dict:
    """Everything a load leaves behind, comparable across databases (JSON columns parsed)."""
    spans = con.execute("SELECT * EXCLUDE (source_id) FROM spans ORDER BY trace_id, span_id").fetchall()
    names = [d[0] for d in con.description]
    rows = []
    for row in spans:
        rows.append(
            tuple(
                json.loads(v, object_pairs_hook=_first_wins)
                if n in ("attributes", "events", "links") and v is not None
                else v
                for n, v in zip(names, row, strict=True)
            )
        )
    return {
        "columns": names,
        "spans": rows,
        "quarantine": sorted(con.execute("SELECT locator, reason FROM quarantine").fetchall()),
        "ledger": con.execute(
            "SELECT rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_filtered "
            "FROM sources ORDER BY source_id"
        ).fetchall(),
    }


def _load(folder: Path, name: str, path: Path, fast: bool):
    con = db.connect(folder / f"{name}.duckdb")
    summary = loader.load_file(con, path, otlp.NAME, otlp.read, {}, fast=otlp_sql.load if fast else None)
    return con, summary


@SETTINGS
@given(ops=corruptions)
def test_corrupted_exports_load_the_same_on_both_paths_and_balance(ops):
    data = _corrupt(export(), ops)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "traces.otlp.jsonl"
        path.write_bytes(data)
        fast, fast_summary = _load(folder, "fast", path, fast=True)
        ref, ref_summary = _load(folder, "reference", path, fast=False)
        try:
            assert fast_summary.error is None and ref_summary.error is None, (fast_summary.error, ref_summary.error)
            for con in (fast, ref):
                assert scalar(
                    con,
                    "SELECT bool_and(rows_read = rows_loaded + rows_duplicate + rows_quarantined "
                    "+ rows_filtered) FROM sources",
                )
                assert scalar(con, "SELECT rows_loaded FROM sources") == scalar(con, "SELECT count(*) FROM spans")
                assert scalar(con, "SELECT rows_quarantined FROM sources") == scalar(
                    con, "SELECT count(*) FROM quarantine"
                )
            assert _state(fast) == _state(ref), _difference(_state(fast), _state(ref))
            before = _state(fast)
            again = loader.load_file(fast, path, otlp.NAME, otlp.read, {}, fast=otlp_sql.load)
            assert again.skipped and _state(fast) == before
        finally:
            fast.close()
            ref.close()


@settings(max_examples=15, deadline=None)
@given(ops=corruptions, cut=st.integers(0, 2**31))
def test_two_overlapping_corrupted_files_balance_and_reingest_is_idempotent(ops, cut):
    lines = _lines(export())
    k = cut % len(lines)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        first, second = folder / "a.jsonl", folder / "b.jsonl"
        first.write_bytes(_corrupt(b"\n".join(lines[: k + 1]), ops))
        second.write_bytes(b"\n".join(lines[k // 2 :]))  # overlaps the first: duplicates
        con = db.connect(folder / "x.duckdb")
        try:
            from agentops_audit import ingest

            summaries = ingest.ingest(con, [str(first), str(second)], fmt=otlp.NAME)  # an empty file sniffs as nothing
            assert all(s.error is None for s in summaries)
            assert scalar(
                con,
                "SELECT bool_and(rows_read = rows_loaded + rows_duplicate + rows_quarantined "
                "+ rows_filtered) FROM sources",
            )
            assert scalar(con, "SELECT sum(rows_loaded) FROM sources") == scalar(con, "SELECT count(*) FROM spans")
            before = _state(con)
            assert all(s.skipped for s in ingest.ingest(con, [str(first), str(second)], fmt=otlp.NAME))
            assert _state(con) == before
        finally:
            con.close()


# Unusual but parseable OTLP: every field drawn from valid, odd and wrong values, so both readers take
# every branch (base64 ids, events, links, kvlists, nested arrays, numbers as strings, wrong types, ...).
_TRACE_IDS = [
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "4BF92F3577B34DA6A3CE929D0E0E4736",
    "S/kvNXezTaajzpKdDg5HNg==",
    "",
    "00000000000000000000000000000000",
    None,
    5,
    "xyz",
]
_SPAN_IDS = ["00f067aa0ba902b7", "00f067aa0ba902b8", "APBnqgupArc=", "", "0000000000000000", None, 7, "zz"]
_TIMES = [
    "1794182400000000000",
    1794182400000000000,
    "1794182401000000000",
    "0",
    None,
    "",
    "abc",
    1.5e18,
    "17941824000000000000000",
    -5,
    "00001794182400000000000",
]
_VALUES = [
    {"stringValue": "x"},
    {"stringValue": 'a"b\\n\u00e9'},
    {"stringValue": 5},
    {"stringValue": {"o": 1}},
    {"stringValue": ["l", 2]},
    {"intValue": "42"},
    {"intValue": 42},
    {"intValue": "3000000000"},
    {"doubleValue": 1.5},
    {"doubleValue": 3},
    {"doubleValue": "2.5"},
    {"doubleValue": 1e20},
    {"boolValue": True},
    {"boolValue": "false"},
    {"bytesValue": "AAE="},
    {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "1"}, {"boolValue": False}]}},
    {"arrayValue": {"values": [{"doubleValue": 1.5}]}},
    {"arrayValue": {}},
    {"arrayValue": {"values": [{}]}},
    {"arrayValue": {"values": [{"arrayValue": {}}]}},
    {"arrayValue": "x"},
    {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}},
    {},
    {"stringValue": None, "intValue": "3"},
    {"stringValue": "s", "intValue": "3"},
    None,
    "str",
]
_BAD_VALUES = [{"intValue": "4.2"}, {"intValue": "abc"}, {"intValue": "123456789012345678901"}, {"doubleValue": "x"}]
_KEYS = [
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.operation.name",
    "gen_ai.tool.name",
    "tool.name",
    "agentops.policy.decision",
    "agentops.approval.status",
    "agentops.retry.attempt",
    "agentops.cost.usd",
    "agentops.retrieval.document_ids",
    "gen_ai.conversation.id",
    "session.id",
    "resource.service.name",
    "service.name",
    "custom.key",
    'q"k',
    5,
    None,
]
_OPERATIONS = ["chat", "execute_tool", "TOOL", "retrieval", "", "unknown"]


@st.composite
def _attributes(draw):
    out = []
    for _ in range(draw(st.integers(0, 5))):
        key = draw(st.sampled_from(_KEYS))
        if key == "gen_ai.operation.name" and draw(st.booleans()):
            value = {"stringValue": draw(st.sampled_from(_OPERATIONS))}
        else:
            value = draw(st.sampled_from(_BAD_VALUES if draw(st.integers(0, 9)) == 9 else _VALUES))
        pair = {"key": key, "value": value}
        out.append(pair if draw(st.integers(0, 9)) < 9 else draw(st.sampled_from([{"value": value}, "not-a-pair"])))
    return out


def _usually(draw, valid, odd: list):
    """A valid value nine times out of ten, else an odd one."""
    return draw(st.sampled_from(odd)) if draw(st.integers(0, 9)) == 9 else draw(valid)


@st.composite
def _spans(draw):
    span = {}
    snake = draw(st.integers(0, 9)) == 9
    ids = {
        "traceId": (st.integers(1, 2**128 - 1).map(lambda n: f"{n:032x}"), _TRACE_IDS),
        "spanId": (st.integers(1, 2**64 - 1).map(lambda n: f"{n:016x}"), _SPAN_IDS),
        "parentSpanId": (st.integers(1, 2**64 - 1).map(lambda n: f"{n:016x}"), _SPAN_IDS),
    }
    for field, (valid, odd) in ids.items():
        if draw(st.integers(0, 9)) < 9:
            name = (
                {"traceId": "trace_id", "spanId": "span_id", "parentSpanId": "parent_span_id"}[field]
                if snake
                else field
            )
            span[name] = _usually(draw, valid, odd)
    start = 1794182400000000000 + draw(st.integers(0, 10**12))
    span["startTimeUnixNano"] = _usually(draw, st.just(str(start)), _TIMES)
    if draw(st.booleans()):
        span["endTimeUnixNano"] = _usually(draw, st.just(str(start + draw(st.integers(0, 10**10)))), _TIMES)
    for field, pool in (
        ("name", ["n", "", None, 5]),
        ("kind", [1, 3, "SPAN_KIND_CLIENT", "server", "7", 9, None, 2.5, True, {}]),
        (
            "status",
            [{"code": 2, "message": "boom"}, {"code": "STATUS_CODE_ERROR"}, {"code": "2"}, {"message": ""}, None, "OK"],
        ),
        (
            "events",
            [
                None,
                [],
                [{"name": "exception", "attributes": [{"key": "exception.type", "value": {"stringValue": "E"}}]}],
                {},
            ],
        ),
        ("links", [None, [], [{"traceId": "4bf92f3577b34da6a3ce929d0e0e4736"}], 0, "x", {}]),
    ):
        if draw(st.booleans()):
            span[field] = draw(st.sampled_from(pool))
    span["attributes"] = draw(_attributes())
    return span if draw(st.integers(0, 19)) < 19 else draw(st.sampled_from([None, "span"]))


@st.composite
def _documents(draw):
    batches = []
    for _ in range(draw(st.integers(1, 3))):
        scopes = [{"spans": draw(st.lists(_spans(), max_size=4))} for _ in range(draw(st.integers(0, 2)))]
        batch = {"resource": {"attributes": draw(_attributes())}, "scopeSpans": scopes}
        odd = [{"scopeSpans": {}}, {"scope_spans": scopes}, "batch"]
        batches.append(batch if draw(st.integers(0, 9)) < 9 else draw(st.sampled_from(odd)))
    odd = [{"resource_spans": batches}, {"other": 1}, [1]]
    return {"resourceSpans": batches} if draw(st.integers(0, 9)) < 9 else draw(st.sampled_from(odd))


@settings(
    max_examples=int(__import__("os").environ.get("ODD_EXAMPLES", 40)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(docs=st.lists(_documents(), min_size=1, max_size=4), blank=st.booleans())
def test_fast_path_matches_the_reference_reader_on_unusual_otlp(docs, blank):
    lines = [json.dumps(d) for d in docs]
    if blank:
        lines.insert(0, "   ")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "odd.jsonl"
        path.write_text("\n".join(lines) + "\n")
        fast, fast_summary = _load(folder, "fast", path, fast=True)
        ref, ref_summary = _load(folder, "reference", path, fast=False)
        try:
            assert fast_summary.error is None and ref_summary.error is None, (fast_summary.error, ref_summary.error)
            assert _state(fast) == _state(ref), _difference(_state(fast), _state(ref))
        finally:
            fast.close()
            ref.close()


def _known_cases() -> dict[str, bytes]:
    lines = _lines(export())
    span = {
        "traceId": "S/kvNXezTaajzpKdDg5HNg==",
        "spanId": "APBnqgupArc=",
        "name": "b64",
        "startTimeUnixNano": "1794182400000000000",
        "endTimeUnixNano": "1794182401000000000",
    }
    one = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
    return {
        "broken lines": broken_lines(lines),
        "one document, pretty-printed": json.dumps(json.loads(lines[0]), indent=2).encode(),
        "one document on line 3": b"\n\n" + one.encode() + b"\n\n",
        "base64 ids": (one + "\n" + one.replace("b64", "again") + "\n").encode(),
        "NaN and trailing comma": lines[0]
        + b"\n"
        + lines[1].replace(b'"kind":3', b'"kind":NaN', 1)
        + b"\n"
        + lines[2].replace(b"]}]}]}", b",]}]}]}", 1)
        + b"\n",
        "blank and whitespace lines": b"\n  \n\t\n" + lines[0] + b"\r\n\x0c\n" + lines[1] + b"\n",
        "empty": b"",
    }


def test_fast_path_matches_the_reference_reader_on_known_cases(tmp_path):
    for name, data in _known_cases().items():
        folder = tmp_path / name.replace(" ", "-").replace(",", "")
        folder.mkdir()
        path = folder / "traces.jsonl"
        path.write_bytes(data)
        fast, fast_summary = _load(folder, "fast", path, fast=True)
        ref, ref_summary = _load(folder, "reference", path, fast=False)
        try:
            assert fast_summary.error is None and ref_summary.error is None, name
            assert _state(fast) == _state(ref), (name, _difference(_state(fast), _state(ref)))
            if name == "broken lines":
                reasons = dict(fast.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1").fetchall())
                assert reasons == REASONS, name
            if name == "base64 ids":
                assert fast.execute("SELECT DISTINCT trace_id, span_id FROM spans").fetchall() == [
                    ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
                ]
                assert fast_summary.rows_duplicate == 1
            if name == "NaN and trailing comma":  # DuckDB reads the NaN line, orjson does not: loaded again, staged
                assert fast_summary.staged and not ref_summary.staged
            if name == "one document on line 3":
                assert fast_summary.rows_loaded == 1
        finally:
            fast.close()
            ref.close()
