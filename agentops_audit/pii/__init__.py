"""PII and secret detection for trace text, set-based in DuckDB.

Entities (``entities.py``) are RE2 patterns whose capture group 1 is the value, checked by validator
macros (Luhn and issuer ranges, IBAN length and mod-97, SSN shape, base64 of ``user:pass``, placeholder
refusal), plus phone numbers, found by libphonenumber through the DuckDB UDF ``aa_phones``
(``phones.py``) on the texts a RE2 prefilter passes. Addresses are one RE2 pattern over ten countries'
layouts (``addresses.py``). Scanning is one vectorised SELECT with no Python row loop; ``install`` puts
the macros and the UDF on a connection (``scan`` does it itself; call it before using ``mask_sql`` on a
connection of your own).

Masking rewrites each validated match, entity by entity in ``ENTITIES`` order,
into a form no pattern matches again (``j***@e***.com``, ``+1******0123``,
``****-****-****-4242``, ``sk-****``, ``[ADDRESS]``). ``mask()`` runs the same SQL as
``mask_sql()`` in a private in-memory DuckDB, so display masking and the
scanner can never disagree. Redaction markers (``[REDACTED]``, ``<EMAIL>``,
``***``, ``{{email}}``, ``█████``) contain nothing any pattern matches.
Known choices: a bare dotted quad such as ``1.2.3.4`` is an ipv4 finding unless
it is directly preceded by a version cue (``v``, ``ver``, ``version``,
``release``, ``build``); ``::1`` and other IPv6 forms with < 5 hex digits are ignored;
a secret after a key cue must look like one (see ``entities.MACROS``), so ``"token": "expired"`` is not.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

import duckdb

from agentops_audit.pii import phones
from agentops_audit.pii.entities import ENTITIES, MACROS, Entity

_MACROS = MACROS  # the name the tests and older callers use

__all__ = [
    "ENTITIES",
    "Entity",
    "install",
    "install_macros",
    "scan",
    "candidate_pattern",
    "candidates_sql",
    "leak_summary_sql",
    "mask_sql",
    "mask",
    "mask_many",
    "valid_utf8",
]


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _entities(extra: dict[str, str] | None) -> list[Entity]:
    out = list(ENTITIES.values())
    for name, pat in (extra or {}).items():
        if name in ENTITIES:
            raise ValueError(f"extra pattern {name!r} collides with a built-in entity")
        out.append(Entity(name, f"({pat})", None, "pii", "organisation-specific pattern", _lit(f"[{name.upper()}]")))
    return out


def _hits(e: Entity, var: str, inline: bool) -> str:
    """SQL list of validated matches of ``e`` in the VARCHAR expression ``var``."""
    if e.udf:  # the UDF only sees the texts its prefilter matches
        return f"CASE WHEN regexp_matches({var}, {_lit(e.pattern)}) THEN {e.udf}({var}) ELSE []::VARCHAR[] END"
    lists = [f"regexp_extract_all({var}, {_lit(p)}, 1)" for p in (e.pattern, *e.extra)]
    found = lists[0] if len(lists) == 1 else f"flatten([{', '.join(lists)}])"
    if e.validator:
        check = f"({_MACROS[e.validator].replace('{s}', 'm')})" if inline else f"{e.validator}(m)"
        found = f"list_filter({found}, lambda m: coalesce({check}, false))"
    if e.prefilter:  # the cheap necessary condition first: most texts never reach the full patterns
        found = f"CASE WHEN regexp_matches({var}, {_lit(e.prefilter)}) THEN {found} ELSE []::VARCHAR[] END"
    return found


def install_macros(con) -> None:
    """Create the validator macros as TEMP macros on ``con`` (those it lacks), and register the phone UDF:
    idempotent."""
    have = {
        r[0]
        for r in con.execute(
            "SELECT function_name FROM duckdb_functions() WHERE function_name IN "
            f"({', '.join(_lit(n) for n in _MACROS)})"
        ).fetchall()
    }
    for name, body in _MACROS.items():
        if name not in have:
            con.execute(f"CREATE OR REPLACE TEMP MACRO {name}(s) AS ({body.replace('{s}', 's')})")
    phones.install(con)


def install(con) -> None:
    """Everything ``scan`` and ``mask_sql`` need on ``con``: the validator macros and the phone UDF."""
    install_macros(con)


def scan(
    con,
    source: str,
    fields: list[str],
    key_cols: tuple[str, ...] = ("trace_id", "span_id"),
    extra_patterns: dict[str, str] | None = None,
    table: str = "pii_findings",
) -> None:
    """Create or replace the TEMP table ``table`` with one row per entity occurrence in ``fields``
    of ``source``. Findings are derived data, so they live with the connection (this also works on
    a read-only audit database).

    Columns: *key_cols, field, entity, kind, masked, match_hash (sha256 hex of the raw
    match). The raw match itself is never stored. ``source`` is a table/view name or a
    parenthesised subquery. One SELECT over an UNPIVOT of the fields; no Python loop.
    """
    if not fields:
        raise ValueError("scan() needs at least one field")
    install_macros(con)
    keys = ", ".join(_q(k) for k in key_cols)
    casts = ", ".join(f"CAST({_q(f)} AS VARCHAR) AS {_q(f)}" for f in fields)
    per_entity = [
        f"list_transform({_hits(e, 'v', inline=False)}, lambda m: {{'entity': {_lit(e.name)}, "
        f"'kind': {_lit(e.kind)}, 'masked': {e.masker.replace('{m}', 'm')}, 'match_hash': sha256(m)}})"
        for e in _entities(extra_patterns)
    ]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH src AS (
            UNPIVOT (SELECT {keys}, {casts} FROM {source})
            ON {", ".join(_q(f) for f in fields)} INTO NAME field VALUE v
        ), hits AS (
            SELECT {keys}, field, unnest(flatten([{", ".join(per_entity)}])) AS h FROM src
        )
        SELECT {keys}, field::VARCHAR AS field, h.entity::VARCHAR AS entity, h.kind::VARCHAR AS kind,
               h.masked::VARCHAR AS masked, h.match_hash::VARCHAR AS match_hash
        FROM hits""")


