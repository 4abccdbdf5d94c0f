"""Load test of `agentops-audit receive` over loopback: a bounded number of OTLP/HTTP requests, then SIGTERM.

    python bench/receiver.py [--requests 400] [--spans 100] [--clients 4] [--encoding protobuf|json] [--gzip]

Starts the real receiver (`python -m agentops_audit.cli receive --port 0`) on 127.0.0.1 with a fresh database,
sends `--requests` ExportTraceServiceRequests of `--spans` spans each (agent sessions: one root, LLM and tool
spans; every id unique) from `--clients` threads on keep-alive connections, then stops it with SIGTERM and waits
for it to load the last segment. Reports, as Markdown: request latency (p50, p99, max, from sending the body to
the end of the answer), spans accepted per second (first request to last answer), and end to end (first
request to every span in the database, the shutdown's final load included), with the spans counted in the
database. The requests are built before the clock starts, so client-side encoding is not measured.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span


def _kv(key: str, value) -> KeyValue:
    any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=str(value))
    return KeyValue(key=key, value=any_value)


def build(index: int, spans: int, rng: random.Random) -> ExportTraceServiceRequest:
    """One request: sessions of 5 spans (agent root, 2 LLM calls, 2 tool calls) until `spans` spans."""
    now = time.time_ns() - 3_600 * 10**9
    out = []
    while len(out) < spans:
        trace_id, root = rng.randbytes(16), rng.randbytes(8)
        session = f"bench-{index}-{len(out)}"
        start = now + len(out) * 10**6
        out.append(
            Span(
                trace_id=trace_id,
                span_id=root,
                name="invoke_agent",
                kind=1,
                start_time_unix_nano=start,
                end_time_unix_nano=start + 900 * 10**6,
                attributes=[
                    _kv("gen_ai.operation.name", "invoke_agent"),
                    _kv("gen_ai.conversation.id", session),
                    _kv("agentops.session.outcome", "success"),
                ],
            )
        )
        for k in range(4):
            if len(out) >= spans:
                break
            tool = k % 2 == 1
            attrs = (
                [
                    _kv("gen_ai.operation.name", "execute_tool"),
                    _kv("gen_ai.tool.name", "lookup_order"),
                    _kv("gen_ai.tool.call.id", f"{session}-{k}"),
                    _kv("gen_ai.tool.call.arguments", '{"id": 1}'),
                ]
                if tool
                else [
                    _kv("gen_ai.operation.name", "chat"),
                    _kv("gen_ai.request.model", "gpt-4o-mini"),
                    _kv("gen_ai.usage.input_tokens", 350),
                    _kv("gen_ai.usage.output_tokens", 40),
                ]
            )
            out.append(
                Span(
                    trace_id=trace_id,
                    span_id=rng.randbytes(8),
                    parent_span_id=root,
                    name="step",
                    kind=1,
                    start_time_unix_nano=start + (k + 1) * 10**8,
                    end_time_unix_nano=start + (k + 2) * 10**8,
                    attributes=attrs,
                )
            )
    resource = ResourceSpans(scope_spans=[ScopeSpans(spans=out)])
    resource.resource.attributes.append(_kv("service.name", "bench"))
    return ExportTraceServiceRequest(resource_spans=[resource])


def encode(request: ExportTraceServiceRequest, encoding: str, compress: bool) -> tuple[bytes, dict]:
    if encoding == "json":
        from agentops_audit.integrations.otlp_proto import from_protobuf

        body, ctype = json.dumps(from_protobuf(request.SerializeToString())).encode(), "application/json"
    else:
        body, ctype = request.SerializeToString(), "application/x-protobuf"
    headers = {"Content-Type": ctype}
    if compress:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return body, headers


def launch(db: Path, spool: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """The real receiver on a free loopback port (``--port 0``), and the first line it printed (its URL)."""
    cmd = [sys.executable, "-m", "agentops_audit.cli", "receive", "--port", "0"]
    cmd += ["--db", str(db), "--spool", str(spool), *options]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return proc, proc.stdout.readline()


def start(db: Path, spool: Path, flush: float) -> tuple[subprocess.Popen, str, int]:
    proc, line = launch(db, spool, "--flush-seconds", str(flush))
    url = line.split(" at ", 1)[1].split(" ", 1)[0]
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    return proc, host, int(port)


def client(host: str, port: int, bodies: list, latencies: list, errors: list) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    for body, headers in bodies:
        sent = time.perf_counter()
        conn.request("POST", "/v1/traces", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        latencies.append(time.perf_counter() - sent)
        if resp.status != 200:
            errors.append(resp.status)
    conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--spans", type=int, default=100, help="spans per request")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--encoding", choices=("protobuf", "json"), default="protobuf")
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--flush-seconds", type=float, default=1.0, help="the receiver's load interval")
    args = parser.parse_args(argv)
    rng = random.Random(7)
    bodies = [encode(build(i, args.spans, rng), args.encoding, args.gzip) for i in range(args.requests)]
    work = Path(tempfile.mkdtemp(prefix="bench-receiver-"))
    proc, host, port = start(work / "live.duckdb", work / "spool", args.flush_seconds)
    latencies: list[float] = []
    errors: list[int] = []
    shares = [bodies[k :: args.clients] for k in range(args.clients)]
    threads = [threading.Thread(target=client, args=(host, port, share, latencies, errors)) for share in shares]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = time.perf_counter() - began
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    loaded = time.perf_counter() - began
    import duckdb

    con = duckdb.connect(str(work / "live.duckdb"), read_only=True)
    stored, files = con.execute("SELECT (SELECT count(*) FROM spans), (SELECT count(*) FROM sources)").fetchall()[0]
    con.close()
    spans = args.requests * args.spans
    lat = sorted(latencies)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    size = sum(len(b) for b, _ in bodies) / len(bodies)
    print(
        "| requests | spans/request | clients | body | flush s | avg body | errors | p50 ms | p99 ms | max ms | "
        "accepted spans/s | end-to-end spans/s | spans in DB | spool files |"
    )
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.requests} | {args.spans} | {args.clients} | {args.encoding}{'+gzip' if args.gzip else ''} | "
        f"{args.flush_seconds:g} | "
        f"{size / 1024:.1f} KiB | {len(errors)} | {statistics.median(lat) * 1000:.1f} | {p99 * 1000:.1f} | "
        f"{lat[-1] * 1000:.1f} | {spans / accepted:,.0f} | {spans / loaded:,.0f} | {stored:,} | {files} |"
    )
    if proc.returncode != 0 or stored != spans or errors:
        print(f"receiver exit {proc.returncode}; {err[-2000:]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
