"""PII and secret detection for trace text, set-based in DuckDB.

Every entity is an RE2 pattern (DuckDB's regex engine: no lookaround, no
backreferences) whose capture group 1 is the value. Patterns that need a left
boundary consume one delimiter character outside group 1; the right boundary is
``\\b`` or a greedy tail that a validator macro then rejects (so ``10.0.0.1.5``
or ``415-555-0123-99`` are not cut down to a shorter false match).
Validators are DuckDB macros (Luhn, IBAN mod-97, strict shapes) applied to the
candidate list, so scanning is one vectorised SELECT with no Python row loop.

Masking rewrites each validated match, entity by entity in ``ENTITIES`` order,
into a form no pattern matches again (``j***@e***.com``, ``+1******0123``,
``****-****-****-4242``, ``sk-****``). ``mask()`` runs the same SQL as
``mask_sql()`` in a private in-memory DuckDB, so display masking and the
scanner can never disagree. Redaction markers (``[REDACTED]``, ``<EMAIL>``,
``***``, ``{{email}}``, ``█████``) contain nothing any pattern matches.
Known choice: a bare dotted quad such as ``1.2.3.4`` is an ipv4 finding unless
it is directly preceded by a version cue (``v``, ``ver``, ``version``,
``release``, ``build``); ``::1`` and other IPv6 forms with < 5 hex digits are ignored.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Entity:
    """A detectable entity. ``pattern`` is RE2 with the value in group 1;
    ``validator`` names a macro from ``install_macros`` (or None); ``masker`` is a
    SQL expression over ``{m}`` (the raw match) giving the masked display form."""

    name: str
    pattern: str
    validator: str | None
    kind: str  # "pii" | "secret"
    description: str
    masker: str = "'****'"


_DIG = "regexp_replace({s}, '[^0-9]', '', 'g')"
_OCT = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_V4 = rf"{_OCT}(?:\.{_OCT}){{3}}"
_H = "[0-9a-fA-F]{1,4}"
_V6 = "|".join([
    rf"(?:{_H}:){{7}}{_H}", rf"(?:{_H}:){{1,7}}:", rf"(?:{_H}:){{1,6}}:{_H}",
    *[rf"(?:{_H}:){{1,{5 - k}}}(?::{_H}){{1,{k + 2}}}" for k in range(4)],
    rf"{_H}:(?::{_H}){{1,6}}", rf":(?::{_H}){{1,7}}", rf"(?:{_H}:){{6}}{_V4}",
    rf"::(?:[fF]{{4}}(?::0{{1,4}})?:)?{_V4}", rf"(?:{_H}:){{1,4}}:{_V4}",
])
_E164 = r"\+[1-9]\d{7,14}|\+[1-9]\d{0,3}[ .-]?\(?\d{1,5}\)?(?:[ .-]\d{2,8}){1,4}"
_NANP = r"(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4}"
_CARD = r"\d{13,19}|\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}|\d{4}[ -]\d{6}[ -]\d{4,5}"
_B = r"(?:^|[^\w.+-])"  # left delimiter for number-like entities
_DATE = (r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|(?:jan|feb|mar|apr|may|jun|jul|"
         r"aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}|\d{1,2}(?:st|nd|rd|th)? "
         r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{4}")
_SUFFIX = "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct"

# Validator macro bodies over {s}; install_macros() creates them, mask_sql() inlines them.
_MACROS: dict[str, str] = {
    "luhn_ok": f"length({_DIG}) >= 2 AND list_sum(list_transform(string_split(reverse({_DIG}), ''), "
               "lambda _c, _i: CASE WHEN _i % 2 = 1 THEN _c::INT WHEN _c::INT >= 5 "
               "THEN _c::INT * 2 - 9 ELSE _c::INT * 2 END)) % 10 = 0",
    "iban_ok": "regexp_full_match(upper(replace({s}, ' ', '')), '[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}') AND "
               "list_reduce(list_transform(string_split(substr(upper(replace({s}, ' ', '')), 5) || "
               "left(upper(replace({s}, ' ', '')), 4), ''), lambda _c: CASE WHEN _c BETWEEN 'A' AND 'Z' "
               "THEN ord(_c) - 55 ELSE try_cast(_c AS INT) END), lambda _a, _d: CASE WHEN _d >= 10 "
               "THEN (_a * 100 + _d) % 97 ELSE (_a * 10 + _d) % 97 END, 0) = 1",
    "card_ok": f"regexp_full_match({{s}}, '[0-9 -]+') AND regexp_matches({_DIG}, "
               "'^(4|5[1-5]|2[2-7]|3|6)') AND ({luhn_ok})",
    "phone_ok": f"regexp_full_match({{s}}, '{_E164}|{_NANP}') AND length({_DIG}) BETWEEN 8 AND 15",
    "email_ok": "NOT contains({s}, '://')",  # user@host inside a URL is not an e-mail
    "ipv4_ok": f"regexp_full_match({{s}}, '{_V4}')",
    "ipv6_ok": f"regexp_full_match({{s}}, '{_V6}') AND "
               "length(regexp_replace({s}, '[^0-9a-fA-F]', '', 'g')) >= 5",
    "secret_ok": "regexp_matches({s}, '[0-9]') AND regexp_matches(substr({s}, 4), '[A-Za-z]')",
}
_MACROS["card_ok"] = _MACROS["card_ok"].replace("{luhn_ok}", _MACROS["luhn_ok"])


def _e(name, kind, pattern, validator, masker, description):
    return Entity(name, pattern, validator, kind, description, masker)


# Registry; order matters for masking (longest / most specific first).
ENTITIES: dict[str, Entity] = {e.name: e for e in [
    _e("private_key", "secret", r"(-----BEGIN[A-Z0-9 ]* PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]|\\[rn])*"
       r"(?:-----END[A-Z0-9 ]* PRIVATE KEY-----)?)", None, "'[PRIVATE KEY ****]'",
       "PEM private key block (header, body and footer when present)"),
    _e("jwt", "secret", r"\b(eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)", None,
       "'eyJ****'", "JSON Web Token: three base64url segments, header starting eyJ"),
    _e("github_token", "secret",
       r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|github_pat_[A-Za-z0-9_]{22,})", None,
       "regexp_extract({m}, '^(gh[a-z]_|github_pat_)') || '****'",
       "GitHub token: ghp_/gho_/ghu_/ghs_/ghr_ + 36 alnum, or github_pat_..."),
    _e("api_key_sk", "secret", r"(?:^|[^\w-])(sk-[A-Za-z0-9_-]{20,})", "secret_ok",
       "regexp_extract({m}, '^sk-(proj-|ant-)?') || '****'",
       "sk-, sk-proj-, sk-ant- style API key, 20+ chars with letters and digits"),
    _e("aws_access_key", "secret", r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b", None, "left({m}, 4) || '****'",
       "AWS access key id: AKIA/ASIA + 16 upper-case alnum"),
    _e("email", "pii", r"((?:[A-Za-z][A-Za-z0-9+.-]*://)?[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+"
       r"(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})", "email_ok",
       r"regexp_replace({m}, '^(.)[^@]*@(.).*(\.[^.]+)$', '\1***@\2***\3')", "e-mail address"),
    _e("iban", "pii",
       r"(?:^|[^\w])([A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?))\b", "iban_ok",
       "left(replace({m}, ' ', ''), 2) || repeat('*', length(replace({m}, ' ', '')) - 6) || "
       "right(replace({m}, ' ', ''), 4)",
       "IBAN (upper case, compact or grouped by 4) passing mod-97"),
    _e("credit_card", "pii", rf"{_B}((?:[A-Z]{{2}}\d{{2}} )?(?:{_CARD}))\b", "card_ok",
       f"'****-****-****-' || right({_DIG.replace('{s}', '{m}')}, 4)",
       "payment card, 13-19 digits (compact, 4-4-4-4 or 4-6-5), known IIN, passing Luhn"),
    _e("us_ssn", "pii", _B + r"((?:00[1-9]|0[1-9]\d|[1-578]\d\d|6[0-57-9]\d|66[0-57-9])[- ]"
       r"(?:0[1-9]|[1-9]\d)[- ](?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3}))\b",
       None, "'***-**-****'", "US SSN AAA-GG-SSSS; area not 000/666/9xx, group not 00, serial not 0000"),
    _e("phone", "pii", rf"{_B}((?:{_E164}|{_NANP})(?:[.-]\d+)*)\b", "phone_ok",
       f"CASE WHEN starts_with({{m}}, '+') THEN '+' || left({_DIG.replace('{s}', '{m}')}, 1) || "
       f"repeat('*', length({_DIG.replace('{s}', '{m}')}) - 5) ELSE repeat('*', "
       f"length({_DIG.replace('{s}', '{m}')}) - 4) END || right({_DIG.replace('{s}', '{m}')}, 4)",
       "phone: E.164 (+14155550123, +44 20 7946 0958) or NANP (415) 555-0123 / 415-555-0123"),
    _e("ipv6", "pii", r"(?:^|[^\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3})",
       "ipv6_ok", "split_part({m}, ':', 1) || ':****:****'", "IPv6 address, full or compressed"),
    _e("ipv4", "pii", r"(?:^|[^\w.])((?:(?i:version|ver|v|release|build)[\s:=\"']*)?\d+(?:\.\d+)+)\b",
       "ipv4_ok", "split_part({m}, '.', 1) || '.***.***.***'", "IPv4 dotted quad (not after a version cue)"),
    _e("date_of_birth", "pii", r"(?i)\b(?:dob|d\.o\.b\.?|date of birth|birth ?date|birthday|born(?: on)?)"
       rf"[\"']?\s*[:=]?\s*[\"']?\s*(?:is\s+|was\s+|on\s+)?({_DATE})\b", None, "'****-**-**'",
       "heuristic: a date right after a DOB cue (DOB, date of birth, born, birthday)"),
    _e("street_address", "pii", rf"\b(\d{{1,5}}(?: [A-Z][a-z]*| \d+(?:st|nd|rd|th)){{1,4}} (?:{_SUFFIX}))\b",
       None, "'[ADDRESS]'", "heuristic: house number + capitalised street name + street suffix"),
]}


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _entities(extra: dict[str, str] | None) -> list[Entity]:
    out = list(ENTITIES.values())
    for name, pat in (extra or {}).items():
        if name in ENTITIES:
            raise ValueError(f"extra pattern {name!r} collides with a built-in entity")
        out.append(Entity(name, f"({pat})", None, "pii", "organisation-specific pattern",
                          _lit(f"[{name.upper()}]")))
    return out


def _hits(e: Entity, var: str, inline: bool) -> str:
    """SQL list of validated matches of ``e`` in the VARCHAR expression ``var``."""
    found = f"regexp_extract_all({var}, {_lit(e.pattern)}, 1)"
    if e.validator:
        check = f"({_MACROS[e.validator].replace('{s}', 'm')})" if inline else f"{e.validator}(m)"
        found = f"list_filter({found}, lambda m: coalesce({check}, false))"
    return found


def install_macros(con) -> None:
    """Create (or replace) the validator macros as TEMP macros on ``con``: idempotent."""
    for name, body in _MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {name}(s) AS ({body.replace('{s}', 's')})")


def scan(con, source: str, fields: list[str], key_cols: tuple[str, ...] = ("trace_id", "span_id"),
         extra_patterns: dict[str, str] | None = None, table: str = "pii_findings") -> None:
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


# Sharper stand-ins for candidate patterns that match far more than their validator accepts: still a
# necessary condition of a finding. ipv4's pattern matches any dotted number (a price such as 42.5); a match
# the ipv4_ok validator accepts is a dotted quad.
_PREFILTER = {"ipv4": r"\d{1,3}(?:\.\d{1,3}){3}"}


def candidate_pattern(extra_patterns: dict[str, str] | None = None) -> str:
    """One RE2 pattern matching every text in which some entity (built-in or ``extra_patterns``) can be
    found: a text it does not match has no finding and nothing to mask, so scanning or masking only the
    texts it matches is lossless (validators only ever reject matches)."""
    patterns = [_PREFILTER.get(e.name, e.pattern) for e in ENTITIES.values()]
    patterns += [f"({p})" for p in (extra_patterns or {}).values()]
    return "|".join(f"(?:{p})" for p in patterns)


def candidates_sql(source: str, fields: Sequence[str], key_cols: tuple[str, ...] = ("trace_id", "span_id"),
                   extra_patterns: dict[str, str] | None = None) -> str:
    """SQL for the rows of ``source`` in which some of ``fields`` can hold a finding, each field kept only
    where it can (NULL otherwise): the input for ``scan``, with the same findings as scanning ``source``
    and far fewer values through the per-entity extraction."""
    pattern = _lit(candidate_pattern(extra_patterns))
    flags = ", ".join(f"{_q(f)}, regexp_matches({_q(f)}, {pattern}) AS {_q('_m_' + f)}" for f in fields)
    kept = ", ".join(f"CASE WHEN {_q('_m_' + f)} THEN {_q(f)} END AS {_q(f)}" for f in fields)
    keys = ", ".join(_q(k) for k in key_cols)
    return (f"SELECT {keys}, {kept} FROM (SELECT {keys}, {flags} FROM {source}) "
            f"WHERE {' OR '.join(_q('_m_' + f) for f in fields)}")


def leak_summary_sql(table: str = "pii_findings", source: str | None = None,
                     fields: Sequence[str] | None = None,
                     key_cols: tuple[str, ...] = ("trace_id", "span_id")) -> str:
    """SQL giving, per (field, entity): records_scanned (non-null, non-empty values of the
    field in ``source``), records_with_leak (distinct key tuples with a finding), findings
    and leak_rate = records_with_leak / records_scanned (NULL when nothing was scanned).
    Entities are the registry plus any other entity present in ``table``."""
    if source is None or not fields:
        raise ValueError("leak_summary_sql() needs source and fields")
    scanned = " UNION ALL ".join(
        f"SELECT {_lit(f)} AS field, count(*) FILTER (WHERE CAST({_q(f)} AS VARCHAR) <> '') "
        f"AS records_scanned FROM {source}" for f in fields)
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
    by their masked form. Validators are inlined, so no macros need to be installed.
    """
    out = expr
    for i, e in enumerate(_entities(extra_patterns)):
        t = f"_t{i}"
        out = (f"list_transform([{out}], lambda {t}: list_reduce({_hits(e, t, inline=True)}, "
               f"lambda _acc, m: replace(_acc, m, {e.masker.replace('{m}', 'm')}), {t}))[1]")
    return out


_TLS = threading.local()


def valid_utf8(text: str) -> str:
    """``text`` with lone surrogates (which DuckDB cannot take) replaced by '?'."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def mask(text: str | None, extra_patterns: dict[str, str] | None = None) -> str | None:
    """Mask every detected entity in ``text`` for display; None stays None.

    Runs ``mask_sql`` in a per-thread in-memory DuckDB, so detection is exactly the
    scanner's (same RE2 patterns and validators). Text that is not valid UTF-8
    (lone surrogates) has the offending characters replaced by '?' first.
    """
    if text is None:
        return None
    text = valid_utf8(text)
    con = getattr(_TLS, "con", None)
    if con is None:
        con = _TLS.con = duckdb.connect()
        con.execute(f"CREATE MACRO aa_mask(x) AS ({mask_sql('x')})")
    arg = "CAST($1 AS VARCHAR)"
    call = mask_sql(arg, extra_patterns) if extra_patterns else f"aa_mask({arg})"
    return con.execute(f"SELECT {call}", [text]).fetchone()[0]
