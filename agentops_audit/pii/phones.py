"""Phone numbers: candidates by shape and context, verified with libphonenumber (``phonenumbers``).

The SQL scan sends only the texts its RE2 prefilter (``PREFILTER``) matches to ``find_phones``, through
the DuckDB UDF ``aa_phones`` that ``install`` registers (a vectorised Arrow UDF: one Python call per batch
of candidate texts, never per span). ``find_phones`` returns the phone numbers in a text as they are
written there, extension included:

- a candidate is a run of digit groups (separators space, ``.``, ``-``, ``/``, parentheses), optionally
  after ``+`` or an international call prefix (``00``, ``011``), optionally followed by an extension
  (``x123``, ``ext. 123``, ``#123``); a run too long to be one number is tried group by group;
- shapes that are something else are rejected first: dates, dotted quads, SSNs (3-2-4 with dashes),
  card-like runs of 4-digit groups, amounts with thousands separators, versions (dotted 1-digit groups);
- a run right before a street name (``0583 283 Hickory Ridge Drive``) is a house number, not a phone;
- international numbers (``+``, ``00``, ``011``) must be possible numbers for their country code;
- national numbers need either a phone-like grouping (three groups or more, a parenthesised area code,
  or a trunk ``0`` before two groups) or a phone cue just before them (``phone``, ``tel``, ``fax``,
  ``mobile``, ``call me at``, a ``"phone":`` key, ...) or a label just after them (``8449845144-Fax``,
  ``9380 6377 office``), and must be possible numbers of one of
  ``REGIONS`` (libphonenumber's per-region lengths and national prefix).

Leniency is libphonenumber's POSSIBLE (length per region), not VALID: VALID rejects numbers whose
prefixes are unassigned, which is most synthetic test data and some real numbers of new ranges; the
shape and cue rules above carry the precision instead. Measured in ``bench/pii.py``.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import phonenumbers
import pyarrow as pa
from phonenumbers import NumberParseException, PhoneMetadata

from agentops_audit.pii import addresses

# Regions tried, in order, for numbers written without a country code.
REGIONS = (
    "US",
    "GB",
    "DE",
    "FR",
    "NL",
    "ES",
    "IT",
    "AU",
    "CA",
    "JP",
    "IN",
    "BR",
    "CH",
    "AT",
    "BE",
    "SE",
    "PL",
    "IE",
    "NZ",
    "MX",
    "PT",
    "DK",
    "NO",
    "FI",
    "CZ",
    "ZA",
    "SG",
    "HK",
    "CN",
    "KR",
    "IL",
    "AE",
)

# RE2 (DuckDB) necessary condition of a finding: a '+' before a digit, or seven digits with nothing but what
# _CANDIDATE allows between two digit groups (up to two separators, parentheses with a space and a '+'
# inside them: at most seven characters) between them.
PREFILTER = "\\+ ?\\(?\\d|\\d(?:[\\s\u00a0./()+-]{0,7}\\d){6}"

_SEP = r"[ \t\u00a0./-]"
_GROUP = r"(?:\(\s?\+?\d{1,5}\s?\)|\d{1,8}+)"  # possessive: a digit run splits one way only
_EXT = r"(?:\s?(?:x|ext\.?|extn\.?|extension|#)\s?\d{1,6})"
_CANDIDATE = re.compile(
    rf"(?:(?<=\\[nrt])|(?<![\w+/.@#$-]))(?<!\d:)(?P<intl>\+\s?|(?<!\d)(?:00|011)(?=[ .-]?[1-9]))?"
    rf"(?P<body>{_GROUP}(?:{_SEP}{{0,2}}{_GROUP}){{0,9}})(?P<ext>{_EXT})?(?![\w@])(?![.:-]\d)",
    re.I,
)
_CUE = re.compile(
    r"(?:\b(?:tele?phone|phone|ph|tel|fax|mobile|mob|cell(?:phone)?|handy|gsm|sms|"
    r"text(?: (?:me|you|us|him|her|them))?(?: (?:at|on))?|whats ?app|"
    r"call(?: (?:me|us|him|her|them|back))?(?: (?:at|on))?|reach (?:me|us|him|her|them)(?: (?:at|on))?|"
    r"(?:contact|phone|mobile|cell|my|home|work|office) (?:number|no\.?|#)|msisdn|telefon|t[ée]l[ée]fono|"
    r"m[oó]vil|numéro|nummer|dial(?:ed|ing)?|(?:sent|send|sending|texted|messaged|forwarded|called) (?:to|at|on)|"
    r"callback(?: number)?|hotline|helpline|desk|direct(?: line)?|(?:not )?answering at|messages? (?:to|at|on)|"
    r"rufen sie (?:mich|uns) (?:unter|an)|erreichbar unter|anrufen unter|"
    r"appele[rz](?:-moi)? au|ll[aá]m[ae](?:me)? al|chiamami al|bel (?:me|ons) op)|"
    r"[\\\"']*(?:phone|tel|mobile|fax|cell|msisdn|desk)[\w-]*[\\\"']*)"
    r"{ws}(?:number|no\.?|#)?(?: on (?:file|record)| below| above)?{ws}[:=.]?{ws}(?:is\s+|at\s+|on\s+)?$".replace(
        "{ws}", r"(?:[\s\"'\\]|\\[nrt])*"
    ),
    re.I,
)

# a date at the start of a run (2024-03-05 14, 05.03.2024, 12/31/24): one of day and month is a month; not with
# spaces, which French phones use
_DATE = re.compile(
    r"(?:19|20)\d\d([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])|"
    r"(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|1[0-2])\2(?:19|20)?\d\d|"
    r"(?:0?[1-9]|1[0-2])([-/.])(?:0?[1-9]|[12]\d|3[01])\3(?:19|20)?\d\d"
)
_SSN = re.compile(r"\d{3}-\d{2}-\d{4}")
_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_ISBN = re.compile(r"97[89][- ]\d{1,5}[- ]\d{1,7}[- ]\d{1,7}(?:[- ]\d)?")
_CARDLIKE = re.compile(r"\d{4}(?:[ -]\d{4}){2,}(?:[ -]\d{1,4})?")
_THOUSANDS = re.compile(r"\d{1,2}(?:([ ,.])\d{3})(?:\1\d{3})+|\d{3}(?:([ ,.])\d{3}){3,}")


@cache
def _region_lengths(region: str) -> tuple[str, frozenset[int]]:
    meta = PhoneMetadata.metadata_for_region(region)
    return meta.national_prefix or "", frozenset(meta.general_desc.possible_length)


def _groups(body: str) -> list[str]:
    return re.findall(r"\d+", body)


def digits_of(body: str) -> str:
    return "".join(_groups(body))


def _possible_national(text: str, digits: str) -> bool:
    """Possible in one of REGIONS: the length test on libphonenumber's metadata first (cheap), then the
    library's own parse and is_possible_number for that region."""
    for region in REGIONS:
        prefix, lengths = _region_lengths(region)
        nsn = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
        if len(nsn) not in lengths:
            continue
        try:
            if phonenumbers.is_possible_number(phonenumbers.parse(text, region)):
                return True
        except NumberParseException:
            continue
    return False


