"""An OTLP/JSON Lines file with every kind of broken line, shared by the ingest tests (the reader's
quarantine, and the fast path against the reference reader): what each line is quarantined for."""

from __future__ import annotations

# one request whose three spans are bad: no trace id, end before start, start at 0
BAD_SPANS = (
    b'{"resourceSpans":[{"scopeSpans":[{"spans":['
    b'{"traceId":"","spanId":"00f067aa0ba902b7","startTimeUnixNano":"1794182400000000000"},'
    b'{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",'
    b'"startTimeUnixNano":"1794182400000000000","endTimeUnixNano":"1794182300000000000"},'
    b'{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b8",'
    b'"startTimeUnixNano":"0"}]}]}]}'
)
# what broken_lines quarantines, by reason
REASONS = {
    "invalid JSON (truncated or malformed line)": 2,
    "non-UTF-8 bytes at column 1": 1,
    "span without a valid trace id": 1,
    "impossible timestamps: end before start": 1,
    "impossible start timestamp (missing, or before 2000)": 1,
    "not an OTLP trace request (no resourceSpans)": 1,
}


def broken_lines(lines: list[bytes]) -> bytes:
    """Two good lines of an export (``lines[0]``, and ``lines[1]`` cut short) around broken ones: an open
    bracket, non-UTF-8 bytes, the bad spans and a metrics request."""
    broken = [lines[0], b'{"resourceSpans": [', b"\xff\xfe not utf-8", BAD_SPANS, b'{"metrics": []}', lines[1][:-40]]
    return b"\n".join(broken) + b"\n"
