"""Evaluation results (format ``evals``): JSON Lines, a JSON list, CSV or Parquet, one row per
(case, release, rubric item), loaded into the ``evals`` table through the same ledger as traces.

Columns (README, "Evaluations"): ``case_id``, ``release``, ``rubric_item`` (required), ``score`` (0..1)
and/or ``pass``, ``judge_label``, ``human_label``, ``correct_action``, ``correct_policy``,
``correct_tool_use``, ``from_production``, ``session_id``, ``workflow``, ``output_text``,
``output_schema``, ``citation_required``, ``policy_violation``, ``unsafe_write_attempt``,
``evaluated_at``. ``COLUMNS`` lists the names accepted for each; a mapping file's ``evals.columns``
section puts a source's own names first. A row that cannot be used is quarantined with its reason;
a row whose (case_id, release, rubric_item) is already stored, or earlier in the file, is a duplicate.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from agentops_audit.db import scalar
from agentops_audit.errors import InputError
from agentops_audit.ingest.canonical import Quarantined
from agentops_audit.ingest.convert import excerpt, text_of, to_micros
from agentops_audit.ingest.documents import json_documents
from agentops_audit.ingest.loader import load_records
from agentops_audit.ingest.summary import SourceSummary

NAME = "evals"
KEY = ("case_id", "release", "rubric_item")
_S, _B, _F = pa.string(), pa.bool_(), pa.float64()
ARROW_SCHEMA = pa.schema(
    [
        ("case_id", _S),
        ("release", _S),
        ("rubric_item", _S),
        ("score", _F),
        ("passed", _B),
        ("judge_label", _S),
        ("human_label", _S),
        ("correct_action", _S),
        ("correct_policy", _S),
        ("correct_tool_use", _S),
        ("from_production", _B),
        ("session_id", _S),
        ("workflow", _S),
        ("output_text", _S),
        ("output_schema", _S),
        ("citation_required", _B),
        ("policy_violation", _B),
        ("unsafe_write_attempt", _B),
        ("evaluated_at", pa.timestamp("us")),
    ]
)

# canonical column -> names accepted in the input, tried in order
COLUMNS: dict[str, tuple[str, ...]] = {
    "case_id": ("case_id", "example_id", "case", "id"),
    "release": ("release", "version", "service_version", "service.version"),
    "rubric_item": ("rubric_item", "rubric", "criterion", "evaluation_name", "gen_ai.evaluation.name"),
    "score": ("score", "gen_ai.evaluation.score.value"),
    "passed": ("pass", "passed"),
    "judge_label": ("judge_label", "label", "gen_ai.evaluation.score.label"),
    "human_label": ("human_label",),
    "correct_action": ("correct_action",),
    "correct_policy": ("correct_policy",),
    "correct_tool_use": ("correct_tool_use", "correct_tool_usage"),
    "from_production": ("from_production", "sampled_from_production", "production"),
    "session_id": ("session_id",),
    "workflow": ("workflow",),
    "output_text": ("output_text", "output"),
    "output_schema": ("output_schema",),
    "citation_required": ("citation_required",),
    "policy_violation": ("policy_violation",),
    "unsafe_write_attempt": ("unsafe_write_attempt",),
    "evaluated_at": ("evaluated_at", "timestamp"),
}
_BOOLS = {"passed", "from_production", "citation_required", "policy_violation", "unsafe_write_attempt"}
_TRUE = {"true", "1", "yes", "y", "pass", "passed", "t"}
_FALSE = {"false", "0", "no", "n", "fail", "failed", "f"}
_CONTAINERS = ("results", "evals", "rows", "records", "data")


def sniff(head: bytes) -> bool:
    """JSON, CSV or (small) Parquet whose column names include case_id and rubric_item."""
    return b"rubric_item" in head and b"case_id" in head


def columns_from(options: dict) -> dict[str, tuple[str, ...]]:
    """``COLUMNS`` with the mapping file's ``evals.columns`` names tried first."""
    section = (options or {}).get("evals") or {}
    extra = section.get("columns") if isinstance(section, dict) else None
    if extra is None:
        return COLUMNS
    if not isinstance(extra, dict):
        raise InputError("mapping: evals.columns must map eval columns to lists of input column names")
    merged = dict(COLUMNS)
    for column, names in extra.items():
        if column not in COLUMNS:
            raise InputError(f"mapping: evals.columns.{column} is not an eval column ({', '.join(COLUMNS)})")
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise InputError(f"mapping: evals.columns.{column} must be a list of column names")
        merged[column] = (*names, *COLUMNS[column])
    return merged


def _bool(value, column: str):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{'pass' if column == 'passed' else column} is not true or false")


def _score(value):
    if value is None or value == "":
        return None
    try:
        score = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        score = None
    if score is None or not math.isfinite(score) or not 0 <= score <= 1:
        raise ValueError("score is not a number between 0 and 1")
    return score


def _schema(value):
    if value is None or value == "":
        return None
    parsed = value
    if isinstance(value, str):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            parsed = None
    if not isinstance(parsed, dict):
        raise ValueError("output_schema is not a JSON object")
    return orjson.dumps(parsed).decode()


