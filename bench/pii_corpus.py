"""Labelled evaluation corpora for the PII scanner: generated text with span labels (start, end, type).

Runs in the PII bench's own venv (Faker is not a project dependency): ``bench/pii.py`` creates it and
calls this script when a corpus is missing. Two corpora, from disjoint template sets, locales and seeds:

- ``own`` (seed 1701): the corpus the scanner was tuned on. Faker values in 15 locales placed in prose,
  agent tool arguments and results (JSON, with JSON-escaped newlines), shell commands, HTTP headers,
  config files and logs, mixed with hard negatives (unit numbers, ZIP+4, versions, timestamps, order
  ids, UUIDs, prices, coordinates).
- ``heldout`` (seed 90210): other templates, other Faker locales (IE, NZ, AT, CH, BE, MX, CA-FR, PT, DK, IN)
  and other secret shapes. Its first run was recorded before any change; the failure classes it showed
  were then fixed, so it is no longer untouched (bench/RESULTS.md says which numbers are which).
- ``fresh`` (seed 4242): a third template set written after those fixes and scored once, never tuned on.

Types: email, phone, credit_card, iban, us_ssn, ip, secret, street_address. A value is labelled as it
appears in the text (inside JSON: its escaped form).

    bench/out/pii-venv/bin/python bench/pii_corpus.py own|heldout|fresh OUT.jsonl [--n 2500]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import string
import sys
import uuid
from pathlib import Path

from checkdigits import luhn_digit  # bench/checkdigits.py (this script runs from bench/)
from faker import Faker

# Faker locales (values; street addresses), prose templates ({v}: the value) and hard negatives of each corpus,
# as data (bench/pii_templates.json)
TEMPLATES = json.loads((Path(__file__).resolve().parent / "pii_templates.json").read_text())
OWN_LOCALES, ADDRESS_LOCALES_OWN = TEMPLATES["own"]["locales"], TEMPLATES["own"]["address_locales"]
HELDOUT_LOCALES, ADDRESS_LOCALES_HELDOUT = TEMPLATES["heldout"]["locales"], TEMPLATES["heldout"]["address_locales"]
CALLING_CODES = {
    "en_US": "1",
    "en_GB": "44",
    "de_DE": "49",
    "fr_FR": "33",
    "nl_NL": "31",
    "es_ES": "34",
    "it_IT": "39",
    "en_AU": "61",
    "ja_JP": "81",
    "en_IN": "91",
    "pt_BR": "55",
    "de_CH": "41",
    "sv_SE": "46",
    "pl_PL": "48",
    "en_IE": "353",
    "en_NZ": "64",
    "de_AT": "43",
    "fr_CH": "41",
    "nl_BE": "32",
    "es_MX": "52",
    "pt_PT": "351",
    "da_DK": "45",
}
JP_WARDS = [
    ("Shibuya", "Tokyo"),
    ("Shinjuku", "Tokyo"),
    ("Chuo", "Osaka"),
    ("Naka", "Yokohama"),
    ("Kita", "Kyoto"),
    ("Minato", "Tokyo"),
    ("Higashi", "Fukuoka"),
    ("Nishi", "Sapporo"),
]
JP_AREAS = ["Jingumae", "Nishi-Shinjuku", "Namba", "Motomachi", "Kamigyo", "Roppongi", "Hakata", "Odori"]


class Doc:
    """Text under construction with its labels."""

    def __init__(self):
        self.parts: list[str] = []
        self.spans: list[dict] = []
        self.n = 0

    def add(self, text: str, typ: str | None = None) -> Doc:
        if typ and text:
            self.spans.append({"start": self.n, "end": self.n + len(text), "type": typ})
        self.parts.append(text)
        self.n += len(text)
        return self

    def json_value(self, value: str, typ: str | None) -> Doc:
        """A JSON string literal whose content is labelled (escaped as it appears)."""
        inner = json.dumps(value, ensure_ascii=False)[1:-1]
        return self.add('"').add(inner, typ).add('"')

    def record(self, source: str) -> dict:
        text = "".join(self.parts)
        for s in self.spans:
            s["value"] = text[s["start"] : s["end"]]
        return {"text": text, "spans": self.spans, "source": source}


class Values:
    def __init__(self, seed: int, locales: list[str], address_locales: list[str]):
        self.r = random.Random(seed)
        self.fakers = {loc: Faker(loc) for loc in sorted(set(locales) | set(address_locales))}
        for i, f in enumerate(self.fakers.values()):
            f.seed_instance(seed + i)
        self.locales, self.address_locales = locales, address_locales

    def f(self, locales=None) -> Faker:
        return self.fakers[self.r.choice(locales or self.locales)]

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def email(self):
        f = self.f()
        return self.r.choice([f.email, f.free_email, f.company_email, f.ascii_email])()

    def phone(self):
        loc = self.r.choice(self.locales)
        v = self.fakers[loc].phone_number()
        if self.r.random() < 0.15 and not v.startswith(("+", "00")) and loc in CALLING_CODES:
            national = v if loc == "it_IT" else (v[1:] if v.startswith("0") else v)
            v = f"+{CALLING_CODES[loc]} {national}"
        return v

    def card(self):
        r = self.r
        kind = r.choice(
            [
                "amex",
                "diners",
                "discover",
                "jcb15",
                "jcb16",
                "maestro",
                "mastercard",
                "visa13",
                "visa16",
                "visa19",
                "jcb2131",
                "jcb1800",
                "maestro12",
                "unionpay",
                "mir",
            ]
        )
        if kind in ("jcb2131", "jcb1800", "maestro12", "unionpay", "mir"):
            prefix, n = {
                "jcb2131": ("2131", 15),
                "jcb1800": ("1800", 15),
                "maestro12": ("6759", 12),
                "unionpay": ("62", 19),
                "mir": ("2200", 16),
            }[kind]
            body = prefix + self.s(string.digits, n - len(prefix) - 1)
            num = body + luhn_digit(body)
        else:
            num = self.f(["en_US"]).credit_card_number(kind)
        fmt = r.random()
        if len(num) == 16 and fmt < 0.3:
            return " ".join(num[i : i + 4] for i in range(0, 16, 4))
        if len(num) == 16 and fmt < 0.45:
            return "-".join(num[i : i + 4] for i in range(0, 16, 4))
        if len(num) == 15 and fmt < 0.3:
            return f"{num[:4]} {num[4:10]} {num[10:]}"
        return num

    def iban(self):
        f = self.f(
            ["de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT", "en_GB", "pl_PL", "de_CH", "sv_SE", "pt_BR"]
            if "de_DE" in self.locales
            else ["de_AT", "fr_CH", "nl_BE", "pt_PT", "da_DK", "en_IE"]
        )
        v = f.iban()
        x = self.r.random()
        if x < 0.3:
            v = " ".join(v[i : i + 4] for i in range(0, len(v), 4))
        if self.r.random() < 0.2:
            v = v.lower()
        return v

    def ssn(self):
        return self.fakers.get("en_US", self.f()).ssn() if "en_US" in self.fakers else Faker("en_US").ssn()

    def ip(self):
        f = self.f()
        return self.r.choice([f.ipv4, f.ipv4_public, f.ipv4_private, f.ipv6])()

    def address(self):
        loc = self.r.choice(self.address_locales + (["ja_JP_romanised"] if "de_DE" in self.locales else []))
        if loc == "ja_JP_romanised":
            ward, city = self.r.choice(JP_WARDS)
            area = self.r.choice(JP_AREAS)
            a, b, c = self.r.randint(1, 9), self.r.randint(1, 30), self.r.randint(1, 20)
            z = f"{self.r.randint(100, 999)}-{self.r.randint(0, 9999):04d}"
            return self.r.choice(
                [
                    f"{a}-{b}-{c} {area}, {ward}-ku, {city} {z}",
                    f"{city}-to, {ward}-ku, {area} {a}-{b}-{c}"
                    if city == "Tokyo"
                    else f"{a}-{b}-{c} {area}, {ward}-ku, {city}",
                ]
            )
        f = self.fakers[loc]
        v = f.address()
        if loc == "en_US" and self.r.random() < 0.1:
            v = (
                self.r.choice([f.military_apo, f.military_dpo, f.military_ship])()
                + "\n"
                + f"{self.r.choice(['APO', 'FPO', 'DPO'])} {self.r.choice(['AA', 'AE', 'AP'])} {f.postcode()}"
            )
        if loc == "en_US" and self.r.random() < 0.08:
            v = f"PO Box {self.r.randint(1, 9999)}\n{f.city()}, {f.state_abbr()} {f.postcode()}"
        return v.replace("\n", self.r.choice(["\n", "\n", ", "])) if self.r.random() < 0.5 else v

    # secrets -----------------------------------------------------------------
    def token(self, n=None):
        return self.s(string.ascii_letters + string.digits, n or self.r.randint(24, 48))

    def password(self):
        return self.r.choice(
            [
                self.f(["en_US"]).password(length=self.r.randint(8, 16)),
                self.s(string.ascii_letters, 5) + str(self.r.randint(10, 9999)) + self.r.choice("!#%"),
                self.f(["en_US"]).password(length=12, special_chars=False),
            ]
        )

    def uuid_key(self):
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def basic(self):
        user = self.f(["en_US"]).user_name()
        return base64.b64encode(f"{user}:{self.password()}".encode()).decode()


GENERATORS = {
    "email": "email",
    "phone": "phone",
    "credit_card": "card",
    "iban": "iban",
    "us_ssn": "ssn",
    "ip": "ip",
    "street_address": "address",
}

# ---------------------------------------------------------------- own corpus templates (tuning set)
OWN_PROSE = TEMPLATES["own"]["prose"]
OWN_JSON_KEYS = TEMPLATES["own"]["json_keys"]  # the keys of own_record's JSON records
OWN_NEGATIVES = TEMPLATES["own"]["negatives"]


OWN_SECRETS = (  # own_record's secrets, one drawn per secret
    lambda v: ("curl -H 'Authorization: Basic ", secret(v.basic()), "' https://api.example.com/v1/users"),
    lambda v: ("Authorization: Bearer ", secret(v.token())),
    lambda v: ('{"tool": "http_request", "arguments": {"headers": {"X-Api-Key": ', quoted(v.uuid_key()), "}}}"),
    lambda v: ("psql postgres://admin:", secret(v.password()), "@db.internal:5432/orders -c 'select 1'"),
    lambda v: ("export API_KEY=", secret(v.token(32))),
    lambda v: ('{"tool": "configure", "arguments": {"password": ', quoted(v.password()), "}}"),
    lambda v: (
        "mysql -h ",
        ip(v.fakers["en_US"].ipv4_private()),
        " -u root --password=",
        secret(v.password()),
        " shop",
    ),
    lambda v: ("Server=tcp:sql.example.net;Database=crm;User Id=app;Password=", secret(v.password()), ";Encrypt=true"),
    lambda v: ("client_secret: ", secret(v.token(40))),
    lambda v: ("git clone https://deploy:", secret(v.token(20)), "@git.example.com/team/app.git"),
    lambda v: ("token=", secret(v.token()), "&user=42"),
    lambda v: ('"access_token": ', quoted(v.token(36))),
)


def own_record(v: Values, i: int) -> dict:
    r, d = v.r, Doc()
    types = list(GENERATORS) + ["secret"]
    shape = r.random()
    n_pos = 0 if i % 7 == 6 else r.choice([1, 1, 2, 3])
    chosen = [r.choice(types) for _ in range(n_pos)]
    if shape < 0.35 and chosen:  # a tool result: one JSON record
        d.add('{"tool": "crm_lookup", "result": {"customer_id": "C-' + str(r.randint(1000, 9999)) + '"')
        for t in chosen:
            if t == "secret":
                d.add(', "api_token": ').json_value(v.token(), "secret")
            else:
                d.add(f', "{OWN_JSON_KEYS[t]}": ').json_value(getattr(v, GENERATORS[t])(), t)
        d.add(', "status": "active"}}')
    else:
        for k, t in enumerate(chosen):
            if k:
                d.add(" ")
            add_positive(v, d, t, OWN_PROSE, OWN_SECRETS)
    add_negatives(v, d, r.choice([0, 1, 1, 2]) if n_pos else r.choice([1, 2, 3]), " ", OWN_NEGATIVES)
    return d.record("own")


def secret(value: str) -> tuple[str, str]:
    return ("secret", value)


def quoted(value: str) -> tuple[str, str]:
    """A secret as a JSON string literal (labelled as escaped)."""
    return ("json", value)


def ip(value: str) -> tuple[str, str]:
    return ("ip", value)


def add_positive(v: Values, d: Doc, t: str, prose: dict, secrets: tuple) -> None:
    """One value of type ``t``: one of ``secrets`` (functions of the values giving the text's parts: plain
    text, or ``secret``, ``quoted`` and ``ip`` values), else in one of ``prose``'s templates of ``t``."""
    if t == "secret":
        for part in v.r.choice(secrets)(v):
            if isinstance(part, str):
                d.add(part)
            elif part[0] == "json":
                d.json_value(part[1], "secret")
            else:
                d.add(part[1], part[0])
        return
    a, b = v.r.choice(prose[t]).split("{v}")
    d.add(a).add(getattr(v, GENERATORS[t])(), t).add(b)