def _possible_international(intl: str, body: str) -> bool:
    text = "+" + body if intl.strip() == "+" else intl.strip() + " " + body
    region = "US" if intl.strip() == "011" else ("DE" if intl.strip() == "00" else None)
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(text, region))
    except NumberParseException:
        return False


def _other_shape(run: str, cue: bool | None) -> bool:
    """``run`` (digits and separators) is written like something other than a phone number."""
    groups = _groups(run)
    date = _DATE.match(run)
    if date and not re.match(r"[-/.]\d", run[date.end() :]):  # 02.23.91.04.05 goes on: not a date
        return True
    if any(p.fullmatch(run) for p in (_ISBN, _SSN, _QUAD, _CARDLIKE)):
        return True
    if _THOUSANDS.fullmatch(run) and not cue:
        return True
    # versions (1.2.3.4567) and decimals among other numbers (37.7749 -122.4194)
    return not cue and "." in run and (any(len(g) == 1 for g in groups) or bool(re.search(r"[ /-]", run)))


@lru_cache(maxsize=65536)
def _verdict(intl: str, body: str, cue: bool | None) -> bool | None:
    """Is ``intl + body`` (extension already split off) a phone number? None: it is written as something
    else (a date, an address, an SSN, ...), so no part of it is one either. ``cue``: see ``_cue_before``."""
    body = body.strip()
    prefix = intl.strip()
    if prefix != "+" and _other_shape(prefix + body, cue):
        return None
    if cue is None and not intl:
        return None
    digits = "".join(_groups(body))
    groups = _groups(body)
    if not 7 <= len(digits) <= 15 or body.count("(") != body.count(")"):
        return False
    if intl:
        if _possible_international(intl, body):
            return True
        if not (cue and prefix in ("00", "011")):
            return False
        body, digits, groups = prefix + body, prefix + digits, [prefix, *groups]  # 00... as a national number
    if len(groups[-1]) == 1 or len(groups) > 1 and len(groups[0]) == 1 and groups[0] not in "01":
        return False  # a lone digit before or after a number is not part of it
    if len(digits) > 12 and not cue:
        return False  # longer than a national number: a card, an account, an id
    if sum(len(g) == 1 for g in groups) >= 2:
        return False  # a list of small numbers, not a grouping
    grouped = (
        len(groups) >= 3
        or body.startswith("(")
        or (len(groups) == 2 and groups[0].startswith("0") and len(groups[0]) <= 5)
    )
    if not (grouped or cue):
        return False
    return _possible_national(body, digits)


