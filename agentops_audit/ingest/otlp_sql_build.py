"""The SQL of the OTLP fast path (``otlp_sql.py``): the one INSERT that validates, parses, unnests and
flattens the JSON Lines of an OTLP file into canonical rows, built for a given attribute mapping. Each
leaf is kept as raw JSON text so its type can be checked; a value or record this SQL cannot convert
exactly as ``otlp.py`` does is marked for the reference reader (``BAD``, ``LATER``)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from agentops_audit.ingest import conventions, otlp
from agentops_audit.ingest.canonical import ARROW_SCHEMA, COLUMNS, LAST_OF_LIST, SPAN_TYPES

BLOCK_BYTES = 16 << 20  # read from the file at a time
BATCH_BYTES = 2 << 20  # per Arrow record batch handed to DuckDB
INVALID_JSON = "invalid JSON (truncated or malformed line)"
PYTHON_LINE, PYTHON_SPAN = "~line", "~span"  # markers (no quarantine reason starts with ~)
BAD = "chr(1)"  # never in JSON text (control characters are escaped): marks a span for the reference reader
LATER = "chr(2)"  # marks an attribute list the simple conversion leaves to the complete one
_WHITESPACE = np.array([9, 10, 11, 12, 13, 32], dtype=np.uint8)  # bytes.isspace()
_UNSUPPORTED = {"start_time", "end_time", "events", "links"}  # mapped by a --mapping: the reference reader
_PRESENCE = ("agentops.policy.decision", "agentops.approval.status", "gen_ai.tool.name", "tool.name")

_VALUE = {tag: "JSON" for tag in otlp.TAGS}
_ATTRS = [{"key": "JSON", "value": {**_VALUE, "arrayValue": {"values": [_VALUE]}}}]
_SPAN = {
    "traceId": "JSON",
    "spanId": "JSON",
    "parentSpanId": "JSON",
    "trace_id": "JSON",
    "span_id": "JSON",
    "parent_span_id": "JSON",
    "name": "JSON",
    "kind": "JSON",
    "startTimeUnixNano": "JSON",
    "endTimeUnixNano": "JSON",
    "attributes": _ATTRS,
    "status": {"code": "JSON", "message": "JSON"},
    "events": "JSON",
    "links": "JSON",
}
LINE_SHAPE = json.dumps(
    {
        "resourceSpans": [
            {
                "resource": {"attributes": _ATTRS},
                "scopeSpans": [{"spans": [_SPAN]}],
                "scope_spans": "JSON",
                "instrumentationLibrarySpans": "JSON",
            }
        ],
    },
    separators=(",", ":"),
)

_INT = "0|-?[1-9][0-9]{0,17}"  # an integer Python and DuckDB read alike (BIGINT range)
_FLOAT = r"-?(0|[1-9][0-9]*)(\.[0-9]+([eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)"


def _leaf(path: str) -> str:
    """A raw JSON leaf of the span as VARCHAR (string functions would read a JSON value as JSON)."""
    return f"(sp.{path}::VARCHAR)"


def _text(r: str) -> str:
    """A JSON string's raw text decoded (without a backslash it cannot hold a quote, so trim is exact)."""
    return f"CASE WHEN contains({r}, '\\') THEN json_extract_string({r}, '$') ELSE trim({r}, '\"') END"


def _raws(x: str) -> dict[str, str]:
    return {t: f"({x}.{t}::VARCHAR)" for t in otlp.TAGS}