def add_negatives(v: Values, d: Doc, count: int, sep: str, templates: list[str]) -> None:
    """``count`` hard negatives from ``templates``, each after ``sep``."""
    for _ in range(count):
        d.add(sep + fill_negative(v, v.r.choice(templates)))


def fill_negative(v: Values, t: str) -> str:
    r = v.r
    return t.format(
        n2=r.randint(10, 99),
        n3=r.randint(100, 999),
        n4=f"{r.randint(0, 9999):04d}",
        n5=f"{r.randint(10000, 99999)}",
        n8=f"{r.randint(10**7, 10**8 - 1)}",
        n9=f"{r.randint(10**8, 10**9 - 1)}",
        n13=f"{r.randint(10**12, 10**13 - 1)}",
        d=r.randint(0, 9),
        mm=f"{r.randint(1, 12):02d}",
        dd=f"{r.randint(1, 28):02d}",
        uuid=str(uuid.UUID(int=r.getrandbits(128), version=4)),
    )


# ---------------------------------------------------------------- held-out templates (written apart)
HELD_PROSE = TEMPLATES["heldout"]["prose"]
HELD_NEGATIVES = TEMPLATES["heldout"]["negatives"]


HELD_SECRETS = (  # held_record's secrets
    lambda v: (
        '{"name": "fetch_url", "args": {"url": "https://svc:',
        secret(v.password()),
        '@internal.example.org/report.csv"}}',
    ),
    lambda v: ('requests.get(url, headers={"Authorization": "Bearer ', secret(v.token()), '"})'),
    lambda v: ("PGPASSWORD=", secret(v.password()), " pg_dump -h db.prod mydb > dump.sql"),
    lambda v: ("[default]\naws_secret_access_key = ", secret(v.token(40))),
    lambda v: ("redis://:", secret(v.password()), "@cache.local:6379/0"),
    lambda v: ("docker login -u ci --password ", secret(v.password()), " registry.example.com"),
    lambda v: ("stripe key ", secret("sk_live_" + v.token(24))),
    lambda v: ("Authorization: Basic ", secret(v.basic())),
    lambda v: ('{"tool_result": {"db": {"user": "app", "passwd": ', quoted(v.password()), "}}}"),
    lambda v: ("x-auth-token: ", secret(v.uuid_key())),
)