def to_row(raw: dict, locator: str, names: dict[str, tuple[str, ...]]) -> dict | Quarantined:
    """One eval row from an input record, or the reason it cannot be used."""
    found = {}
    for column, candidates in names.items():
        for name in candidates:
            value = raw.get(name)
            if value is not None and value != "":
                found[column] = value
                break
    for column in KEY:
        value = found.get(column)
        if value is None or isinstance(value, dict | list) or not str(value).strip():
            return Quarantined(locator, f"missing {column}", excerpt(raw))
    row = {c: str(found[c]).strip() for c in KEY}
    try:
        row["score"] = _score(found.get("score"))
        for column in _BOOLS:
            row[column] = _bool(found.get(column), column)
        row["output_schema"] = _schema(found.get("output_schema"))
    except ValueError as exc:
        return Quarantined(locator, str(exc), excerpt(raw))
    try:
        at = to_micros(found.get("evaluated_at"))
    except ValueError:
        return Quarantined(locator, "evaluated_at is not a timestamp", excerpt(raw))
    if row["score"] is None and row["passed"] is None:
        return Quarantined(locator, "neither score nor pass", excerpt(raw))
    row["evaluated_at"] = at
    for column in (
        "judge_label",
        "human_label",
        "correct_action",
        "correct_policy",
        "correct_tool_use",
        "session_id",
        "workflow",
        "output_text",
    ):
        row[column] = text_of(found.get(column))
    return row


def _json_records(path: Path, data: bytes) -> Iterator[tuple[str, object]]:
    for locator, doc in json_documents(path, data):
        if isinstance(doc, dict):
            inner = next((doc[k] for k in _CONTAINERS if isinstance(doc.get(k), list)), None)
            if inner is None:
                yield locator, doc
                continue
            doc = inner
        if isinstance(doc, list):
            for i, item in enumerate(doc):
                yield f"{locator}[{i}]", item
        else:
            yield locator, doc


def _csv_records(path: Path, data: bytes) -> Iterator[tuple[str, object]]:
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        return
    header = [h.strip() for h in header]
    line = reader.line_num
    for fields in reader:
        locator, line = f"{path.name}:{line + 1}", reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if "\ufffd" in "".join(fields):
            yield locator, Quarantined(locator, "non-UTF-8 bytes", ",".join(fields))
        elif len(fields) != len(header):
            yield (
                locator,
                Quarantined(locator, f"row has {len(fields)} fields, the header has {len(header)}", ",".join(fields)),
            )
        else:
            yield locator, dict(zip(header, fields, strict=True))


def _parquet_records(path: Path, data: bytes) -> Iterator[tuple[str, object]]:
    index = 0
    for batch in pq.ParquetFile(io.BytesIO(data)).iter_batches():
        for record in batch.to_pylist():
            yield f"{path.name}#row{index}", record
            index += 1


def read(path: Path, data: bytes, options: dict) -> Iterator[dict | Quarantined]:
    """Eval rows or quarantine records, in file order."""
    names = columns_from(options)
    if data[:4] == b"PAR1":
        records = _parquet_records(path, data)
    elif data.lstrip()[:1] in (b"{", b"["):
        records = _json_records(path, data)
    else:
        records = _csv_records(path, data)
    for locator, record in records:
        if isinstance(record, Quarantined):
            yield record
        elif not isinstance(record, dict):
            yield Quarantined(locator, "not an eval record (expected an object with named columns)", excerpt(record))
        else:
            yield to_row(record, locator, names)


def _commit(con: duckdb.DuckDBPyConnection, rows: list[dict], source_id: int) -> int:
    """Insert staged rows whose key is new (first occurrence in the file wins); return the count."""
    if not rows:
        return 0
    batch = pa.Table.from_pydict({c: [r.get(c) for r in rows] for c in ARROW_SCHEMA.names}, schema=ARROW_SCHEMA)
    con.register("_eval_batch", batch)
    try:
        return scalar(
            con,
            f"""
            INSERT INTO evals BY NAME
            SELECT * EXCLUDE (_seq) FROM (
                SELECT * FROM (SELECT *, {source_id} AS source_id, row_number() OVER () AS _seq FROM _eval_batch)
                QUALIFY row_number() OVER (PARTITION BY case_id, release, rubric_item ORDER BY _seq) = 1
            ) s
            WHERE NOT EXISTS (SELECT 1 FROM evals t WHERE t.case_id = s.case_id AND t.release = s.release
                              AND t.rubric_item = s.rubric_item)""",
        )
    finally:
        con.unregister("_eval_batch")


def load(con: duckdb.DuckDBPyConnection, path: Path, options: dict | None = None) -> SourceSummary:
    """Load one eval results file in one transaction and write its ledger row (``loader.load_records``)."""
    try:
        columns_from(options or {})  # a bad mapping fails before anything is read or written
    except Exception as exc:
        return SourceSummary(path=str(path), format=NAME, error=str(exc))
    return load_records(con, path, NAME, read, _commit, options)
