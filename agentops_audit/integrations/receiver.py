"""``agentops-audit receive``: a local OTLP/HTTP trace receiver that loads what it receives into an audit
database through the same ingest, ledger and quarantine as exported files (``spool``).

``POST /v1/traces`` takes an ``ExportTraceServiceRequest`` as protobuf (``application/x-protobuf``, what
OpenTelemetry SDK exporters send by default) or OTLP/JSON (``application/json``), plain, gzip or deflate.
The answer follows OTLP/HTTP: 200 with an ``ExportTraceServiceResponse`` in the request's encoding, whose
``partialSuccess`` counts the spans that will be quarantined (no valid id, impossible timestamps, ...);
400 with the reason when the body cannot be read (the body is kept and quarantined); 413 when the body is
larger than ``max_body`` (refused before it is read); 415 for another Content-Type; 503 while shutting
down (the exporter retries). ``GET /healthz`` answers 200.

The receiver binds 127.0.0.1 by default and has no authentication. On SIGTERM or SIGINT it stops
accepting, lets the requests in progress finish, seals the open spool segment and loads it: a request
answered 200 is in the spool, and in the database unless the database stayed busy (then it loads at the
next start).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson

from agentops_audit.integrations import otlp_proto
from agentops_audit.integrations.spool import Loader, Spool

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 4318
DEFAULT_MAX_BODY = 16 << 20  # bytes, before and after decompression
TRACES_PATH = "/v1/traces"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def default_spool(db_path: str | Path) -> Path:
    return Path(f"{db_path}.spool")


class Receiver:
    """The HTTP server, its spool and its loader. ``serve`` runs until ``stop`` is set, then closes cleanly."""

    def __init__(
        self,
        db_path: str | Path,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        spool_dir: str | Path | None = None,
        interval: float = 1.0,
        max_body: int = DEFAULT_MAX_BODY,
        echo: Callable[[str], None] = print,
    ):
        self.max_body, self.echo = max_body, echo
        self.spool = Spool(spool_dir or default_spool(db_path))
        self.loader = Loader(self.spool, db_path, interval, echo, limit=max_body)
        self.stats: Counter = Counter()
        self._closing, self._inflight = False, 0
        self._cond = threading.Condition()
        handler = type("OtlpHandler", (_Handler,), {"receiver": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True  # idle keep-alive connections must not hold the shutdown

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{TRACES_PATH}"

    def count(self, **kv: int) -> None:
        with self._cond:
            self.stats.update(kv)

    # ---------------------------------------------------------------- request life cycle

    def enter(self) -> bool:
        """A request starts; False once shutting down (it is answered 503)."""
        with self._cond:
            if self._closing:
                return False
            self._inflight += 1
            return True

    def leave(self) -> None:
        with self._cond:
            self._inflight -= 1
            self._cond.notify_all()

    def accept(self, body: bytes, content_type: str | None, encoding: str | None) -> tuple[int, dict, str]:
        """(HTTP status, response fields, media type of the response) for one request body."""
        from agentops_audit.ingest.otlp import NOT_OTLP, batches_of

        try:
            kind = otlp_proto.media_type(content_type)
        except otlp_proto.BadRequest as exc:
            self._reject(body, None, encoding)
            return 415, {"code": 3, "message": str(exc)}, "application/json"
        try:
            kind, doc = otlp_proto.decode(body, content_type, encoding, self.max_body)
        except otlp_proto.TooLarge as exc:
            self._reject(body, kind, encoding)
            return 413, {"code": 3, "message": str(exc)}, kind
        except otlp_proto.BadRequest as exc:
            self._reject(body, kind, encoding)
            return 400, {"code": 3, "message": f"{exc}; the body was kept and quarantined"}, kind
        batches = batches_of(doc)
        if batches is None or not isinstance(doc, dict):
            self._reject(body, kind, encoding)
            return 400, {"code": 3, "message": f"{NOT_OTLP}; the body was kept and quarantined"}, kind
        spans, rejected, reason = self._check(batches)
        self.spool.append(orjson.dumps(doc))
        self.count(requests=1, spans=spans, spans_rejected=rejected)
        if not rejected:
            return 200, {}, kind
        return (
            200,
            {
                "partialSuccess": {
                    "rejectedSpans": rejected,
                    "errorMessage": f"{rejected} of {spans} spans will be quarantined, e.g. {reason}",
                }
            },
            kind,
        )

    def _check(self, batches: list) -> tuple[int, int, str | None]:
        """(spans, spans the ingest will quarantine for their ids or timestamps, the first reason). The ingest
        also quarantines a span whose attributes have the wrong type; reading every attribute here would halve
        the receiver's throughput, so those show in the ledger and the quarantine only."""
        from agentops_audit.ingest.otlp import spans_of

        total = rejected = 0
        reason = None
        for span, _ in spans_of(batches):
            total += 1
            problem = span_problem(span)
            if problem:
                rejected += 1
                reason = reason or problem
        return total, rejected, reason

    def _reject(self, body: bytes, kind: str | None, encoding: str | None) -> None:
        self.spool.reject(body, kind, encoding)
        self.count(requests_rejected=1)

    # ---------------------------------------------------------------- running and stopping

    def serve(self, stop: threading.Event) -> bool:
        """Serve until ``stop`` is set, then ``close``; return what ``close`` returns."""
        self.loader.start()
        thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, name="agentops-otlp-http", daemon=True
        )
        thread.start()
        try:
            stop.wait()
        finally:
            done = self.close()
            thread.join(5)
        return done

    def close(self, drain_timeout: float = 30.0) -> bool:
        """Stop accepting, wait for the requests in progress, load what is left; True when the spool is
        empty (everything is in the database)."""
        with self._cond:
            self._closing = True
        self.server.shutdown()
        with self._cond:
            self._cond.wait_for(lambda: self._inflight == 0, timeout=drain_timeout)
        self.server.server_close()
        return self.loader.stop()