def held_record(v: Values, i: int) -> dict:
    r, d = v.r, Doc()
    types = list(GENERATORS) + ["secret"]
    n_pos = 0 if i % 6 == 5 else r.choice([1, 2, 2, 3])
    chosen = [r.choice(types) for _ in range(n_pos)]
    if r.random() < 0.3 and chosen:  # an agent's tool call with several arguments
        d.add('{"type": "function", "function": {"name": "update_contact", "arguments": "{')
        first = True
        for t in chosen:
            d.add("" if first else ", ")
            first = False
            key = {"secret": "password", "street_address": "mailing_address", "us_ssn": "tax_id"}.get(t, t)
            value = v.password() if t == "secret" else getattr(v, GENERATORS[t])()
            # the arguments are a JSON string inside JSON: the value is escaped twice
            twice = json.dumps(json.dumps(value, ensure_ascii=False)[1:-1], ensure_ascii=False)[1:-1]
            d.add(f'\\"{key}\\": \\"').add(twice, t).add('\\"')
        d.add('}"}}')
    else:
        for k, t in enumerate(chosen):
            if k:
                d.add(r.choice([" | ", "\n", " — "]))
            add_positive(v, d, t, HELD_PROSE, HELD_SECRETS)
    add_negatives(v, d, r.choice([0, 1, 2]) if n_pos else r.choice([1, 2]), "\n", HELD_NEGATIVES)
    return d.record("heldout")