def candidate_pattern(extra_patterns: dict[str, str] | None = None) -> str:
    """One RE2 pattern matching every text in which some entity (built-in or ``extra_patterns``) can be
    found: a text it does not match has no finding and nothing to mask, so scanning or masking only the
    texts it matches is lossless (validators only ever reject matches)."""
    patterns = [p for e in ENTITIES.values() for p in ((e.prefilter,) if e.prefilter else (e.pattern, *e.extra))]
    patterns += [f"({p})" for p in (extra_patterns or {}).values()]
    return "|".join(f"(?:{p})" for p in patterns)


def candidates_sql(
    source: str,
    fields: Sequence[str],
    key_cols: tuple[str, ...] = ("trace_id", "span_id"),
    extra_patterns: dict[str, str] | None = None,
) -> str:
    """SQL for the rows of ``source`` in which some of ``fields`` can hold a finding, each field kept only
    where it can (NULL otherwise): the input for ``scan``, with the same findings as scanning ``source``
    and far fewer values through the per-entity extraction."""
    pattern = _lit(candidate_pattern(extra_patterns))
    flags = ", ".join(f"{_q(f)}, regexp_matches({_q(f)}, {pattern}) AS {_q('_m_' + f)}" for f in fields)
    kept = ", ".join(f"CASE WHEN {_q('_m_' + f)} THEN {_q(f)} END AS {_q(f)}" for f in fields)
    keys = ", ".join(_q(k) for k in key_cols)
    return (
        f"SELECT {keys}, {kept} FROM (SELECT {keys}, {flags} FROM {source}) "
        f"WHERE {' OR '.join(_q('_m_' + f) for f in fields)}"
    )