_NOT_PHONE = re.compile(
    r"(?:\b[A-Z]{2}\d\d(?: [A-Z0-9]{4})+ $|\b(?:suite|ste|apt|apartment|unit|room|rm|floor|fl|"
    r"box|no|order|invoice|ticket|account|acct|id|ref|serial|sku|po|zip|postcode|isbn|issn|ssn|"
    r"social security(?: number)?(?: is)?|iban|card|version|v)\.?|#)"
    r"\s*[:=]?\s*$",
    re.I,
)


# a label right after the number (``0484 84 01 64-Office``, ``(711)471-0497 fax``)
_CUE_AFTER = re.compile(
    r"(?:\\,|[ \t,(-])*(?i:office|fax|mobile|mob|cell|home|work|desk|direct|tel|phone)\b"
    r"(?![\s.:=]*[+(]?\d)"
)  # not the label of the next number (``Tel. 608 980 831``)
# a house number before a street name (``0583 283 Hickory Ridge Drive``, ``02243 19 boulevard Bryas``)
_STREET_AFTER = re.compile(
    rf"[ \t]+(?:(?:{addresses.W} ){{1,3}}(?:{addresses.STRONG})\b|"
    rf"(?:{addresses.FR_TYPE}|(?i:via|calle|strada|rua|travessa))\b)"
)


def _cue_before(text: str, start: int) -> bool | None:
    """True after a phone cue, None after a word that says the number is something else, else False."""
    before = text[max(0, start - 40) : start]
    if _CUE.search(before):
        return True
    return None if _NOT_PHONE.search(before.replace("\\n", " ")) else False


def _spans(body: str) -> list[tuple[int, int]]:
    """(start, end) of each digit group (parentheses included) inside ``body``."""
    return [(m.start(), m.end()) for m in re.finditer(r"\(\s?\+?\d{1,5}\s?\)|\d+", body)]


def find_phones(text: str | None) -> list[str]:
    """The phone numbers in ``text``, each as written (with its extension), in order of appearance."""
    return list(_find_phones(text)) if text else []


@lru_cache(maxsize=8192)  # stored traces repeat texts (tool results, prompts): each is parsed once
def _find_phones(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for m in _CANDIDATE.finditer(text):
        intl, body, ext = m.group("intl") or "", m.group("body"), m.group("ext") or ""
        if sum(c.isdigit() for c in body) < 7:
            continue  # too short to hold a number: no need to look for a cue
        if _STREET_AFTER.match(text, m.end()):
            continue
        cue = _cue_before(text, m.start())
        if cue is False and _CUE_AFTER.match(text, m.end()):
            cue = True
        verdict = _verdict(intl, body, cue)
        if verdict:
            found.append(m.group(0))
            continue
        # A run that is not one number: the longest run of its first groups that is one (a trailing count
        # or year dropped), or the run without a lone leading count. Runs of 16+ digits (IBANs, cards) are
        # not searched inside.
        spans = _spans(body)
        if verdict is None or len(digits_of(body)) >= 16:
            continue
        best = None
        tries = [(0, k) for k in range(len(spans) - 1, 0, -1)]
        if len(spans) > 2 and spans[0][1] - spans[0][0] <= 2:
            tries.append((1, len(spans)))
        for i, k in tries:
            a, b = spans[i][0], spans[k - 1][1]
            sub_intl = intl if i == 0 else ""
            start = m.start("body") + a - (len(intl) if sub_intl else 0)
            if _verdict(sub_intl, body[a:b], _cue_before(text, start)):
                best = text[start : m.start("body") + b] + (ext if b == len(body) else "")
                break
        if best:
            found.append(best)
    return tuple(found)


def _udf(texts):
    return pa.array([find_phones(t) for t in texts.to_pylist()], type=pa.list_(pa.string()))


UDF = "aa_phones"


def install(con) -> None:
    """Register ``aa_phones(VARCHAR) -> VARCHAR[]`` on ``con`` (idempotent)."""
    exists = con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [UDF]).fetchall()[0][0]
    if not exists:
        con.create_function(UDF, _udf, ["VARCHAR"], "VARCHAR[]", type="arrow")