def _value(x: str, nested: bool, simple: bool = False) -> str:
    """The JSON text of OTLP AnyValue struct ``x``, as ``otlp.value_of`` decodes it (the first tag that
    has a value, in ``otlp.TAGS`` order): stringValue and bytesValue as they are, intValue as an integer,
    doubleValue as a number, boolValue as a boolean, arrayValue as a list of plain values. Anything else
    (a kvlist, a nested array, no value, an intValue that is not an integer, ...) is BAD, for the
    reference reader. ``simple`` leaves arrays and kvlists to a second pass (LATER)."""
    r = _raws(x)
    double = (
        f"CASE WHEN regexp_full_match({r['doubleValue']}, '{_INT}') THEN {r['doubleValue']} || '.0' "
        f"WHEN regexp_full_match({r['doubleValue']}, '{_FLOAT}') THEN {r['doubleValue']} ELSE {BAD} END"
    )
    if nested:  # a double in an array: orjson writes some doubles differently (1e+20), the reference reader
        double = BAD
    if simple:
        array = LATER
    elif nested:
        array = BAD
    else:
        items = f'coalesce({x}.arrayValue."values", [])'
        array = f"'[' || array_to_string(list_transform({items}, lambda e: {_value('e', True)}), ',') || ']'"
    return (
        f"CASE WHEN {x}.stringValue IS NOT NULL THEN {_as_is(r['stringValue'])} "
        f"WHEN {x}.intValue IS NOT NULL THEN CASE WHEN regexp_full_match({r['intValue']}, "
        f"'\"({_INT})\"|{_INT}') THEN trim({r['intValue']}, '\"') ELSE {BAD} END "
        f"WHEN {x}.doubleValue IS NOT NULL THEN {double} "
        f"WHEN {x}.boolValue IS NOT NULL THEN CASE WHEN {r['boolValue']} IN ('true', 'false') "
        f"THEN {r['boolValue']} ELSE {BAD} END "
        f"WHEN {x}.arrayValue IS NOT NULL THEN {array} "
        f"WHEN {x}.kvlistValue IS NOT NULL THEN {LATER if simple else BAD} "
        f"WHEN {x}.bytesValue IS NOT NULL THEN {_as_is(r['bytesValue'])} ELSE {BAD} END"
    )


def _as_is(r: str) -> str:
    """A stringValue or bytesValue as it is: a string, or other JSON (not a NaN or Infinity literal)."""
    return (
        f"CASE WHEN starts_with({r}, '\"') OR starts_with({r}, '{{') OR starts_with({r}, '[') "
        f"OR {r} IN ('true', 'false') OR regexp_full_match({r}, '{_INT}') "
        f"OR regexp_full_match({r}, '{_FLOAT}') THEN {r} ELSE {BAD} END"
    )


def _pairs(attrs: str, prefix: str) -> str:
    """The attributes as '"name":value' JSON members joined by commas (a pair without a key is skipped,
    as ``otlp.attributes_of`` skips it). A name that is not a JSON string makes the object invalid."""
    name = f"'\"{prefix}' || substr(kv.key::VARCHAR, 2)" if prefix else "kv.key::VARCHAR"

    def joined(simple: bool) -> str:
        return (
            f"array_to_string(list_transform({attrs}, lambda kv: "
            f"{name} || ':' || {_value('kv.value', False, simple)}), ',')"
        )

    return (
        f"list_transform([{joined(True)}], lambda p: CASE WHEN contains(p, {LATER}) THEN {joined(False)} ELSE p END)[1]"
    )


def _id(r: str, nbytes: int) -> str:
    """Lower-case hex for a plain hex id; '' when missing or invalid; NULL when only the reference
    reader can tell (base64, escapes, other JSON types)."""
    return (
        f"CASE WHEN {r} IS NULL OR {r} = '\"\"' OR {r} = '\"{'0' * 2 * nbytes}\"' THEN '' "
        f"WHEN regexp_full_match({r}, '\"[0-9a-fA-F]{{{2 * nbytes}}}\"') THEN lower(trim({r}, '\"')) END"
    )


def _nanos(r: str) -> str:
    """Nanoseconds, 0 when missing or empty, NULL when only the reference reader can tell."""
    return (
        f"CASE WHEN {r} IS NULL OR {r} = '\"\"' THEN 0::BIGINT WHEN regexp_full_match({r}, "
        f"'\"[0-9]{{1,19}}\"|[0-9]{{1,19}}') THEN TRY_CAST(trim({r}, '\"') AS BIGINT) END"
    )


def _code(r: str, table: dict[int, str], prefix: str) -> str:
    """A span kind or status code as ``otlp._code`` reads it; NULL when only the reference reader can tell."""
    lookup = " ".join(f"WHEN {k} THEN '{v}'" for k, v in table.items())
    number = f"CASE TRY_CAST(trim({r}, '\"') AS INTEGER) {lookup} ELSE '{table[0]}' END"
    upper = f"upper(trim({r}, '\"'))"
    return (
        f"CASE WHEN {r} IS NULL THEN '{table[0]}' "
        f"WHEN regexp_full_match({r}, '\"[0-9]{{1,9}}\"|[0-9]{{1,9}}') THEN {number} "
        f"WHEN regexp_full_match({r}, '\"[A-Za-z_]*\"') THEN "
        f"CASE WHEN starts_with({upper}, '{prefix}') THEN substr({upper}, {len(prefix) + 1}) ELSE {upper} END END"
    )


