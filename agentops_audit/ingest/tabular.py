"""Canonical span files written by this toolkit (or by DuckDB ``COPY spans TO ...``): Parquet, CSV with a
header, or JSON Lines, whose columns are the canonical ``spans`` columns. Extra columns (``source_id``,
``session_key``) are ignored; missing ones are NULL; rows still pass the id and timestamp checks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow as pa

from agentops_audit.ingest.canonical import ARROW_SCHEMA, ATTRIBUTE_MAP, COLUMNS, Quarantined, fill_from_attributes
from agentops_audit.ingest.convert import excerpt, text_of, time_problem, to_micros
from agentops_audit.ingest.documents import json_records, parquet_rows

NAME = "canonical"
PARQUET_MAGIC = b"PAR1"
_SIGNATURE = ("trace_id", "span_id", "span_type")  # column names only this schema has together
_TIMES = {"start_time", "end_time"}
_INTS = {f.name for f in ARROW_SCHEMA if pa.types.is_integer(f.type)}
_FLOATS = {f.name for f in ARROW_SCHEMA if pa.types.is_floating(f.type)}


def sniff(head: bytes) -> bool:
    if head[:4] == PARQUET_MAGIC:
        return all(name.encode() in head for name in _SIGNATURE)
    first = head.split(b"\n", 1)[0]
    if first.lstrip()[:1] not in (b"{", b"["):  # CSV: the header line names the columns
        names = {n.strip().strip('"') for n in first.decode("utf-8", errors="replace").split(",")}
        return set(_SIGNATURE) <= names
    return all(f'"{name}"'.encode() in head for name in _SIGNATURE)


def _value(column: str, value):
    if value is None or value == "":
        return None
    if column in _TIMES:
        return to_micros(value)
    if column in _INTS:
        return int(float(value)) if isinstance(value, str) else int(value)
    if column in _FLOATS:
        return float(value)
    return text_of(value)


def canonical_row(record, locator: str) -> dict | Quarantined:
    if not isinstance(record, dict):
        return Quarantined(locator, "row is not a JSON object", excerpt(record))
    try:
        row = {c: _value(c, record.get(c)) for c in COLUMNS}
    except (TypeError, ValueError) as exc:
        return Quarantined(locator, f"value of the wrong type: {exc}", excerpt(record))
    if not row["trace_id"]:
        return Quarantined(locator, "span without a valid trace id", excerpt(record))
    if not row["span_id"]:
        return Quarantined(locator, "span without a valid span id", excerpt(record))
    problem = time_problem(row["start_time"], row["end_time"])
    if problem:
        return Quarantined(locator, problem, excerpt(record))
    if row["duration_ms"] is None and row["end_time"] is not None:
        row["duration_ms"] = (row["end_time"] - row["start_time"]) / 1000
    row["span_type"] = row["span_type"] or "other"
    _fill_new_columns(row, record)
    return row


def _fill_new_columns(row: dict, record: dict) -> None:
    """A file written by an older toolkit lacks the columns added since (e.g. ``llm_purpose``): fill those,
    and only those, from its ``attributes`` as the other adapters would."""
    absent = {c: names for c, names in ATTRIBUTE_MAP.items() if c not in record and row.get(c) is None}
    if not absent or not row.get("attributes"):
        return
    try:
        attrs = orjson.loads(row["attributes"])
    except orjson.JSONDecodeError:
        return
    if isinstance(attrs, dict):
        filled = dict(row)
        fill_from_attributes(filled, attrs, absent)
        row.update({c: filled[c] for c in absent})


def _csv_rows(path: Path, data: bytes) -> Iterator[tuple[str, object]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None:  # decode line by line so one bad line is quarantined, not the file
        lines = data.split(b"\n")
        header = lines[0].decode("utf-8-sig", errors="replace")
        good = [header]
        for number, line in enumerate(lines[1:], start=2):
            try:
                good.append(line.decode("utf-8"))
            except UnicodeDecodeError as err:
                yield (
                    f"{path.name}:{number}",
                    Quarantined(f"{path.name}:{number}", f"non-UTF-8 bytes at column {err.start + 1}", excerpt(line)),
                )
                good.append("")
        text = "\n".join(good)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    width = len(reader.fieldnames or ())
    for record in reader:
        locator = f"{path.name}:{reader.line_num}"
        if None in record or any(v is None for v in record.values()) and len(record) >= width:
            yield (
                locator,
                Quarantined(
                    locator,
                    "CSV row with the wrong number of fields (truncated or malformed)",
                    excerpt(",".join(str(v) for v in record.values())),
                ),
            )
        else:
            yield locator, record


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    if data[:4] == PARQUET_MAGIC:
        for locator, record in parquet_rows(path, data):
            yield canonical_row(record, locator)
        return
    if data.lstrip()[:1] in (b"{", b"["):
        for locator, record in json_records(path, data):
            yield record if isinstance(record, Quarantined) else canonical_row(_json_columns(record), locator)
        return
    for locator, record in _csv_rows(path, data):
        yield record if isinstance(record, Quarantined) else canonical_row(record, locator)


def _json_columns(record):
    """DuckDB writes JSON columns (attributes, events, links) as nested JSON: back to text."""
    if isinstance(record, dict):
        for column in ("attributes", "events", "links"):
            if isinstance(record.get(column), dict | list):
                record[column] = orjson.dumps(record[column]).decode()
    return record
