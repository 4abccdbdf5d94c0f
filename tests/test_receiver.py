"""The OTLP/HTTP receiver, run as the real `agentops-audit receive` process on 127.0.0.1, fed by the real
OpenTelemetry SDK and its OTLP/HTTP protobuf exporter, stopped with SIGTERM."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")

from opentelemetry.exporter.otlp.proto.http import Compression  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor  # noqa: E402
from opentelemetry.trace import Status, StatusCode  # noqa: E402

from tests.support.bench import module as bench_module  # noqa: E402

launch = bench_module("receiver").launch


class Running:
    def __init__(self, proc: subprocess.Popen, url: str, db: Path, spool: Path):
        self.proc, self.url, self.db, self.spool = proc, url, db, spool

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


def start(tmp: Path, *extra: str, db: Path | None = None) -> Running:
    db = db or tmp / "live.duckdb"
    spool = tmp / "spool"
    proc, line = launch(db, spool, *extra)
    assert "Receiving OTLP/HTTP traces at http://127.0.0.1:" in line, line + proc.stderr.read()
    return Running(proc, line.split(" at ", 1)[1].split(" ", 1)[0], db, spool)


def provider(url: str, simple: bool = False, compression=Compression.NoCompression) -> TracerProvider:
    prov = TracerProvider(resource=Resource.create({"service.name": "support-bot", "service.version": "2.1"}))
    exporter = OTLPSpanExporter(endpoint=url, compression=compression, timeout=10)
    prov.add_span_processor(SimpleSpanProcessor(exporter) if simple else BatchSpanProcessor(exporter))
    return prov


def agent_session(tracer, session: str, fail: bool = False) -> None:
    with tracer.start_as_current_span(
        "invoke_agent support",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.conversation.id": session,
            "agentops.session.outcome": "failure" if fail else "success",
        },
    ):
        with tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 30,
            },
        ):
            pass
        with tracer.start_as_current_span(
            "execute_tool lookup_order",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "lookup_order",
                "gen_ai.tool.call.id": f"call-{session}",
                "gen_ai.tool.call.arguments": '{"order": "A1"}',
            },
        ) as span:
            if fail:
                span.set_status(Status(StatusCode.ERROR, "order service down"))


def query(db: Path, sql: str) -> list:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def post(url: str, body: bytes, content_type: str, encoding: str | None = None) -> tuple[int, bytes, dict]:
    headers = {"Content-Type": content_type, **({"Content-Encoding": encoding} if encoding else {})}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def ledger_balances(db: Path) -> None:
    rows = query(db, "SELECT rows_read, rows_loaded + rows_duplicate + rows_quarantined + rows_filtered FROM sources")
    assert rows and all(read == total for read, total in rows)


def test_real_exporter_protobuf_gzip_is_loaded_through_the_ingest(tmp_path):
    rx = start(tmp_path, "--flush-seconds", "0.3")
    prov = provider(rx.url, compression=Compression.Gzip)
    tracer = prov.get_tracer("shop")
    for i in range(5):
        agent_session(tracer, f"sess-{i}", fail=i == 3)
    assert prov.force_flush(10_000)
    prov.shutdown()
    code, out, err = rx.stop()
    assert code == 0, err
    assert "5 requests" in out or "requests accepted" in out
    spans = query(
        rx.db,
        "SELECT span_type, session_id, tool_name, tool_call_id, status_code, input_tokens, "
        "service_name, service_version, trace_id, span_id FROM spans",
    )
    assert len(spans) == 15
    assert {s[0] for s in spans} == {"agent", "llm", "tool"}
    tools = [s for s in spans if s[0] == "tool"]
    assert sorted(s[3] for s in tools) == [f"call-sess-{i}" for i in range(5)]
    assert [s[4] for s in tools].count("ERROR") == 1
    assert {s[6] for s in spans} == {"support-bot"} and {s[7] for s in spans} == {"2.1"}
    assert all(len(s[8]) == 32 and len(s[9]) == 16 for s in spans)  # hex ids, as OTLP/JSON writes them
    sources = query(rx.db, "SELECT path, format, rows_read, rows_loaded FROM sources")
    assert sum(s[3] for s in sources) == 15 and {s[1] for s in sources} == {"otlp"}
    assert all(Path(s[0]).parent == rx.spool.resolve() and Path(s[0]).exists() for s in sources)
    ledger_balances(rx.db)
    # the sessions are whole: one root per trace, every child under it
    assert query(
        rx.db,
        "SELECT count(*) FROM spans WHERE parent_span_id IS NOT NULL AND parent_span_id NOT IN "
        "(SELECT span_id FROM spans)",
    ) == [(0,)]


def test_json_partial_success_and_broken_requests_are_kept_and_quarantined(tmp_path):
    rx = start(tmp_path, "--flush-seconds", "0.3", "--max-body-mb", "0.05")
    now = time.time_ns()
    good = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "invoke_agent",
        "startTimeUnixNano": str(now),
        "endTimeUnixNano": str(now + 10**6),
        "attributes": [{"key": "gen_ai.conversation.id", "value": {"stringValue": "s-json"}}],
    }
    bad = {**good, "traceId": "", "spanId": "eee19b7ec3c1b175"}
    request = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [good, bad]}]}]}
    status, body, _ = post(rx.url, json.dumps(request).encode(), "application/json")
    assert status == 200
    partial = json.loads(body)["partialSuccess"]
    assert partial["rejectedSpans"] == 1 and "trace id" in partial["errorMessage"]
    status, body, _ = post(rx.url, gzip.compress(json.dumps(request).encode()), "application/json", "gzip")
    assert status == 200  # the same request again, gzip: its spans are duplicates in the ledger

    status, body, _ = post(rx.url, b'{"resourceSpans": [{"scopeSpans": [', "application/json")
    assert status == 400 and "not valid JSON" in json.loads(body)["message"]
    status, body, _ = post(rx.url, b"\x0a\xff\xff\xff\xff\x0f garbage", "application/x-protobuf")
    assert status == 400
    status, body, _ = post(rx.url, b'{"hello": "world"}', "application/json")
    assert status == 400 and "no resourceSpans" in json.loads(body)["message"]
    status, body, _ = post(rx.url, b"x" * 60_000, "application/json")
    assert status == 413 and "larger than the limit" in json.loads(body)["message"]
    status, body, _ = post(rx.url, b"{}", "text/plain")
    assert status == 415
    with urllib.request.urlopen(rx.url.replace("/v1/traces", "/healthz"), timeout=5) as resp:
        assert resp.status == 200
    code, out, err = rx.stop()
    assert code == 0, err

    assert query(rx.db, "SELECT trace_id, session_id FROM spans") == [("5b8efff798038103d269b633813fc60c", "s-json")]
    reasons = [r[0] for r in query(rx.db, "SELECT reason FROM quarantine ORDER BY source_id")]
    assert reasons.count("span without a valid trace id") == 2  # once per request that carried it
    rejected = [r for r in reasons if r.startswith("OTLP/HTTP request rejected")]
    assert len(rejected) == 4  # broken JSON, broken protobuf, not OTLP, unsupported Content-Type
    assert any("not valid JSON" in r for r in rejected) and any("protobuf" in r for r in rejected)
    formats = query(rx.db, "SELECT format, count(*) FROM sources GROUP BY format ORDER BY format")
    assert dict(formats)["otlp-http"] == 4
    excerpts = query(rx.db, "SELECT excerpt FROM quarantine WHERE reason LIKE '%not valid JSON%'")
    assert excerpts and '"resourceSpans"' in excerpts[0][0]  # what arrived is kept (masked)
    assert len(list((rx.spool / "rejected").iterdir())) == 4
    ledger_balances(rx.db)


def test_sigterm_loads_the_last_batch(tmp_path):
    """With a flush interval far beyond the test, only the shutdown can load the spool: nothing is lost."""
    rx = start(tmp_path, "--flush-seconds", "3600")
    prov = provider(rx.url, simple=True)  # one request per span, each answered before the next
    tracer = prov.get_tracer("shop")
    for i in range(20):
        agent_session(tracer, f"late-{i}")
    prov.shutdown()
    assert query_files(rx.spool) >= 1
    code, out, err = rx.stop()
    assert code == 0, err
    assert query(rx.db, "SELECT count(*) FROM spans") == [(60,)]
    assert query(rx.db, "SELECT count(DISTINCT session_id) FROM spans WHERE session_id IS NOT NULL") == [(20,)]


def query_files(spool: Path) -> int:
    return len(list(spool.glob("segment-*")))


def test_a_killed_receiver_loses_nothing_it_answered_and_a_restart_loads_it_once(tmp_path):
    rx = start(tmp_path, "--flush-seconds", "3600")
    prov = provider(rx.url, simple=True)
    tracer = prov.get_tracer("shop")
    for i in range(4):
        agent_session(tracer, f"crash-{i}")
    prov.shutdown()
    rx.stop(signal.SIGKILL)  # no clean shutdown: the open segment stays .part
    assert list(rx.spool.glob("segment-*.jsonl.part"))
    assert query(rx.db, "SELECT count(*) FROM spans") == [(0,)]

    again = start(tmp_path, "--flush-seconds", "0.2", db=rx.db)
    code, _, err = again.stop()
    assert code == 0, err
    assert query(rx.db, "SELECT count(*) FROM spans") == [(12,)]
    before = query(rx.db, "SELECT count(*), sum(rows_read) FROM sources")

    third = start(tmp_path, "--flush-seconds", "0.2", db=rx.db)  # nothing new: nothing loaded twice
    code, out, err = third.stop()
    assert code == 0, err
    assert query(rx.db, "SELECT count(*), sum(rows_read) FROM sources") == before
    assert "0 spool files loaded" in out


def test_a_busy_database_keeps_requests_in_the_spool_until_it_is_free(tmp_path):
    rx = start(tmp_path, "--flush-seconds", "0.2")
    reader = duckdb.connect(str(rx.db), read_only=True)  # an audit reading the database holds DuckDB's lock
    try:
        prov = provider(rx.url, simple=True)
        agent_session(prov.get_tracer("shop"), "busy-1")
        prov.shutdown()
        time.sleep(1.0)
        # spooled, not loaded: one file per flush tick that saw requests (the three spans' exports may span
        # two ticks on a loaded machine)
        assert query_files(rx.spool) >= 1
        assert reader.execute("SELECT count(*) FROM spans").fetchall() == [(0,)]
    finally:
        reader.close()
    deadline = time.time() + 20
    while time.time() < deadline:  # the next tick after the reader let go loads it
        try:
            if query(rx.db, "SELECT count(*) FROM spans") == [(3,)]:
                break
        except duckdb.IOException:
            pass  # the receiver is loading right now
        time.sleep(0.2)
    code, out, err = rx.stop()
    assert code == 0, err
    assert "busy" in out
    assert query(rx.db, "SELECT count(*) FROM spans") == [(3,)]


def test_port_in_use_is_one_line(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentops_audit.cli",
                "receive",
                "--db",
                str(tmp_path / "x.duckdb"),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("agentops-audit: error: cannot listen on 127.0.0.1:")
    assert "Traceback" not in proc.stderr
