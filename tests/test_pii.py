"""Tests for agentops_audit.pii against a real DuckDB.

The labelled corpus tests/data/pii_corpus.jsonl is produced by build_corpus() below
(seeded, deterministic); regenerate it with
``PYTHONPATH=. python tests/test_pii.py`` and test_corpus_is_reproducible keeps the
committed file and the generator in step.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import json
import random
import string
import uuid
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentops_audit import pii
from tests.support.bench import module as bench_module

CORPUS = Path(__file__).parent / "data" / "pii_corpus.jsonl"
BENCH_DATA = Path(__file__).parent.parent / "bench" / "data"
REGEX_ENTITIES = [
    "email",
    "phone",
    "credit_card",
    "us_ssn",
    "iban",
    "ipv4",
    "ipv6",
    "aws_access_key",
    "api_key_sk",
    "github_token",
    "jwt",
    "private_key",
]
MARKERS = [
    "[REDACTED]",
    "[REDACTED_EMAIL]",
    "<EMAIL>",
    "<PHONE_NUMBER>",
    "***",
    "{{email}}",
    "[email]",
    "█████",
    "j***@e***.com",
    "+1******0123",
    "****-****-****-4242",
    "sk-****",
    "AKIA****",
    "ghp_****",
    "eyJ****",
    "***-**-****",
    "DE****************3000",
    "10.***.***.***",
    "2001:****:****",
    "[PRIVATE KEY ****]",
    "XXX-XX-XXXX",
]

# ---------------------------------------------------------------- corpus generator
FIRST = ["john", "jane", "maria", "li", "ahmed", "olga", "sam", "priya", "kenji", "fatima", "noah", "zoe"]
LAST = ["doe", "roe", "garcia", "wei", "khan", "ivanova", "lee", "patel", "sato", "haddad", "smith"]
DOMAINS = [
    "example.com",
    "mail.example.org",
    "corp.acme.io",
    "cs.uni.ac.uk",
    "gmail.com",
    "outlook.com",
    "shop.example.co.jp",
    "data-team.example.net",
]
STREETS = ["Main", "Oak", "Baker", "Elm", "Market", "Sunset", "Maple", "Cedar", "Park", "Lake View"]
SUFFIXES = ["St", "Street", "Ave", "Avenue", "Rd", "Road", "Blvd", "Lane", "Ln", "Dr", "Drive", "Way", "Court"]
IBAN_BBAN = {
    "DE": "n18",
    "GB": "a4n14",
    "FR": "n10c11n2",
    "NL": "a4n10",
    "ES": "n20",
    "IT": "a1n10c12",
    "CH": "n5c12",
    "PL": "n24",
}
ALNUM = string.ascii_letters + string.digits


_luhn_digit = bench_module("checkdigits").luhn_digit  # independent of the product's Luhn macro


def _iban_check(country: str, bban: str) -> str:
    num = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(num) % 97:02d}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class _Gen:
    """Value generators; each returns the raw value as it will appear in text."""

    def __init__(self, rnd: random.Random):
        self.r = rnd

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def d(self, n: int) -> str:
        return self.s(string.digits, n)

    def email(self):
        r = self.r
        local = r.choice(FIRST) + r.choice([".", "_", "", "-"]) + r.choice(LAST)
        local += r.choice(["", "", str(r.randint(1, 99)), "+agent"])
        v = f"{local}@{r.choice(DOMAINS)}"
        return v.capitalize() if r.random() < 0.15 else v

    def nanp(self):
        return f"{self.r.randint(2, 9)}{self.d(2)}", f"{self.r.randint(2, 9)}{self.d(2)}", self.d(4)

    def phone(self):
        a, b, c = self.nanp()
        return self.r.choice(
            [
                f"+1{a}{b}{c}",
                f"+44 20 {self.d(4)} {self.d(4)}",
                f"+1 ({a}) {b}-{c}",
                f"+1-{a}-{b}-{c}",
                f"+33 {self.r.randint(1, 9)} {self.d(2)} {self.d(2)} {self.d(2)} {self.d(2)}",
                f"+91 9{self.d(4)} {self.d(5)}",
                f"+49 30 {self.d(7)}",
                f"+4420{self.d(8)}",
                f"({a}) {b}-{c}",
                f"{a}-{b}-{c}",
                f"{a}.{b}.{c}",
                f"1-800-{b}-{c}",
            ]
        )

    def credit_card(self):
        prefix, n = self.r.choice(
            [
                ("4", 16),
                ("51", 16),
                ("55", 16),
                ("2221", 16),
                ("34", 15),
                ("37", 15),
                ("6011", 16),
                ("35", 16),
                ("4", 13),
                ("62", 19),
            ]
        )
        body = prefix + self.d(n - len(prefix) - 1)
        num = body + _luhn_digit(body)
        fmt = self.r.choice(["compact", "space", "dash"]) if n == 16 else "compact"
        if n == 15 and self.r.random() < 0.5:
            return f"{num[:4]} {num[4:10]} {num[10:]}"
        if fmt == "compact":
            return num
        sep = " " if fmt == "space" else "-"
        return sep.join(num[i : i + 4] for i in range(0, 16, 4))

    def us_ssn(self):
        area = self.r.choice([i for i in range(1, 900) if i != 666])
        return f"{area:03d}-{self.r.randint(1, 99):02d}-{self.r.randint(1, 9999):04d}"

    def iban(self, valid: bool = True):
        country = self.r.choice(sorted(IBAN_BBAN))
        spec, bban, i = IBAN_BBAN[country], "", 0
        while i < len(spec):
            kind, j = spec[i], i + 1
            while j < len(spec) and spec[j].isdigit():
                j += 1
            alpha = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[kind]
            bban, i = bban + self.s(alpha, int(spec[i + 1 : j])), j
        check = _iban_check(country, bban)
        if not valid:  # any other value in 02..98 fails mod-97
            check = f"{(int(check) - 2 + self.r.randint(1, 96)) % 97 + 2:02d}"
        v = country + check + bban
        return " ".join(v[i : i + 4] for i in range(0, len(v), 4)) if self.r.random() < 0.5 else v

    def ipv4(self):
        first = self.r.choice([10, 172, 192, 203, 8, 34, 100, 185])
        return f"{first}.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"

    def ipv6(self):
        groups = [self.r.randint(1, 0xFFFF) for _ in range(8)]
        groups[0] = self.r.choice([0x2001, 0xFE80, 0x2A00, 0x2606, 0xFD12])
        if self.r.random() < 0.6:
            start = self.r.randint(1, 5)
            for k in range(start, start + self.r.randint(2, 3)):
                groups[k] = 0
        addr = ipaddress.IPv6Address(b"".join(g.to_bytes(2, "big") for g in groups))
        v = addr.exploded if self.r.random() < 0.3 else str(addr)
        return v.upper() if self.r.random() < 0.1 else v

    def aws_access_key(self):
        return self.r.choice(["AKIA", "ASIA"]) + self.s(string.ascii_uppercase + "234567", 16)

    def api_key_sk(self):
        body = self.r.choice([("sk-", 48), ("sk-proj-", 64), ("sk-ant-api03-", 86)])
        return body[0] + self.d(2) + self.s(ALNUM + "-_", body[1] - 4) + self.s(string.ascii_letters, 2)

    def github_token(self):
        if self.r.random() < 0.25:
            return "github_pat_" + self.s(ALNUM, 22) + "_" + self.s(ALNUM, 59)
        return self.r.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + self.s(ALNUM, 36)

    def jwt(self):
        head = {"alg": self.r.choice(["HS256", "RS256"]), "typ": "JWT"}
        body = {"sub": str(self.r.randint(1, 10**6)), "name": self.r.choice(FIRST), "iat": 1700000000}
        return ".".join(
            [
                _b64url(json.dumps(head).encode()),
                _b64url(json.dumps(body).encode()),
                _b64url(bytes(self.r.getrandbits(8) for _ in range(32))),
            ]
        )

    def private_key(self):
        algo = self.r.choice(["RSA ", "EC ", "OPENSSH ", ""])
        raw = bytes(self.r.getrandbits(8) for _ in range(48 * self.r.randint(2, 4)))
        b64 = base64.b64encode(raw).decode()
        lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
        return "\n".join([f"-----BEGIN {algo}PRIVATE KEY-----", *lines, f"-----END {algo}PRIVATE KEY-----"])

    def date_of_birth(self):
        y, m, d = self.r.randint(1940, 2005), self.r.randint(1, 12), self.r.randint(1, 28)
        return self.r.choice(
            [f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d}.{m}.{y}", f"March {d}, {y}", f"{d} July {y}"]
        )

    def street_address(self):
        return f"{self.r.randint(1, 9999)} {self.r.choice(STREETS)} {self.r.choice(SUFFIXES)}"


CONTEXTS = {
    "email": ["Please reply to {v} when done.", "email={v}", "From: Jane <{v}>", "cc ({v}) on the thread"],
    "phone": ["Call me at {v} tomorrow.", "phone: {v}", "SMS sent to {v}; ok", "contact number {v}."],
    "credit_card": ["card {v} exp 12/27 cvv 123", "Charged card number {v}.", "pan={v}", "card: {v}, ok"],
    "us_ssn": ["SSN {v} on file", "ssn: {v}.", "social security number is {v}"],
    "iban": ["IBAN {v} for payout", "transfer to {v}.", "account iban: {v}"],
    "ipv4": ["request from {v} blocked", "client_ip={v}", "GET /health from {v}:8443", "peer [{v}]"],
    "ipv6": ["request from {v} blocked", "connect to [{v}]:443", "client_ip={v} ok", "src {v}."],
    "aws_access_key": ["aws_access_key_id={v}", "using key {v} for s3", "AWS key: {v}"],
    "api_key_sk": ["export OPENAI_API_KEY={v}", "Authorization: Bearer {v}", "api_key: {v}"],
    "github_token": ["GITHUB_TOKEN={v}", "git clone https://{v}@github.com/org/repo", "token {v} used"],
    "jwt": ["Authorization: Bearer {v}", "cookie session={v}; Path=/", "id_token {v}"],
    "private_key": ["key material:\n{v}\nend of file", "{v}", "loaded {v} from disk"],
    "date_of_birth": ["DOB: {v}", "date of birth {v}", "born on {v}", "birthday is {v}"],
    "street_address": ["ship to {v}, Springfield", "lives at {v}.", "address: {v}"],
}
JSON_KEYS = {
    "email": "email",
    "phone": "phone",
    "credit_card": "card_number",
    "us_ssn": "ssn",
    "iban": "iban",
    "ipv4": "ip",
    "ipv6": "ip",
    "aws_access_key": "access_key_id",
    "api_key_sk": "api_key",
    "github_token": "token",
    "jwt": "token",
    "private_key": "pem",
}


def _negatives(g: _Gen) -> list[str]:
    r = g.r
    bad_card = g.credit_card().replace(" ", "").replace("-", "")
    bad_card = bad_card[:-1] + str((int(bad_card[-1]) + r.randint(1, 9)) % 10)
    return [
        f"order ORD-{g.d(8)} shipped",
        f"order #{g.d(9)} total $1,{g.d(3)}.{g.d(2)}",
        f"at 2024-0{r.randint(1, 9)}-1{r.randint(0, 9)}T1{r.randint(0, 9)}:{r.randint(0, 5)}5:3{g.d(1)}.{g.d(3)}Z",
        "timestamp 2024-03-05 14:22:31, elapsed 12:30:45",
        f"installed version {r.randint(1, 9)}.2.3.4",
        f"v1.{r.randint(0, 9)}.{r.randint(0, 20)}.4 released",
        f"python 3.11.{r.randint(0, 9)} and node 20.1.0",
        f"oid 1.3.6.1.4.1.{g.d(4)}",
        f"trace {uuid.UUID(int=r.getrandbits(128), version=4)}",
        f"price EUR {g.d(2)}.99 (was {g.d(3)},00)",
        f"card {bad_card} declined (failed checksum)",
        f"IBAN-like {g.iban(valid=False)} rejected",
        f"ssn 000-{g.d(2)}-{g.d(4)[:3]}1 invalid",
        f"ssn 666-12-{g.d(3)}1 and 9{g.d(2)}-45-6789 and 123-00-4567 and 123-45-0000 are invalid",
        json.dumps(
            {
                "tool": "get_weather",
                "args": {"city": "Paris", "units": "metric"},
                "latency_ms": r.randint(10, 999),
                "status": 200,
            }
        ),
        json.dumps({"tool": "sql", "args": {"query": "select * from t limit 10"}, "rows": r.randint(0, 99)}),
        f"mac 00:1a:2b:{g.d(2)}:4d:5e",
        "std::vector<int> v; x[1::2]",
        "sk-learn-compatible-estimators-library",
        "task-force meeting",
        "ghp_short token",
        "header eyJhbGciOiJIUzI1NiJ9 only",
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----",
        "user@localhost and @channel",
        "akiaiosfodnn7example lowercase",
        f"epoch {1700000000000 + r.randint(0, 10**9)} ms",
        f"sha1 {g.s('0123456789abcdef', 40)}",
        f"dates 2024-01-{r.randint(10, 28)} and 15/01/2024",
        f"retry {r.randint(2, 9)} of 10 after 1500 ms",
        f"id {g.d(20)} (20 digits)",
        f"phone-ish id ORD-415-555-{g.d(4)}",
        r.choice(MARKERS) + " " + r.choice(MARKERS),
        f"call extension {g.d(4)}",
    ]


def build_corpus(seed: int = 20240611, n: int = 420) -> list[dict]:
    """Deterministically build the labelled corpus (list of {"text", "entities"})."""
    g = _Gen(random.Random(seed))
    r, types, lines = g.r, list(CONTEXTS), []
    for i in range(n):
        frags: list[tuple[str, list[dict]]] = []
        n_pos = 0 if i % 5 == 4 else r.choice([1, 1, 2, 3])
        for k in range(n_pos):
            typ = types[(i + 7 * k) % len(types)]
            v = getattr(g, typ)()
            labels = [{"type": typ, "value": v}]
            if typ in JSON_KEYS and r.random() < 0.25:
                text = json.dumps({"tool": "crm_lookup", "result": {JSON_KEYS[typ]: v, "ok": True}})
                labels = [{"type": typ, "value": json.dumps(v)[1:-1]}]
            else:
                text = r.choice(CONTEXTS[typ]).format(v=v)
            if typ == "ipv6" and r.random() < 0.15:
                v4 = g.ipv4()
                text = f"mapped ::ffff:{v4} seen"
                labels = [{"type": "ipv6", "value": f"::ffff:{v4}"}, {"type": "ipv4", "value": v4}]
            frags.append((text, labels))
        for _ in range(r.choice([0, 1, 1, 2]) if n_pos else r.choice([1, 2, 3])):
            frags.append((r.choice(_negatives(g)), []))
        r.shuffle(frags)
        lines.append({"text": " ".join(t for t, _ in frags), "entities": [lab for _, labs in frags for lab in labs]})
    return lines


def _dump(lines: list[dict]) -> str:
    return "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)


# ---------------------------------------------------------------- helpers
def _sha(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text().splitlines()]


@pytest.fixture(scope="module")
def con(corpus):
    c = duckdb.connect()
    c.execute("CREATE TABLE corpus(trace_id INT, span_id INT, text VARCHAR)")
    c.executemany("INSERT INTO corpus VALUES (?, 0, ?)", [[i, x["text"]] for i, x in enumerate(corpus)])
    pii.scan(c, "corpus", ["text"])
    return c


@functools.cache
def _shared() -> duckdb.DuckDBPyConnection:
    """One in-memory connection with the macros and the phone UDF installed, for the helpers below: a fresh
    connection per call spent most of each test installing them (0.19 s against 0.03 s per call)."""
    c = duckdb.connect()
    pii.install(c)
    return c


def _scan_texts(texts: list[str | None], **kw) -> list[tuple]:
    c = _shared()
    c.execute("CREATE OR REPLACE TABLE t(trace_id INT, span_id INT, text VARCHAR)")
    if texts:
        c.executemany("INSERT INTO t VALUES (?, 0, ?)", [[i, x] for i, x in enumerate(texts)])
    pii.scan(c, "t", ["text"], **kw)
    return c.execute("SELECT trace_id, entity, masked, match_hash FROM pii_findings").fetchall()


# ---------------------------------------------------------------- tests
def test_corpus_is_reproducible():
    lines = build_corpus()
    assert len(lines) >= 300
    assert CORPUS.read_text() == _dump(lines), "regenerate with: PYTHONPATH=. python tests/test_pii.py"


def test_registry_shape():
    for name, e in pii.ENTITIES.items():
        assert e.name == name and e.kind in {"pii", "secret"} and e.description
        assert e.validator is None or e.validator in pii._MACROS


def test_precision_recall_per_entity(con, corpus):
    truth = Counter((i, lab["type"], _sha(lab["value"])) for i, x in enumerate(corpus) for lab in x["entities"])
    found = Counter(con.execute("SELECT trace_id, entity, match_hash FROM pii_findings").fetchall())
    rows, failed = [], []
    for ent in REGEX_ENTITIES + ["date_of_birth", "street_address"]:
        t = Counter({k: v for k, v in truth.items() if k[1] == ent})
        f = Counter({k: v for k, v in found.items() if k[1] == ent})
        tp = sum((t & f).values())
        prec, rec = tp / max(sum(f.values()), 1), tp / max(sum(t.values()), 1)
        rows.append(
            f"{ent:16s} labels={sum(t.values()):4d} found={sum(f.values()):4d} tp={tp:4d} "
            f"precision={prec:.3f} recall={rec:.3f}"
        )
        assert sum(t.values()) >= 15, ent
        if ent in REGEX_ENTITIES and (prec < 0.95 or rec < 0.95):
            failed.append(ent)
    print("\n".join(rows))
    assert not failed, "per-entity precision/recall below 0.95:\n" + "\n".join(rows)


def test_findings_never_store_raw_values(con, corpus):
    cols = [r[0] for r in con.execute("DESCRIBE pii_findings").fetchall()]
    assert cols == ["trace_id", "span_id", "field", "entity", "kind", "masked", "match_hash"]
    stored = "\n".join(str(r) for r in con.execute("SELECT * FROM pii_findings").fetchall())
    for x in corpus:
        for lab in x["entities"]:
            assert lab["value"] not in stored


def test_mask_rescans_clean_and_hides_labels(corpus):
    masked = pii.mask_many([x["text"] for x in corpus])  # one query; mask agrees with it (below)
    assert _scan_texts(masked) == []
    for x, m in zip(corpus, masked, strict=True):
        for lab in x["entities"]:
            assert lab["value"] not in m, (lab, m)


def test_mask_sql_agrees_with_mask(con, corpus):
    got = con.execute(f"SELECT {pii.mask_sql('text')} FROM corpus ORDER BY trace_id").fetchall()
    many = pii.mask_many([x["text"] for x in corpus])
    for x, (m,), n in zip(corpus, got, many, strict=True):
        assert m == n
        for lab in x["entities"]:
            assert lab["value"] not in m
    # mask, one text per call (20-90 ms each), agrees with mask_many on every 10th text and on each entity type
    sample = {i for i in range(0, len(corpus), 10)}
    sample |= {
        next(i for i, x in enumerate(corpus) if any(lab["type"] == t for lab in x["entities"]))
        for t in {lab["type"] for x in corpus for lab in x["entities"]}
    }
    assert [pii.mask(corpus[i]["text"]) for i in sorted(sample)] == [many[i] for i in sorted(sample)]
    assert con.execute(f"SELECT {pii.mask_sql('NULL::VARCHAR')}").fetchone()[0] is None


def test_luhn_and_iban_macros():
    c = duckdb.connect()
    pii.install_macros(c)
    pii.install_macros(c)  # idempotent
    q = "SELECT luhn_ok(?), iban_ok(?)"
    for card, iban in [
        ("4242424242424242", "DE89370400440532013000"),
        ("4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32"),
        ("378282246310005", "FR1420041010050500013M02606"),
        ("6011-1111-1111-1117", "NL91ABNA0417164300"),
    ]:
        assert c.execute(q, [card, iban]).fetchone() == (True, True)
    for card, iban in [
        ("4242424242424241", "DE88370400440532013000"),
        ("1234567812345678", "GB82WEST12345698765433"),
        ("4111 1111 1111 1112", "XX00"),
        ("abc", "DE89 3704 0044 0532 0130 0*"),
    ]:
        assert c.execute(q, [card, iban]).fetchone() == (False, False)


def test_redaction_markers_are_not_findings():
    texts = MARKERS + [
        " ".join(MARKERS),
        "email: [REDACTED_EMAIL], phone: <PHONE_NUMBER>, ssn: ***-**-****",
        '{"email": "{{email}}", "card": "████ ████ ████ 4242"}',
        pii.mask("mail j.doe@example.com"),
    ]
    assert _scan_texts(texts) == []


def test_extra_patterns():
    extra = {"account_id": r"ACCT-\d{8}"}
    rows = _scan_texts(["billing ACCT-12345678 and ACCT-1234 only", None, ""], extra_patterns=extra)
    assert rows == [(0, "account_id", "[ACCOUNT_ID]", _sha("ACCT-12345678"))]
    assert pii.mask("ref ACCT-12345678", extra) == "ref [ACCOUNT_ID]"
    with pytest.raises(ValueError):
        pii.mask_sql("x", {"email": "x"})


def test_empty_source_and_nulls():
    assert _scan_texts([]) == []
    assert _scan_texts([None, "", "nothing here"]) == []
    assert pii.mask(None) is None and pii.mask("") == ""
    assert pii.mask("a\x00b \ud800 jane@example.com") == "a\x00b ? j***@e***.com"


def test_leak_summary(con, corpus):
    c = duckdb.connect()
    c.execute(
        "CREATE TABLE spans AS SELECT * FROM (VALUES ('t1', 's1', 'mail a@example.com', NULL), "
        "('t1', 's2', 'x', 'b@example.com c@example.com'), ('t2', 's1', '', 'call 415-555-0123')) "
        "v(trace_id, span_id, input, output)"
    )
    pii.scan(c, "(SELECT * FROM spans)", ["input", "output"])
    sql = pii.leak_summary_sql(source="spans", fields=["input", "output"])
    rows = {(r[0], r[1]): r[2:] for r in c.execute(sql).fetchall()}
    assert rows[("input", "email")] == (2, 1, 1, 0.5)
    assert rows[("output", "email")] == (2, 1, 2, 0.5)
    assert rows[("output", "phone")] == (2, 1, 1, 0.5)
    assert rows[("input", "jwt")] == (2, 0, 0, 0.0)


_local = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True)
_domain = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,8}){0,2}\.[a-z]{2,6}", fullmatch=True)
_email = st.builds(lambda a, b: f"{a}@{b}", _local, _domain)
_card = st.builds(
    lambda p, b: (p + b) + _luhn_digit(p + b),
    st.sampled_from(["4", "51", "37", "6011"]),
    st.text("0123456789", min_size=12, max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60), _email, _card, st.text(max_size=60), st.sampled_from([" ", ", ", "\n", " | "]))
def test_mask_property(prefix, email, card, suffix, sep):
    assert isinstance(pii.mask(prefix + email + card + suffix), str)  # glued: must not raise
    out = pii.mask(prefix + sep + email + sep + card + sep + suffix)
    assert email not in out and card not in out


if __name__ == "__main__":
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    CORPUS.write_text(_dump(build_corpus()))
    print(f"wrote {CORPUS}")


# ---------------------------------------------------------------- issue #17: recall on many shapes, precision kept
def _found(text: str) -> dict[str, list[str]]:
    """Raw matches per entity in ``text`` (the scan itself stores none)."""
    cols = ", ".join(f"{pii._hits(e, '$1::VARCHAR', inline=False)}" for e in pii.ENTITIES.values())
    row = _shared().execute(f"SELECT {cols}", [text]).fetchall()[0]
    return {name: list(v) for name, v in zip(pii.ENTITIES, row, strict=True) if v}


POSITIVES = [
    # phones: national and international formats, extensions, trunk prefix, 001-, a cue before bare digits
    (
        "phone",
        "Call me at {v} tomorrow",
        [
            "(591)341-7776",
            "206.269.0743x9150",
            "+1-780-563-6083x7783",
            "+44(0)115 4960914",
            "04 15 39 15 00",
            "0837 783533",
            "+41 (0)36 068 12 41",
            "001-555-123-4567x123",
            "106-690-7439 x150",
            "+61.437.406.812",
            "080-9141-7776",
            "+55 61 9141-7776",
            "609 141 777",
            "(0161) 4960066",
        ],
    ),
    ("phone", "Fax: {v}", ["4155550123", "0612345678"]),
    ("phone", '{{"tool": "crm", "result": {{"phone": "{v}"}}}}', ["929394227", "+14155550123"]),
    ("phone", "Rufen Sie mich unter {v} an", ["030 1234567"]),
    # a label after the number, a cue with words between, day and month in either order, a dotted national number
    ("phone", "{v} office\\n(212)555-0142 fax", ["4633 5356"]),
    ("phone", "switchboard {v}-Fax", ["8449845144"]),
    ("phone", "Contact number on file: {v}", ["3772169821", "04710558599"]),
    ("phone", "I will text you at {v} once it ships", ["0393552584"]),
    ("phone", "Name: Ana\\nDesk: {v}\\n", ["07289025797"]),
    ("phone", "They're not answering at {v}", ["617 4281"]),
    ("phone", "please call me at {v} today", ["28-15-10-60"]),
    ("phone", "Phone:\\n{v}\\n", ["02.23.91.04.05"]),
    # addresses: ten countries' layouts, multi-line, PO boxes, military
    (
        "street_address",
        "Ship to {v} today",
        [
            "9791 Regina Mountains\nAndreaborough, VT 62139",
            "2328 Figueroa Skyway Apt. 290\nKimberlyview, NJ 78456",
            "97 Lynda Bridge\nSmithbury\nW88 6FJ",
            "Studio 01k\nJosh Tunnel\nPort Maxfort\nS6G 2QE",
            "Schleichstraße 19\n48337 Lichtenfels",
            "Berliner Straße 12, 10115 Berlin",
            "825, boulevard de François\n77113 Poirier-sur-Mer",
            "Sarastraat 9\n5907JO\nHasselt",
            "Keizersgracht 123, 1015 CJ Amsterdam",
            "Cuesta de Eufemia Bastida 507\nCantabria, 47999",
            "Calle de Alcalá 45, 28014 Madrid",
            "Vicolo Sgalambro, 59\n30010, Campagna Lupia (VE)",
            "Via Roma 12, 00184 Roma (RM)",
            "66/9 Maynard Copse\nConnorberg, WA, 2674",
            "012 Kevin Burgs Suite 796\nFostershire, NU P3E 8B4",
            "1-2-3 Jingumae, Shibuya-ku, Tokyo 150-0001",
            "PO Box 123, Springfield, IL 62704",
            "PSC 1234, Box 5678\nAPO AA 12345",
            "USNS Smith\nFPO AE 12345",
            "12 Main St",
            # an interior number and unit parts (MX), a unit after a French street name (CA-FR), a postcode line (BE)
            "Cerrada Olmo 12 Interior 4\nSan Pedro de los Pinos, CDMX 03800",
            "Avenida Juárez 210 Edif. 3 , Depto. 12\nSan Ángel, DF 01000",
            "88 chemin Tremblay Apt. 12\nSaint-Jean, QC H2T 1S1",
            "Kerkweg 8\n8810\nLichtervelde",
        ],
    ),
    ("street_address", '{{"address": "{v}"}}', ["606 Woods Corners\\nWebbfurt\\nSS82 3FR"]),
    # cards: 15-digit JCB (2131, 1800), 12-digit Maestro after a card cue, grouped Amex
    (
        "credit_card",
        "card number: {v}",
        ["213153374068120", "180012345678905", "675912701447", "3782 822463 10005", "4111-1111-1111-1111"],
    ),
    ("credit_card", "card {v} 49.99 EUR", ["4111 1111 1111 1111", "3782 822463 10005"]),  # a number right after
    ("credit_card", "charge {v} 49.99 EUR", ["675920692018", "4133330354213"]),  # 12-13 digits after a charge
    ("iban", "IBAN {v} for payout", ["de89370400440532013000", "GB82 WEST 1234 5698 7654 32", "NO9386011117947"]),
    (
        "us_ssn",
        "{v}",
        [
            "SSN 123 45 6789",
            "social security number: 123456789",
            "ssn=123-45-6789",
            "Social Security No. 341-80-0394",
            "SSN#206-45-7375",
        ],
    ),
    # secrets in agent tool calls
    ("http_basic_auth", "curl -H 'Authorization: Basic {v}' https://api", ["dXNlcjpodW50ZXIy"]),
    ("bearer_token", "Authorization: Bearer {v}", ["a1b2c3d4e5f6g7h8i9j0"]),
    ("secret_value", "X-Api-Key: {v}", ["82f1f745-ebab-433f-be97-2c1e0edf0f42"]),
    ("secret_value", '{{"client_secret": "{v}"}}', ["vdCoVaHyzqISZWDDgXtZSxAAGnWq"]),
    ("password", "psql postgres://admin:{v}@db.internal:5432/orders", ["s3cr3t-Pa55"]),
    ("password", "mysql -h db -u root --password={v} shop", ["hunter22"]),
    ("password", "Server=tcp:sql;User Id=app;Password={v};Encrypt=true", ["Tr0ub4dor!3"]),
    ("password", '{{"tool": "configure", "arguments": {{"passwd": "{v}"}}}}', ["%3Jq&R6rfW"]),
    ("provider_token", "stripe key {v}", ["sk_live_4eC39HqLyjWDarjtT1zdp7dc"]),
]
SSN_FROM = {
    "SSN 123 45 6789": "123 45 6789",
    "social security number: 123456789": "123456789",
    "ssn=123-45-6789": "123-45-6789",
    "Social Security No. 341-80-0394": "341-80-0394",
    "SSN#206-45-7375": "206-45-7375",
}


@pytest.mark.parametrize("entity,template,value", [(e, t, v) for e, t, vs in POSITIVES for v in vs])
def test_new_shapes_are_found_and_masked(entity, template, value):
    text = template.format(v=value)
    expected = SSN_FROM.get(value, value)
    assert expected in _found(text).get(entity, []), (entity, text, _found(text))
    masked = pii.mask(text)
    assert expected not in masked
    assert _scan_texts([masked]) == [], masked


NEGATIVES = [
    "Suite 999 99 9999 is on the third floor",
    "Suite 123-45-6789",
    "Apt #206-45-7375",
    "ZIP+4 94105-1234",
    "zip 62704-1234 validated",
    "version 1.2.3.4567",
    "release 4.14.925",
    "at 2024-07-14T12:15:36.349Z",
    "timestamp 2024-03-05 14:22:31",
    "order #343779795 shipped",
    "order id ORD-4153-5550-1234",
    "trace 44c192b6-a56c-401c-ab67-792315d0d61f",
    "request_id=7bccbcaa-2018-4e4a-bc33-54e462c4da60",
    "ISBN 978-3-932-51620-3",
    "price EUR 1 234 567,89",
    "disk 500 107 862 016 bytes",
    "coordinates 37.7749 -122.4194",
    "In 2024 Wall Street rallied",
    "Top 47 Key Points",
    "HTTP/1.1 200 OK",
    "Step 3 of 10",
    "epoch 1700000000000 ms",
    '{"token_type": "bearer", "expires_in": 3600}',
    '{"max_tokens": 4096}',
    "token: expired",
    'api_key: "${OPENAI_API_KEY}"',
    "password: ********",
    "password=${DB_PASS}",
    "Authorization: Bearer [REDACTED]",
    "Bearer auth is required",
    "basic authentication failed",
    "api_key=<your-key-here>",
    '{"secret": null}',
    "card 4111 1111 1111 1112 failed Luhn",
    "IBAN-like DE00 1234 5678 9012 3456 78",
    "id 562946092557",
    "values 1 2 3 4 5 6 7",
    "call extension 9268",
    "tracking number 1Z99999999999999",
    "logged at 2016-10-01 21:25:03.308619 UTC",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_known_false_positive_shapes_stay_out(text):
    assert _found(text) == {}, _found(text)


@pytest.mark.parametrize(
    "text,other",
    [
        ("ship to 0583 283 Hickory Ridge Drive Apt. 237", "street_address"),  # a house number, not a phone
        ("sent to 02243 19 boulevard Bryas", None),
        ("card number: 213174804103289 Tel. 608 980 831", None),  # 'Tel.' labels the number after it
    ],
)
def test_numbers_next_to_phone_words_are_not_phones(text, other):
    found = _found(text)
    assert "608 980 831" in found.get("phone", []) if "Tel." in text else "phone" not in found, found
    assert all(p in ("608 980 831",) for p in found.get("phone", [])), found
    if other:
        assert other in found, found


def test_prefilter_is_lossless_on_every_labelled_corpus():
    """The audit scans only texts that candidate_pattern matches: every text with a finding must match it."""
    texts = [json.loads(line)["text"] for line in CORPUS.read_text().splitlines()]
    for name in ("pii_own.jsonl", "pii_heldout.jsonl"):
        texts += [json.loads(line)["text"] for line in (BENCH_DATA / name).read_text().splitlines()]
    texts += [t.format(v=v) for _, t, vs in POSITIVES for v in vs]
    c = duckdb.connect()
    pii.install(c)
    c.execute("CREATE TABLE t AS SELECT unnest(?::VARCHAR[]) AS v", [texts])
    any_hit = " OR ".join(f"len({pii._hits(e, 'v', inline=False)}) > 0" for e in pii.ENTITIES.values())
    escaped = c.execute(
        f"SELECT v FROM t WHERE ({any_hit}) AND NOT regexp_matches(v, ?)", [pii.candidate_pattern()]
    ).fetchall()
    assert escaped == []
    assert c.execute(f"SELECT count(*) FROM t WHERE {any_hit}").fetchall()[0][0] > 3000


def test_bench_corpora_meet_the_goals():
    """Recall and precision per type on the committed corpora (bench/pii.py's scoring), as a regression guard:
    the tuned corpus must meet every goal; the held-out one is reported by the bench, not pinned here."""
    bench = bench_module("pii")
    rows = [json.loads(line) for line in (BENCH_DATA / "pii_own.jsonl").read_text().splitlines()]
    found, _ = bench.ours(rows, repeat=1)
    scores = bench.score(rows, found)
    for typ, s in scores.items():
        assert s["labels"] >= 400, typ
        assert s["recall"] >= bench.GOAL_RECALL[typ], (typ, s["recall"])
        assert s["precision"] >= bench.GOAL_PRECISION, (typ, s["precision"])


def test_mask_sql_needs_the_phone_udf_installed():
    """mask_sql on a connection without pii.install fails loudly rather than masking less."""
    c = duckdb.connect()
    with pytest.raises(duckdb.Error, match="aa_phones"):
        c.execute(f"SELECT {pii.mask_sql('$1::VARCHAR')}", ["call +14155550123"]).fetchall()
    pii.install(c)
    pii.install(c)  # idempotent
    assert (
        c.execute(f"SELECT {pii.mask_sql('$1::VARCHAR')}", ["call +14155550123"]).fetchall()[0][0]
        == "call +1******0123"
    )


def test_a_long_digit_run_before_letters_is_scanned_without_backtracking():
    """Hex ids are long digit runs followed by letters ("...000000eb"): the phone candidate's digit groups
    used to split such a run every possible way before failing (seconds per 300-character excerpt, hours for
    this one); a digit run now splits one way only. The quarantine and the report mask such excerpts."""
    hex_ids = '{"traceId":"' + "0" * 60 + 'eb","spanId":"' + "0" * 40 + 'ab"}'
    assert pii.phones.find_phones(hex_ids) == []
    assert pii.mask(hex_ids) == hex_ids
