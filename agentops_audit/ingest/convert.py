"""Value conversions shared by the non-OTLP adapters: timestamps to microseconds, loose hex ids,
nested attribute dicts to dotted names, and the timestamp sanity rules every adapter applies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import orjson

from agentops_audit.ingest import otlp

MIN_MICROS = 946_684_800 * 10**6  # 2000-01-01: anything earlier is an unset or broken clock
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(value) -> int | None:
    """Integer microseconds since the epoch (UTC) from a datetime, an ISO 8601 string or an epoch number
    (seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude). None when absent;
    ValueError when present but unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (moment - _EPOCH) // _MICROSECOND
    if isinstance(value, date):
        return to_micros(datetime(value.year, value.month, value.day))
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        magnitude = abs(value)
        scale = 10**6 if magnitude < 1e11 else 10**3 if magnitude < 1e14 else 1 if magnitude < 1e17 else 1e-3
        return int(round(value * scale))
    if isinstance(value, str):
        text = value.strip()
        try:
            return (
                to_micros(float(text))
                if text.replace(".", "", 1).isdigit()
                else to_micros(datetime.fromisoformat(text))
            )
        except ValueError:
            raise ValueError(f"not a timestamp: {value!r}") from None
    raise ValueError(f"not a timestamp: {value!r}")


def time_problem(start: int | None, end: int | None) -> str | None:
    """The quarantine reason for an impossible (start, end) pair, or None when it is plausible."""
    if start is None or start < MIN_MICROS:
        return "impossible start timestamp (missing, or before 2000)"
    if end is not None and end < start:
        return "impossible timestamps: end before start"
    return None


def loose_hex_id(raw, nbytes: int) -> str | None:
    """A trace or span id as lower-case hex of ``nbytes`` bytes: hex with or without ``0x`` (left-padded
    with zeros when leading zeros were dropped), an integer, or base64. None when absent or invalid."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = f"{raw:x}"
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    digits = text[2:] if text[:2].lower() == "0x" else text
    if 0 < len(digits) <= 2 * nbytes:
        try:
            number = int(digits, 16)
        except ValueError:
            pass
        else:
            return f"{number:0{2 * nbytes}x}" if number else None
    return otlp.hex_id(text, nbytes)


def flatten(value, prefix: str = "", keep: frozenset[str] = frozenset()) -> dict:
    """Nested dicts as one dict of dotted names; names in ``keep`` stay whole even when they are dicts."""
    out = {}
    for key, item in (value or {}).items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and name not in keep:
            out.update(flatten(item, f"{name}.", keep))
        elif item is not None:
            out[name] = item
    return out


def text_of(value) -> str | None:
    """A value as stored in a VARCHAR column: strings as they are, anything else as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


def excerpt(value) -> str:
    """The first few hundred characters of a record, for the quarantine table (masked by the loader)."""
    if isinstance(value, bytes):
        return value[:300].decode("utf-8", errors="replace")
    try:
        return orjson.dumps(value, default=str)[:300].decode(errors="replace")
    except TypeError:
        return str(value)[:300]


def dig(record, path: str | None):
    """The value at a dotted ``path`` inside nested dicts (list items by integer index); None when absent."""
    if not path:
        return record
    current = record
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is None:
            return None
    return current


def sniff_head(data: bytes, size: int) -> bytes:
    """The bytes adapters sniff: the file's first ``size`` bytes and, for Parquet, also the start of its
    footer, where the schema (the column names) is kept."""
    head = data[:size]
    if head[:4] == b"PAR1" and data[-4:] == b"PAR1" and len(data) >= 12:
        footer = int.from_bytes(data[-8:-4], "little")
        head += data[max(len(data) - 8 - footer, 0) : len(data) - 8][:size]
    return head
