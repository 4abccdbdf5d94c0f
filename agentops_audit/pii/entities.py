"""The entity registry: RE2 patterns (DuckDB's regex engine: no lookaround, no backreferences) whose
capture group 1 is the value, and the validator macros applied to each match.

Patterns that need a left boundary consume one delimiter character outside group 1; the right boundary
is ``\\b`` or a greedy tail that a validator then rejects (so ``10.0.0.1.5`` is not cut down to a shorter
false match). An entity may have more patterns (``extra``) feeding the same validator, e.g. a value after
a cue; ``udf`` entities (phone) are found by a Python function over the texts their prefilter matches.
Masked forms (``masker``) never match any pattern again.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentops_audit.pii import addresses, phones


@dataclass(frozen=True)
class Entity:
    """A detectable entity. ``pattern`` is RE2 with the value in group 1 (for a ``udf`` entity: the
    prefilter that a text must match before the UDF looks at it); ``extra`` are more such patterns;
    ``validator`` names a macro of ``MACROS`` (or None); ``masker`` is a SQL expression over ``{m}`` (the
    raw match) giving the masked display form; ``prefilter`` (optional) is a cheaper RE2 pattern that every
    text holding a finding matches."""

    name: str
    pattern: str
    validator: str | None
    kind: str  # "pii" | "secret"
    description: str
    masker: str = "'****'"
    extra: tuple[str, ...] = ()
    udf: str | None = None
    prefilter: str | None = None


_DIG = "regexp_replace({s}, '[^0-9]', '', 'g')"
_OCT = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_V4 = rf"{_OCT}(?:\.{_OCT}){{3}}"
_H = "[0-9a-fA-F]{1,4}"
_V6 = "|".join(
    [
        rf"(?:{_H}:){{7}}{_H}",
        rf"(?:{_H}:){{1,7}}:",
        rf"(?:{_H}:){{1,6}}:{_H}",
        *[rf"(?:{_H}:){{1,{5 - k}}}(?::{_H}){{1,{k + 2}}}" for k in range(4)],
        rf"{_H}:(?::{_H}){{1,6}}",
        rf":(?::{_H}){{1,7}}",
        rf"(?:{_H}:){{6}}{_V4}",
        rf"::(?:[fF]{{4}}(?::0{{1,4}})?:)?{_V4}",
        rf"(?:{_H}:){{1,4}}:{_V4}",
    ]
)
# Grouped forms have fixed shapes: an optional trailing group would swallow a number written after the card
# (4111 1111 1111 1111 49.99) and the Luhn check would then refuse the whole match.
_CARD = r"\d{14,19}|\d{4}[ -]\d{4}[ -]\d{4}(?:[ -]\d{4})?|\d{4}[ -]\d{6}[ -]\d{4,5}"
_B = r"(?:^|[^\w.+-])"  # left delimiter for number-like entities
_DATE = (
    r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|(?:jan|feb|mar|apr|may|jun|jul|"
    r"aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}|\d{1,2}(?:st|nd|rd|th)? "
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{4}"
)
# IBAN length per country (SWIFT IBAN registry, plus the national IBANs in wide use in Africa).
IBAN_LENGTHS = (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 "
    "DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 "
    "IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 "
    "MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 "
    "SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30 DZ26 AO25 BF28 BJ28 CI28 CM27 "
    "CV25 IR26 MG27 ML28 MZ25 SN28 TD27 GA27 CG27 GQ27 CF27 KM27 NE28 GW25 TG28"
)
_IBAN_CC = "|".join(sorted({c[:2] for c in IBAN_LENGTHS.split()}))
_IBAN_U = "upper(replace({s}, ' ', ''))"
# Values that stand for a secret without being one (placeholders, references, masks).
_PLACEHOLDER = (
    r"(?i)[*x•.#?_-]+|null|none|nil|true|false|undefined|empty|redacted|hidden|masked|secret|"
    r"password|passwd|changeme|required|optional|string|example|placeholder|your[_-]?\w*|n/?a|unset|"
    r"token|api[_-]?key|\$\{?[A-Z_][A-Z0-9_]*\}?|%(?:\(\w+\))?[sd]|<.*|\{.*|\[.*|.*\*\*\*.*"
)
_KNOWN_PREFIX = r"^(eyJ|sk-|sk_|rk_|gh[pousr]_|github_pat_|AKIA|ASIA|xox|AIza|glpat-|npm_|hf_|-----)"
# Cue words before a secret value; key names may carry a prefix (OPENAI_API_KEY, db_password, x-api-key).
_SECRET_KEYS = (
    r"api[_.-]?key|apikey|access[_.-]?key(?:[_.-]?id)?|secret[_.-]?key|secret[_.-]?access[_.-]?key|"
    r"client[_.-]?secret|app[_.-]?secret|auth[_.-]?token|access[_.-]?token|refresh[_.-]?token|"
    r"session[_.-]?token|api[_.-]?token|bot[_.-]?token|secret|token|account[_.-]?key|"
    r"shared[_.-]?access[_.-]?key|private[_.-]?key|signing[_.-]?key|encryption[_.-]?key|"
    r"credentials?|auth"
)
_PASSWORD_KEYS = r"password|passwd|passphrase|pwd|pass|db[_.-]?pass"
_ASSIGN = r"(?:\\?[\"'])?\s*(?:[:=]|:=|=>)\s*"
_UNQUOTED = r"[^\s\"'`,;&|<>{}()\[\]\\]"


def _cued(keys: str, n: int) -> tuple[str, ...]:
    """Value after a key cue, group 1: double-quoted (JSON, also escaped inside JSON), single-quoted, bare."""
    return (
        rf"(?i:{keys}){_ASSIGN}\\?\"([^\"\\\s]{{{n},}})\\?\"",
        rf"(?i:{keys}){_ASSIGN}'([^'\s]{{{n},}})'",
        rf"(?i:{keys}){_ASSIGN}({_UNQUOTED}{{{n},}})",
    )


# Validator macro bodies over {s}; install_macros() creates them, mask_sql() inlines them.
MACROS: dict[str, str] = {
    "luhn_ok": f"length({_DIG}) >= 2 AND list_sum(list_transform(string_split(reverse({_DIG}), ''), "
    "lambda _c, _i: CASE WHEN _i % 2 = 1 THEN _c::INT WHEN _c::INT >= 5 "
    "THEN _c::INT * 2 - 9 ELSE _c::INT * 2 END)) % 10 = 0",
    "iban_ok": f"regexp_full_match({_IBAN_U}, '[A-Z]{{2}}[0-9]{{2}}[A-Z0-9]{{11,30}}') AND "
    f"contains('{IBAN_LENGTHS}', left({_IBAN_U}, 2) || length({_IBAN_U})::VARCHAR) AND "
    f"list_reduce(list_transform(string_split(substr({_IBAN_U}, 5) || left({_IBAN_U}, 4), ''), "
    "lambda _c: CASE WHEN _c BETWEEN 'A' AND 'Z' THEN ord(_c) - 55 ELSE try_cast(_c AS INT) END), "
    "lambda _a, _d: CASE WHEN _d >= 10 THEN (_a * 100 + _d) % 97 ELSE (_a * 10 + _d) % 97 END, 0) = 1",
    # Issuer ranges by length: Visa; Mastercard 2-series and Mir; Amex and 15-digit JCB; Diners, JCB;
    # Mastercard, Maestro, Discover, UnionPay, RuPay, Troy (13-19); Maestro (50, 56-69) at 12.
    "card_ok": f"regexp_full_match({{s}}, '[0-9 -]+') AND (({{len}} BETWEEN 13 AND 19 AND starts_with({_DIG}, '4')) "
    f"OR ({{len}} = 16 AND regexp_matches({_DIG}, '^2[2-7]')) "
    f"OR ({{len}} = 15 AND regexp_matches({_DIG}, '^(3[47]|2131|1800)')) "
    f"OR ({{len}} BETWEEN 14 AND 19 AND regexp_matches({_DIG}, '^3(0[0-59]|[5689])')) "
    f"OR ({{len}} BETWEEN 13 AND 19 AND regexp_matches({_DIG}, '^(5|6)')) "
    f"OR ({{len}} = 12 AND regexp_matches({_DIG}, '^(5[06-8]|6)'))) "
    "AND ({luhn_ok})",
    "email_ok": "NOT contains({s}, '://')",  # user@host inside a URL is not an e-mail
    "ipv4_ok": f"regexp_full_match({{s}}, '{_V4}')",
    "ipv6_ok": f"regexp_full_match({{s}}, '{_V6}') AND length(regexp_replace({{s}}, '[^0-9a-fA-F]', '', 'g')) >= 5",
    "secret_ok": "regexp_matches({s}, '[0-9]') AND regexp_matches(substr({s}, 4), '[A-Za-z]')",
    "address_ok": f"NOT regexp_matches({{s}}, '{addresses.REFUSE}')",
    # SSN: a unit number before it (Suite 123-45-6789) is kept in the match so that it can be refused
    "ssn_ok": "regexp_matches({s}, '^[0-9]')",
    # HTTP Basic: base64 of user:password
    "basic_ok": "contains(coalesce(try(decode(from_base64({s}))), ''), ':')",
    "password_ok": f"length({{s}}) >= 4 AND NOT regexp_full_match({{s}}, '{_PLACEHOLDER}')",
    "token_ok": f"length({{s}}) >= 8 AND regexp_matches({{s}}, '[0-9]') AND regexp_matches({{s}}, '[A-Za-z]') "
    f"AND NOT regexp_full_match({{s}}, '{_PLACEHOLDER}') AND NOT regexp_matches({{s}}, '{_KNOWN_PREFIX}')",
    "cued_secret_ok": f"NOT regexp_full_match({{s}}, '{_PLACEHOLDER}') "
    f"AND NOT regexp_matches({{s}}, '{_KNOWN_PREFIX}') "
    "AND ((length({s}) >= 8 AND regexp_matches({s}, '[0-9]') AND regexp_matches({s}, '[A-Za-z]')) "
    "OR (length({s}) >= 16 AND regexp_matches({s}, '[a-z]') AND regexp_matches({s}, '[A-Z0-9]')))",
}
MACROS["card_ok"] = MACROS["card_ok"].replace("{luhn_ok}", MACROS["luhn_ok"]).replace("{len}", f"length({_DIG})")


def _e(name, kind, pattern, validator, masker, description, **kw):
    return Entity(name, pattern, validator, kind, description, masker, **kw)


_STRIP_PREFIX = "regexp_extract({m}, '^(sk-(proj-|ant-)?|sk_live_|sk_test_|rk_live_|xox[a-z]-|AIza|glpat-|npm_|hf_)')"

# Registry; order matters for masking (secrets, then the most specific PII first).
ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        _e(
            "private_key",
            "secret",
            r"(-----BEGIN[A-Z0-9 ]* PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]|\\[rn])*"
            r"(?:-----END[A-Z0-9 ]* PRIVATE KEY-----)?)",
            None,
            "'[PRIVATE KEY ****]'",
            "PEM private key block (header, body and footer when present)",
        ),
        _e(
            "jwt",
            "secret",
            r"\b(eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)",
            None,
            "'eyJ****'",
            "JSON Web Token: three base64url segments, header starting eyJ",
        ),
        _e(
            "github_token",
            "secret",
            r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|github_pat_[A-Za-z0-9_]{22,})",
            None,
            "regexp_extract({m}, '^(gh[a-z]_|github_pat_)') || '****'",
            "GitHub token: ghp_/gho_/ghu_/ghs_/ghr_ + 36 alnum, or github_pat_...",
        ),
        _e(
            "api_key_sk",
            "secret",
            r"(?:^|[^\w-])(sk-[A-Za-z0-9_-]{20,})",
            "secret_ok",
            "regexp_extract({m}, '^sk-(proj-|ant-)?') || '****'",
            "sk-, sk-proj-, sk-ant- style API key, 20+ chars with letters and digits",
        ),
        _e(
            "aws_access_key",
            "secret",
            r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b",
            None,
            "left({m}, 4) || '****'",
            "AWS access key id: AKIA/ASIA + 16 upper-case alnum",
        ),
        _e(
            "provider_token",
            "secret",
            r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|"
            r"AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36}|hf_[A-Za-z0-9]{30,})",
            None,
            f"{_STRIP_PREFIX} || '****'",
            "provider token: Stripe sk_/rk_live|test_, Slack xox?-, Google AIza, GitLab glpat-, npm_, Hugging Face hf_",
        ),
        _e(
            "http_basic_auth",
            "secret",
            r"(?i:\bbasic)\s+([A-Za-z0-9+/]{6,}={0,2})",
            "basic_ok",
            "'****'",
            "HTTP Basic credentials: base64 of user:password after 'Basic'",
        ),
        _e(
            "bearer_token",
            "secret",
            r"(?i:\bbearer)\s+([A-Za-z0-9._~+/-]{12,}=*)",
            "token_ok",
            "'****'",
            "Bearer token (not a JWT or provider key, found as those): 12+ chars with letters and digits",
        ),
        _e(
            "password",
            "secret",
            _cued(_PASSWORD_KEYS, 4)[0],
            "password_ok",
            "'****'",
            'password after a key (password=, "passwd": , PGPASSWORD=), in a URL (scheme://user:pass@host), '
            "or on a command line (--password x, -u user:pass, mysql -pX)",
            extra=(
                *_cued(_PASSWORD_KEYS, 4)[1:],
                r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@\"'<>]*:([^\s/@\"'<>]+)@",
                r"(?:^|\s)--?(?i:password|passwd|pass)(?:=|\s+)[\"']?([^\s\"']{4,})",
                r"(?:^|\s)(?:-u|--user)\s+[^\s:\"']+:([^\s\"']{4,})",
                r"(?:^|\s)mysql(?:dump|admin)?\s[^\n]*?\s-p([^\s\"']{4,})",
            ),
            prefilter=r"(?i:pass|pwd)|://[^\s/@\"'<>]*:[^\s/@\"'<>]+@|(?:-u|--user)\s|mysql",
        ),
        _e(
            "secret_value",
            "secret",
            _cued(_SECRET_KEYS, 8)[0],
            "cued_secret_ok",
            "'****'",
            'secret after a key cue (api_key=, "token": , X-Api-Key:, client_secret, AccountKey=) or a CLI flag '
            "(--token, --api-key): 8+ chars with letters and digits, or 16+ with lower and upper case or digits",
            extra=(
                *_cued(_SECRET_KEYS, 8)[1:],
                r"(?:^|\s)--?(?i:token|api-key|apikey|secret|client-secret|auth-token|access-token)(?:=|\s+)"
                r"[\"']?([^\s\"']{8,})",
            ),
            prefilter=r"(?i:key|secret|token|credential|auth)",
        ),
        _e(
            "email",
            "pii",
            r"((?:[A-Za-z][A-Za-z0-9+.-]*://[^\s/@\"'<>]*)?[A-Za-z0-9][A-Za-z0-9._%+-]*@"
            r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})",
            "email_ok",
            r"regexp_replace({m}, '^(.)[^@]*@(.).*(\.[^.]+)$', '\1***@\2***\3')",
            "e-mail address",
        ),
        _e(
            "iban",
            "pii",
            r"(?:^|[^\w])([A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: (?:[A-Z0-9]{1,3}|"
            r"[a-z0-9]{0,2}\d[a-z0-9]{0,2}))?))\b",
            "iban_ok",
            "upper(left(replace({m}, ' ', ''), 2)) || repeat('*', length(replace({m}, ' ', '')) - 6) || "
            "right(replace({m}, ' ', ''), 4)",
            "IBAN in any case, compact or grouped by 4, of a known country's length, passing mod-97",
            prefilter=rf"(?i:{_IBAN_CC})\d\d ?[A-Za-z0-9]{{4}}",
        ),
        _e(
            "credit_card",
            "pii",
            rf"{_B}((?:[A-Za-z]{{2}}\d{{2}}(?: [A-Za-z0-9]{{4}}){{0,2}} )?(?:{_CARD}))\b",
            "card_ok",
            f"'****-****-****-' || right({_DIG.replace('{s}', '{m}')}, 4)",
            "payment card, 12-19 digits (compact, 4-4-4-4, 4-4-4, 4-6-5, 4-6-4; 12 or 13 compact digits only after a "
            "card cue), an issuer range of its length, passing Luhn",
            extra=(
                r"(?i:card|cc|pan|maestro|visa|mastercard|amex|credit|debit|payment|charge[ds]?|billed|paid with)"
                r"[^\n\d]{0,30}?"
                r"(?:^|[^\w.+-])(\d{12,13})\b",
            ),
        ),
        _e(
            "us_ssn",
            "pii",
            r"(?:^|[^\w.+-])((?i:(?:suite|ste|apt|apartment|unit|room|rm|bldg|floor|fl|box|"
            r"#)\.?#?\s*)?(?:00[1-9]|0[1-9]\d|[1-578]\d\d|6[0-57-9]\d|66[0-57-9])-(?:0[1-9]|[1-9]\d)-"
            r"(?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3}))\b",
            "ssn_ok",
            "'***-**-****'",
            "US SSN AAA-GG-SSSS (area not 000/666/9xx, group not 00, serial not 0000), not after a unit word; "
            "spaced or compact only after an SSN cue",
            extra=(
                r"(?i:\bssn|social security(?: number| no\.?| #)?|\bss#|\bss no\.?)\s*(?:is|was|number|no\.?|#)?"
                r"\s*[:=#]?\s*[\"']?((?:00[1-9]|0[1-9]\d|[1-578]\d\d|6[0-57-9]\d|66[0-57-9])[ .]?"
                r"(?:0[1-9]|[1-9]\d)[ .]?(?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3}))\b",
            ),
        ),
        _e(
            "phone",
            "pii",
            phones.PREFILTER,
            None,
            f"CASE WHEN starts_with({{m}}, '+') THEN '+' || left({_DIG.replace('{s}', '{m}')}, 1) || "
            f"repeat('*', greatest(length({_DIG.replace('{s}', '{m}')}) - 5, 1)) ELSE repeat('*', "
            f"greatest(length({_DIG.replace('{s}', '{m}')}) - 4, 1)) END || right({_DIG.replace('{s}', '{m}')}, 4)",
            "phone number, international or national (libphonenumber, possible in its region), with extension; "
            "a national number needs a phone-like grouping or a phone cue before it",
            udf=phones.UDF,
        ),
        _e(
            "ipv6",
            "pii",
            r"(?:^|[^\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3})",
            "ipv6_ok",
            "split_part({m}, ':', 1) || ':****:****'",
            "IPv6 address, full or compressed",
        ),
        _e(
            "ipv4",
            "pii",
            r"(?:^|[^\w.])((?:(?i:version|ver|v|release|build)[\s:=\"']*)?\d+(?:\.\d+)+)\b",
            "ipv4_ok",
            "split_part({m}, '.', 1) || '.***.***.***'",
            "IPv4 dotted quad (not after a version cue)",
            prefilter=r"\d{1,3}(?:\.\d{1,3}){3}",
        ),
        _e(
            "date_of_birth",
            "pii",
            r"(?i)\b(?:dob|d\.o\.b\.?|date of birth|birth ?date|birthday|born(?: on)?)"
            rf"[\"']?\s*[:=]?\s*[\"']?\s*(?:is\s+|was\s+|on\s+)?({_DATE})\b",
            None,
            "'****-**-**'",
            "heuristic: a date right after a DOB cue (DOB, date of birth, born, birthday)",
        ),
        _e(
            "street_address",
            "pii",
            addresses.PATTERN,
            "address_ok",
            "'[ADDRESS]'",
            "postal address: street and number in US, UK, CA, AU, DE, NL, FR, ES, IT, JP (romanised) layouts, "
            "with the locality lines after it; PO boxes; APO/FPO/DPO military addresses",
            prefilter=addresses.PREFILTER,
        ),
    ]
}