def _optional_text(r: str, empty_is_null: bool) -> str:
    """A JSON string decoded; NULL when missing (or empty, with ``empty_is_null``) or not a string."""
    empty = f"WHEN {r} = '\"\"' THEN NULL " if empty_is_null else ""
    return f"CASE WHEN {r} IS NULL THEN NULL {empty}WHEN starts_with({r}, '\"') THEN {_text(r)} END"


def _q(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _number(column: str, v: str) -> str:
    """Numeric ``column`` from ``v``, the JSON text of its attribute (NULL when no mapped attribute has
    a value), coerced as ``canonical.fill_from_attributes`` does; NULL when only the reference reader
    can coerce it the same way (the caller compares with ``v``)."""
    if ARROW_SCHEMA.field(column).type == pa.int64():
        target = "INTEGER" if column in otlp.INT32_COLUMNS else "BIGINT"  # INTEGER: out of range is NULL
        return f"CASE WHEN regexp_full_match({v}, '{_INT}') THEN TRY_CAST({v} AS {target}) END"
    return (
        f"CASE WHEN regexp_full_match({v}, '{_INT}') OR regexp_full_match({v}, '{_FLOAT}') THEN CAST({v} AS DOUBLE) END"
    )


def supported(mapping: dict[str, tuple[str, ...]]) -> bool:
    """Whether the fast path can apply ``mapping`` (names must be distinct ignoring case: DuckDB struct
    fields are case-insensitive)."""
    names = {n for c, ns in mapping.items() if c in COLUMNS for n in ns}
    return (
        not any(column in _UNSUPPORTED for column in mapping if column in COLUMNS)
        and all(names)
        and len({n.lower() for n in names}) == len(names)
    )


def insert_sql(mapping: dict[str, tuple[str, ...]], source_id: int, direct: bool = False) -> str:
    """The INSERT that stages the lines of a file (Arrow view ``_otlp_lines``: line_no, text). The mapped
    attributes and the names ``span_type`` looks for are read from the span's attribute object with one
    ``from_json`` into a struct of their JSON texts, then coerced as ``canonical._coerce`` does: a
    string as it is, an integer, boolean, array or object as its JSON; a double in a text column (orjson
    writes some differently) or a number that does not fit its column goes to the reference reader."""
    mapped = {c: mapping[c] for c in COLUMNS if c in mapping and c != "attributes"}
    numeric = {c for c in mapped if ARROW_SCHEMA.field(c).type in (pa.int64(), pa.float64())}
    names = list(
        dict.fromkeys(
            [
                *_PRESENCE,
                *conventions.SIGNATURES,
                *conventions.MESSAGE_NAMES,
                *(n for ns in mapped.values() for n in ns),
            ]
        )
    )
    shape = json.dumps(dict.fromkeys(names, "JSON"), separators=(",", ":"))

    def field(name: str) -> str:
        return 'av."' + name.replace('"', '""') + '"::VARCHAR'

    links = _leaf("links")
    message = _leaf("status.message")
    own = {  # what the span itself gives: (value, the raw JSON it comes from); NULL from a raw: Python
        "name": (_optional_text(_leaf("name"), False), _leaf("name")),
        "span_kind": (_code(_leaf("kind"), otlp.KINDS, "SPAN_KIND_"), _leaf("kind")),
        "status_code": (_code(_leaf("status.code"), otlp.STATUS, "STATUS_CODE_"), _leaf("status.code")),
        "status_message": (_optional_text(message, True), f"nullif({message}, '\"\"')"),
        "links": (
            f"CASE WHEN {links} IN ('[]', '{{}}', '\"\"', 'false') THEN NULL WHEN starts_with({links}, '[') "
            f"OR starts_with({links}, '{{') OR starts_with({links}, '\"') OR {links} = 'true' THEN {links} END",
            f"CASE WHEN {links} NOT IN ('[]', '{{}}', '\"\"', 'false') THEN {links} END",
        ),
    }
    fixed = {
        "trace_id": "trace_hex",
        "span_id": "span_hex",
        "parent_span_id": "nullif(parent_hex, '')",
        "start_time": "make_timestamp(start_ns // 1000)",
        "end_time": "CASE WHEN end_ns != 0 THEN make_timestamp(end_ns // 1000) END",
        "duration_ms": "CASE WHEN end_ns != 0 THEN (end_ns - start_ns) / 1e6 END",
    }
    problems = [f"(c_{c} IS NULL AND {raw} IS NOT NULL)" for c, (_, raw) in own.items()]
    problems += [
        "trace_hex IS NULL",
        "span_hex IS NULL",
        "parent_hex IS NULL",
        "start_ns IS NULL",
        "end_ns IS NULL",
        "bad_attrs",
        f"{_leaf('trace_id')} IS NOT NULL",
        f"{_leaf('span_id')} IS NOT NULL",
        f"{_leaf('parent_span_id')} IS NOT NULL",
        f"coalesce({_leaf('events')} != '[]', false)",
    ]
    values, columns = [f"{expr} AS c_{c}" for c, (expr, _) in own.items()], {}
    for column in COLUMNS:
        base = f"c_{column}" if column in own else fixed.get(column, "NULL")
        if column not in mapped or column in ("trace_id", "span_id", "start_time", "span_kind", "status_code"):
            columns[column] = base
            continue
        raw = f"r_{column}"  # the JSON text of the first mapped attribute that has a value
        values.append(f"coalesce({', '.join(field(n) for n in mapped[column])}) AS {raw}")
        if column in numeric:
            values.append(f"{_number(column, raw)} AS m_{column}")
            converted = f"m_{column} IS NULL"
        else:  # a string as it is; integers, booleans, arrays and objects as JSON, as orjson writes them
            last = (
                f"WHEN starts_with({raw}, '[') THEN json_extract_string({raw}, '$[#-1]') "
                if column in LAST_OF_LIST
                else ""
            )
            values.append(f"CASE WHEN starts_with({raw}, '\"') THEN {_text(raw)} {last}ELSE {raw} END AS m_{column}")
            converted = f"NOT starts_with({raw}, '\"') AND regexp_full_match({raw}, '{_FLOAT}')"  # a double
        unset = f"{base} IS NULL AND " if base != "NULL" else ""
        problems.append(f"({unset}{raw} IS NOT NULL AND {converted})")
        columns[column] = f"coalesce({base}, m_{column})" if base != "NULL" else f"m_{column}"
    operations = " ".join(f"WHEN {_q(k)} THEN {_q(v)}" for k, v in SPAN_TYPES.items())
    has = {n: f"{field(n)} IS NOT NULL" for n in _PRESENCE}  # JSON null values go to Python (BAD)
    columns["span_type"] = (
        f"coalesce(nullif({columns['span_type']}, ''), "
        f"CASE lower(nullif({columns['operation']}, '')) {operations} END, "
        f"CASE WHEN {has['agentops.policy.decision']} THEN 'policy' "
        f"WHEN {has['agentops.approval.status']} THEN 'approval' "
        f"WHEN {has['gen_ai.tool.name']} OR {has['tool.name']} THEN 'tool' ELSE 'other' END)"
    )
    # a tool's name without its decoration, else the span's name (as ``conventions.interpret`` does)
    named = f"coalesce(nullif({columns['tool_name']}, ''), {columns['name']})"
    columns["tool_name"] = (
        f"CASE WHEN {columns['span_type']} = 'tool' THEN coalesce(nullif(trim(regexp_replace({named}, "
        f"{_q(conventions.DECORATED_TOOL)}, '', 'i'), ' '), ''), {named}) ELSE {columns['tool_name']} END"
    )
    # names of other conventions, or tool calls inside messages: the reference reader interprets them
    # a signature name of another convention, or tool calls in a message attribute in another shape: the
    # reference reader interprets the span (conventions.needs_interpretation)
    signed = " OR ".join(f"{field(n)} IS NOT NULL" for n in conventions.SIGNATURES)

    def words(n: str) -> str:
        return " OR ".join(f"contains({field(n)}, {_q(w)})" for w in conventions.MESSAGE_CALL_WORDS)

    calls = " OR ".join(f"(starts_with({field(n)}, '\"') AND ({words(n)}))" for n in conventions.MESSAGE_NAMES)
    problems.append(f"({signed} OR {calls})")
    columns["attributes"] = "attrs_json"
    reason = (
        "CASE WHEN line_reason IS NOT NULL THEN line_reason "
        f"WHEN {' OR '.join(problems)} THEN '{PYTHON_SPAN}' "
        "WHEN trace_hex = '' THEN 'span without a valid trace id' "
        "WHEN span_hex = '' THEN 'span without a valid span id' "
        f"WHEN start_ns < {otlp.MIN_NS} THEN 'impossible start timestamp (missing, or before 2000)' "
        "WHEN end_ns != 0 AND end_ns < start_ns THEN 'impossible timestamps: end before start' END"
    )
    # a marker row straight into spans has trace_id '', span_id 'line:idx' and the reason as name; in the
    # staging table it has the columns _line, _idx and _reason
    marker = {"trace_id": "''", "span_id": "line_no || ':' || idx", "name": "_reason"} if direct else {}
    out = ",\n       ".join(
        f"CASE WHEN _reason IS NULL THEN {expr} ELSE {marker.get(name, 'NULL')} END AS {name}"
        for name, expr in columns.items()
    )
    position, target = ("", "spans") if direct else (", line_no AS _line, idx AS _idx, _reason", "_stage")
    values = ",\n           ".join(values)
    spans = "CASE WHEN line_reason IS NULL THEN {} ELSE [NULL] END"  # a line left to Python: one marker row
    return f"""
INSERT INTO {target} BY NAME
WITH checked_lines AS (
    SELECT line_no, text, json_valid(text) AS ok, regexp_matches(text, ',\s*[\]}}]') AS trailing_comma
    FROM _otlp_lines
), parsed AS (
    SELECT line_no, ok, trailing_comma, CASE WHEN ok THEN from_json(text, '{LINE_SHAPE}') END AS d
    FROM checked_lines
), lines AS (
    SELECT line_no, d,
           CASE WHEN NOT ok THEN '{INVALID_JSON}'
                WHEN trailing_comma OR d.resourceSpans IS NULL THEN '{PYTHON_LINE}'
                WHEN list_bool_or(list_transform(d.resourceSpans, lambda b: b.scope_spans IS NOT NULL
                                                 OR b.instrumentationLibrarySpans IS NOT NULL)) THEN '{PYTHON_LINE}'
           END AS line_reason
    FROM parsed
), batches AS (
    SELECT line_no, line_reason,
           CASE WHEN line_reason IS NULL THEN list_transform(d.resourceSpans, lambda b: len(b.scopeSpans))
                END AS scopes,
           CASE WHEN line_reason IS NULL THEN flatten(list_transform(d.resourceSpans, lambda b:
                list_transform(b.scopeSpans, lambda sc: len(sc.spans)))) END AS counts,
           unnest({spans.format("d.resourceSpans")}) AS b,
           generate_subscripts({spans.format("d.resourceSpans")}, 1) AS i
    FROM lines
), scopes AS (
    SELECT line_no, line_reason, i, {_pairs("b.resource.attributes", "resource.")} AS res,
           coalesce(list_sum(scopes[:i - 1]), 0) AS scope_base, counts,
           unnest({spans.format("b.scopeSpans")}) AS sc, generate_subscripts({spans.format("b.scopeSpans")}, 1) AS j
    FROM batches
), items AS (
    SELECT line_no, line_reason, res, coalesce(list_sum(counts[:scope_base + j - 1]), 0) AS span_base,
           unnest({spans.format("sc.spans")}) AS sp, generate_subscripts({spans.format("sc.spans")}, 1) AS k
    FROM scopes
), spans AS (
    SELECT line_no, line_reason, CASE WHEN line_reason IS NULL THEN span_base + k - 1 ELSE -1 END AS idx,
           sp, res, {_pairs("sp.attributes", "")} AS pairs
    FROM items
), built AS (
    SELECT *, '{{' || concat_ws(',', nullif(pairs, ''), nullif(res, '')) || '}}' AS attrs_json FROM spans
), valid AS (
    SELECT *, CASE WHEN NOT contains(attrs_json, chr(1)) AND json_valid(attrs_json)
                   THEN from_json(attrs_json, {_q(shape)}) END AS av
    FROM built
), checked AS (
    SELECT *, av IS NULL AS bad_attrs,
           {_id(_leaf("traceId"), 16)} AS trace_hex, {_id(_leaf("spanId"), 8)} AS span_hex,
           {_id(_leaf("parentSpanId"), 8)} AS parent_hex,
           {_nanos(_leaf("startTimeUnixNano"))} AS start_ns, {_nanos(_leaf("endTimeUnixNano"))} AS end_ns
    FROM valid
), converted AS (
    SELECT *, {values} FROM checked
), reasoned AS (
    SELECT *, {reason} AS _reason FROM converted
)
SELECT {out},
       {source_id} AS source_id{position}
FROM reasoned
"""