def span_problem(span) -> str | None:
    """Why the ingest (``otlp.span_row``) will quarantine ``span`` for its ids or timestamps, in its words."""
    from agentops_audit.ingest.otlp import MAX_NS, MIN_NS, hex_id

    if not isinstance(span, dict):
        return "span without a valid trace id"
    if hex_id(span.get("traceId", span.get("trace_id")), 16) is None:
        return "span without a valid trace id"
    if hex_id(span.get("spanId", span.get("span_id")), 8) is None:
        return "span without a valid span id"
    try:
        start = int(span.get("startTimeUnixNano", span.get("start_time_unix_nano")) or 0)
        end = int(span.get("endTimeUnixNano", span.get("end_time_unix_nano")) or 0)
    except (TypeError, ValueError, OverflowError):
        return "timestamp is not an integer"
    if start < MIN_NS:
        return "impossible start timestamp (missing, or before 2000)"
    if end and end < start:
        return "impossible timestamps: end before start"
    if start > MAX_NS or end > MAX_NS:
        return "impossible timestamp (after 2262)"
    return None


def _status_message(fields: dict) -> bytes:
    """A google.rpc.Status in protobuf when the package is there, else the message as text."""
    try:
        from google.rpc import status_pb2
    except ImportError:
        return fields.get("message", "").encode()
    return status_pb2.Status(code=fields.get("code", 0), message=fields.get("message", "")).SerializeToString()


def _encode(status: int, fields: dict, kind: str) -> tuple[bytes, str]:
    if kind != "application/x-protobuf":
        return orjson.dumps(fields), "application/json"
    if status != 200:
        return _status_message(fields), "application/x-protobuf"
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    response = ExportTraceServiceResponse()
    partial = fields.get("partialSuccess")
    if partial:
        response.partial_success.rejected_spans = partial["rejectedSpans"]
        response.partial_success.error_message = partial["errorMessage"]
    return response.SerializeToString(), "application/x-protobuf"


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver
    protocol_version = "HTTP/1.1"  # keep-alive, as exporters expect
    timeout = 60  # an idle keep-alive connection is closed after a minute
    server_version = "agentops-audit-otlp"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        return  # one line per request would drown the loader's lines

    def _send(self, status: int, body: bytes, media: str, close: bool = False, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, close: bool = False, headers: dict | None = None) -> None:
        self._send(status, orjson.dumps({"code": 3, "message": message}), "application/json", close, headers)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?", 1)[0] == "/healthz":
            self._send(200, b"ok\n", "text/plain")
        elif self.path.split("?", 1)[0] == TRACES_PATH:
            self._error(405, "use POST", headers={"Allow": "POST"})
        else:
            self._error(404, f"not found: this receiver takes traces at POST {TRACES_PATH}")

    def do_POST(self) -> None:  # noqa: N802
        if self.path.split("?", 1)[0] != TRACES_PATH:
            self._error(404, f"not found: this receiver takes traces at POST {TRACES_PATH}", close=True)
            return
        receiver = self.receiver
        if not receiver.enter():
            self._error(503, "the receiver is shutting down; retry", close=True, headers={"Retry-After": "1"})
            return
        try:
            self._post(receiver)
        finally:
            receiver.leave()

    def _post(self, receiver: Receiver) -> None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._error(411, "send a Content-Length header (chunked bodies are not accepted)", close=True)
            return
        length = int(length)
        if length > receiver.max_body:
            receiver.count(requests_too_large=1)
            self._error(
                413,
                f"the body ({length:,} bytes) is larger than the limit of {receiver.max_body:,} bytes; "
                "send smaller batches",
                close=True,
            )
            return
        body = self.rfile.read(length)
        if len(body) < length:  # the client went away mid-body: keep what arrived
            receiver._reject(body, None, self.headers.get("Content-Encoding"))
            return
        status, fields, kind = receiver.accept(
            body, self.headers.get("Content-Type"), self.headers.get("Content-Encoding")
        )
        payload, media = _encode(status, fields, kind)
        self._send(status, payload, media)
