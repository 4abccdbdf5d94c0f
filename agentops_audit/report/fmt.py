"""How the report says numbers, thresholds, times and evidence: as a reader says them (``≤ $0.25``,
``99.5%``, ``2026-11-09 00:00 UTC``), never as ``1.059e+04`` or a raw ISO timestamp."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

OPS = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "==": "="}
LIST_ITEMS = 5  # evidence lists show this many values, then "and N more"
EVIDENCE_INLINE = 4  # a mapping with at most this many plain values is shown inline
EVIDENCE_CHARS = 90  # longer evidence texts are cut
ENUM_KEYS = ("method", "success_source", "budgets_source", "allow_list_source")  # evidence values in words
_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?$")


def number(value: float) -> str:
    """A plain number without exponent: ``10,590``, ``12.35``, ``0.008256``."""
    if value.is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    shown = f"{value:,.4g}"
    if "e" in shown:
        shown = f"{value:.8f}".rstrip("0").rstrip(".")
    return shown


def stamp(value: str | None) -> str | None:
    """An ISO timestamp as ``2026-12-04 03:33 UTC`` (to the minute); other text unchanged."""
    if not value or not _ISO.match(str(value).strip()):
        return value
    return f"{_fmt_time(value)} UTC"


def _fmt(value, unit: str | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v, unit)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        shown = ", ".join(_fmt(v, unit) for v in value[:LIST_ITEMS])
        return shown + (f" and {len(value) - LIST_ITEMS} more" if len(value) > LIST_ITEMS else "") or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if unit == "ratio":
            return f"{value:.2%}" if value < 0.01 or value > 0.99 else f"{value:.1%}"
        if unit == "usd":
            return f"${value:,.2f}" if value >= 1 else f"${value:.3f}"
        return number(value)
    if isinstance(value, int):
        return f"{value:,}"
    return stamp(str(value))


def _fmt_threshold(t: dict | None) -> str:
    """A threshold as a reader says it: ``> 99.5%``, ``≤ $0.25``, ``= 0``, ``≥ 200``."""
    if not t:
        return "—"
    value, unit = t["value"], t.get("unit") or ""
    op = OPS.get(t["op"], t["op"])
    if unit == "ratio":
        shown = f"{value * 100:.4g}%"
    elif unit == "usd":
        shown = f"${value:,.2f}"
    elif unit == "percent_change":
        shown = f"+{value:g}% week over week"
    elif unit in ("count", ""):
        shown = f"{value:,g}"
    else:
        shown = f"{value:,g} {unit}"
    return f"{op} {shown}"


def _fmt_time(value: str | None) -> str | None:
    if not value or value == "None":
        return None
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    t = (t + timedelta(seconds=30)).replace(second=0, microsecond=0)  # to the nearest minute
    return t.strftime("%Y-%m-%d %H:%M")


def _window(doc: dict) -> str:
    """``2026-11-09 00:00 – 2026-11-15 23:35 UTC (7 days)``; timestamps are stored in UTC."""
    w = doc.get("window") or {}
    start, end = _fmt_time(w.get("start")), _fmt_time(w.get("end"))
    if not start or not end:
        return "no timestamped data"
    try:
        days = (datetime.fromisoformat(str(w["end"])) - datetime.fromisoformat(str(w["start"]))).total_seconds()
        span = f" ({days / 86400:.0f} days)" if days >= 86400 * 1.5 else f" ({days / 3600:.0f} hours)"
    except ValueError:
        span = ""
    return f"{start} – {end} UTC{span}"


def evidence_of(item: dict) -> tuple[list[tuple[str, str]], bool]:
    """The item's evidence as short (label, text) lines, and whether any value was shortened.

    Counts and short values are shown as they are; a long text is cut, a small mapping is inlined, a
    larger mapping or a list of records is counted. The full evidence stays in audit.json.
    """
    lines, shortened = [], False
    for key, value in (item.get("evidence") or {}).items():
        if key in ("query", "threshold"):
            continue
        label = str(key).replace("_", " ")
        if isinstance(value, dict):
            if len(value) <= EVIDENCE_INLINE and all(not isinstance(v, dict | list) for v in value.values()):
                text = _fmt(value)
            else:
                text, shortened = f"{len(value)} entries", True
        elif isinstance(value, list):
            if all(not isinstance(v, dict | list) for v in value):
                text = _fmt(value)
                shortened = shortened or len(value) > LIST_ITEMS
            else:
                text, shortened = f"{len(value)} listed", True
        elif key in ENUM_KEYS and isinstance(value, str):
            text = value.replace("_", " ")  # a method or source name, not the team's data
        else:
            text = _fmt(value)
        if len(text) > EVIDENCE_CHARS:
            text, shortened = text[:EVIDENCE_CHARS].rstrip() + "…", True
        lines.append((label, text))
    return lines, shortened


def threshold_of(item: dict) -> dict | None:
    """The item's catalog threshold, or else the fixed threshold its check recorded in the evidence."""
    if item.get("threshold"):
        return item["threshold"]
    recorded = (item.get("evidence") or {}).get("threshold")
    return recorded if isinstance(recorded, dict) and "op" in recorded and "value" in recorded else None