def leak_summary_sql(
    table: str = "pii_findings",
    source: str | None = None,
    fields: Sequence[str] | None = None,
    key_cols: tuple[str, ...] = ("trace_id", "span_id"),
) -> str:
    """SQL giving, per (field, entity): records_scanned (non-null, non-empty values of the
    field in ``source``), records_with_leak (distinct key tuples with a finding), findings
    and leak_rate = records_with_leak / records_scanned (NULL when nothing was scanned).
    Entities are the registry plus any other entity present in ``table``."""
    if source is None or not fields:
        raise ValueError("leak_summary_sql() needs source and fields")
    scanned = " UNION ALL ".join(
        f"SELECT {_lit(f)} AS field, count(*) FILTER (WHERE CAST({_q(f)} AS VARCHAR) <> '') "
        f"AS records_scanned FROM {source}"
        for f in fields
    )
    names = ", ".join(_lit(n) for n in ENTITIES)
    row = "row(" + ", ".join(_q(k) for k in key_cols) + ")"
    return f"""
        WITH scanned AS ({scanned}),
        ents AS (SELECT unnest([{names}]) AS entity UNION SELECT DISTINCT entity FROM {table}),
        agg AS (SELECT field, entity, count(DISTINCT {row}) AS records_with_leak, count(*) AS findings
                FROM {table} GROUP BY field, entity)
        SELECT s.field, e.entity, s.records_scanned,
               coalesce(a.records_with_leak, 0) AS records_with_leak, coalesce(a.findings, 0) AS findings,
               coalesce(a.records_with_leak, 0) / nullif(s.records_scanned, 0) AS leak_rate
        FROM scanned s CROSS JOIN ents e LEFT JOIN agg a ON a.field = s.field AND a.entity = e.entity
        ORDER BY s.field, e.entity"""


def mask_sql(expr: str, extra_patterns: dict[str, str] | None = None) -> str:
    """A self-contained DuckDB expression masking every entity in ``expr`` (NULL stays NULL).

    For each entity in registry order, validated matches are replaced (all occurrences)
    by their masked form. Validators are inlined, so no macros need to be installed; the phone UDF does
    (``install(con)``; without it DuckDB stops with "aa_phones does not exist", never masks less).
    """
    out = expr
    for i, e in enumerate(_entities(extra_patterns)):
        t = f"_t{i}"
        out = (
            f"list_transform([{out}], lambda {t}: list_reduce({_hits(e, t, inline=True)}, "
            f"lambda _acc, m: replace(_acc, m, {e.masker.replace('{m}', 'm')}), {t}))[1]"
        )
    return out


_TLS = threading.local()


def valid_utf8(text: str) -> str:
    """``text`` with lone surrogates (which DuckDB cannot take) replaced by '?'."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _mask_con():
    con = getattr(_TLS, "con", None)
    if con is None:
        con = _TLS.con = duckdb.connect()
        phones.install(con)
        con.execute(f"CREATE MACRO aa_mask(x) AS ({mask_sql('x')})")
    return con


def mask_many(texts: Sequence[str | None], extra_patterns: dict[str, str] | None = None) -> list[str | None]:
    """``mask`` of each text, in one query (one bind of the masking SQL, however many texts): what to call
    for more than a few texts. None stays None."""
    if not texts:
        return []
    values = [None if t is None else valid_utf8(t) for t in texts]
    call = mask_sql("v", extra_patterns) if extra_patterns else "aa_mask(v)"
    rows = (
        _mask_con()
        .execute(f"SELECT {call} FROM unnest($1::VARCHAR[]) WITH ORDINALITY t(v, i) ORDER BY i", [values])
        .fetchall()
    )
    return [r[0] for r in rows]


def mask(text: str | None, extra_patterns: dict[str, str] | None = None) -> str | None:
    """Mask every detected entity in ``text`` for display; None stays None.

    Runs ``mask_sql`` in a per-thread in-memory DuckDB, so detection is exactly the
    scanner's (same RE2 patterns and validators). Text that is not valid UTF-8
    (lone surrogates) has the offending characters replaced by '?' first. Each call binds the masking
    SQL anew (~20-90 ms): use ``mask_many`` for many texts; repeated texts up to 4 kB come from a cache.
    """
    if text is None:
        return None
    extra = tuple(sorted((extra_patterns or {}).items()))
    return _mask_cached(text, extra) if len(text) <= 4096 else _mask_cached.__wrapped__(text, extra)


@lru_cache(maxsize=4096)
def _mask_cached(text: str, extra: tuple[tuple[str, str], ...]) -> str:
    text = valid_utf8(text)
    arg = "CAST($1 AS VARCHAR)"
    call = mask_sql(arg, dict(extra)) if extra else f"aa_mask({arg})"
    return _mask_con().execute(f"SELECT {call}", [text]).fetchall()[0][0]