# ---------------------------------------------------------------- fresh templates (evaluated once, never tuned on)
FRESH_PROSE = TEMPLATES["fresh"]["prose"]
FRESH_NEGATIVES = TEMPLATES["fresh"]["negatives"]


FRESH_SECRETS = (  # fresh_record's secrets
    lambda v: (
        '{"tool_call": {"name": "http_get", "arguments": {"url": "https://api.example.com/v2/orders?api_key=',
        secret(v.token(32)),
        '"}}}',
    ),
    lambda v: ("wget --header='Authorization: Bearer ", secret(v.token()), "' https://files.example.com/x"),
    lambda v: ("DATABASE_URL=mysql://app:", secret(v.password()), "@", ip("10.1.2.3"), ":3306/shop"),
    lambda v: ("smtp_password: ", secret(v.password())),
    lambda v: ('{"headers": {"Authorization": "Basic ', secret(v.basic()), '"}}'),
    lambda v: ("SLACK_BOT_TOKEN=", secret("xoxb-" + v.s("0123456789", 12) + "-" + v.token(24))),
    lambda v: ("gh auth login --with-token <<< ", secret("ghp_" + v.token(36))),
    lambda v: ('"refresh_token": "', secret(v.token(40)), '"'),
)


def fresh_record(v: Values, i: int) -> dict:
    r, d = v.r, Doc()
    types = list(GENERATORS) + ["secret"]
    n_pos = 0 if i % 5 == 4 else r.choice([1, 1, 2])
    for k in range(n_pos):
        t = r.choice(types)
        if k:
            d.add(" ")
        add_positive(v, d, t, FRESH_PROSE, FRESH_SECRETS)
    add_negatives(v, d, r.choice([1, 2]) if n_pos else r.choice([1, 2, 3]), " ", FRESH_NEGATIVES)
    return d.record("fresh")


def build(which: str, n: int) -> list[dict]:
    if which == "own":
        v = Values(1701, OWN_LOCALES, ADDRESS_LOCALES_OWN)
        return [own_record(v, i) for i in range(n)]
    if which == "fresh":
        v = Values(
            4242,
            OWN_LOCALES + ["en_IE", "de_AT", "fr_CH", "nl_BE"],
            ADDRESS_LOCALES_OWN + ["en_IE", "de_AT", "fr_CH", "nl_BE"],
        )
        return [fresh_record(v, i) for i in range(n)]
    v = Values(90210, HELDOUT_LOCALES, ADDRESS_LOCALES_HELDOUT)
    return [held_record(v, i) for i in range(n)]


def cli(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("which", choices=["own", "heldout", "fresh"])
    p.add_argument("out")
    p.add_argument("--n", type=int, default=2500)
    a = p.parse_args(argv)
    rows = build(a.which, a.n)
    for row in rows:
        for s in row["spans"]:
            assert row["text"][s["start"] : s["end"]] == s["value"]
    with open(a.out, "w") as fh:
        for i, row in enumerate(rows):
            fh.write(json.dumps({"id": f"{a.which}-{i}", **row}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} records to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
