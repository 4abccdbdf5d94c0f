"""Benchmark: PII and secret detection accuracy (recall, precision, F1 per type) and speed against
Microsoft Presidio's pattern recognizers, on span-labelled corpora.

Corpora (``bench/pii_corpus.py``, ``bench/pii_presidio.py``):

- ``own``: generated in 15 locales, the set the scanner was tuned on (``bench/data/pii_own.jsonl``);
- ``heldout``: other templates, locales and seed (``bench/data/pii_heldout.jsonl``); its first run was
  recorded before any change, then the failure classes it showed were fixed;
- ``fresh``: a third template set written after that, scored once and never tuned on
  (``bench/data/pii_fresh.jsonl``);
- ``presidio``: presidio-evaluator's generator with its own templates (text this project did not write),
  made at bench time in ``bench/out/pii/`` (not committed).

A label is found when the scanner reports the same type on a span overlapping it by at least half of the
longer of the two (``exact`` also reported: identical spans). Labels of one type separated only by spaces
or commas are merged first (presidio-evaluator labels a building number and a street name apart).
Detections are deduplicated per type. Types: email, phone, credit_card, iban, us_ssn, ip (ipv4 and ipv6),
secret (every secret entity), street_address; date_of_birth is not scored.

Presidio runs in the bench's own venv (``bench/out/pii-venv``: presidio-analyzer, presidio-evaluator,
spaCy, Faker; created on first use), with ``spacy.blank("en")`` as its NLP pipeline and only pattern
recognizers: the six that match this scanner's types, and all of its English predefined ones.

    python bench/pii.py                # all three corpora, speed on each; prints Markdown
    python bench/pii.py --record       # also appends the tables to bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from agentops_audit import pii  # noqa: E402

OUT = HERE / "out" / "pii"
VENV = HERE / "out" / "pii-venv"
RESULTS = HERE / "RESULTS.md"
CORPORA = {
    "own": HERE / "data" / "pii_own.jsonl",
    "heldout": HERE / "data" / "pii_heldout.jsonl",
    "fresh": HERE / "data" / "pii_fresh.jsonl",
    "presidio": OUT / "presidio.jsonl",
}
PRESIDIO_N, PRESIDIO_SEED = 6000, 7
BENCH_PACKAGES = [
    "presidio-analyzer==2.2.366",
    "presidio-anonymizer==2.2.366",
    "spacy==3.8.18",
    "faker==40.63.0",
    "pandas",
    "python-dotenv",
    "pyyaml",
    "requests",
    "tqdm",
]
TYPES = ["email", "phone", "credit_card", "iban", "us_ssn", "ip", "secret", "street_address"]
GOAL_RECALL = {t: 0.95 for t in TYPES} | {"street_address": 0.85}
GOAL_PRECISION = 0.98
ENTITY_TYPE = {
    "ipv4": "ip",
    "ipv6": "ip",
    "email": "email",
    "phone": "phone",
    "credit_card": "credit_card",
    "iban": "iban",
    "us_ssn": "us_ssn",
    "street_address": "street_address",
}
ENTITY_TYPE |= {n: "secret" for n, e in pii.ENTITIES.items() if e.kind == "secret"}


# ---------------------------------------------------------------- the bench venv and the corpora
def bench_python() -> str:
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *BENCH_PACKAGES], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "presidio-evaluator==0.3.2"], check=True)
    return str(py)


def corpus(name: str) -> list[dict]:
    path = CORPORA[name]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == "presidio":
            cmd = [
                bench_python(),
                str(HERE / "pii_presidio.py"),
                "generate",
                str(path),
                "--n",
                str(PRESIDIO_N),
                "--seed",
                str(PRESIDIO_SEED),
            ]
        else:
            cmd = [bench_python(), str(HERE / "pii_corpus.py"), name, str(path)]
        subprocess.run(cmd, check=True, capture_output=True)
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---------------------------------------------------------------- this scanner
def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load(con, rows: list[dict]) -> None:
    con.execute("CREATE OR REPLACE TABLE corpus(trace_id INT, span_id INT, text VARCHAR)")
    con.executemany("INSERT INTO corpus VALUES (?, 0, ?)", [[i, r["text"]] for i, r in enumerate(rows)])


def ours(rows: list[dict], repeat: int = 3) -> tuple[list[list[dict]], dict]:
    """Spans found per text, and the speed of ``pii.scan`` over the corpus (median of ``repeat``)."""
    con = duckdb.connect()
    _load(con, rows)
    pii.install(con)
    runs = []
    for _ in range(repeat):
        c0, t0 = _cpu(), time.perf_counter()
        pii.scan(con, "corpus", ["text"])
        runs.append((time.perf_counter() - t0, _cpu() - c0))
    wall, cpu = sorted(runs)[len(runs) // 2]
    # raw matches (the scan itself stores none), located in the text in order
    cols = ", ".join(f"{pii._hits(e, 'text', inline=False)} AS {e.name}" for e in pii.ENTITIES.values())
    got = con.execute(f"SELECT trace_id, {cols} FROM corpus ORDER BY trace_id").fetchall()
    names = list(pii.ENTITIES)
    found: list[list[dict]] = []
    for row in got:
        text, spans = rows[row[0]]["text"], []
        for name, matches in zip(names, row[1:], strict=True):
            typ, pos = ENTITY_TYPE.get(name), Counter()
            if typ is None:
                continue
            for m in matches or []:
                start = text.find(m, pos[m])
                if start < 0:
                    continue
                pos[m] = start + 1
                spans.append({"start": start, "end": start + len(m), "type": typ})
        found.append(spans)
    return found, {"wall_seconds": wall, "cpu_seconds": cpu, "runs": [r[1] for r in runs]}


def presidio(name: str, which: str) -> tuple[list[list[dict]], dict]:
    out = OUT / f"presidio-{which}-{name}.json"
    subprocess.run(
        [
            bench_python(),
            str(HERE / "pii_presidio.py"),
            "analyze",
            str(CORPORA[name]),
            str(out),
            "--recognizers",
            which,
        ],
        check=True,
        capture_output=True,
    )
    res = json.loads(out.read_text())
    return res["found"], res


# ---------------------------------------------------------------- scoring
def _merge(spans: list[dict], text: str) -> list[dict]:
    """Spans of one type that touch or overlap, or are separated only by spaces and commas, as one."""
    out: list[dict] = []
    for s in sorted(spans, key=lambda s: (s["type"], s["start"], -s["end"])):
        last = out[-1] if out and out[-1]["type"] == s["type"] else None
        gap = text[last["end"] : s["start"]] if last else None
        if last and (s["start"] < last["end"] or (len(gap) <= 2 and re.fullmatch(r"[ ,]*", gap))):
            last["end"] = max(last["end"], s["end"])
        else:
            out.append(dict(s))
    return out


def _match(a: dict, b: dict) -> bool:
    overlap = min(a["end"], b["end"]) - max(a["start"], b["start"])
    return overlap > 0 and overlap >= 0.5 * max(a["end"] - a["start"], b["end"] - b["start"])


def score(rows: list[dict], found: list[list[dict]]) -> dict[str, dict]:
    stats: dict[str, Counter] = defaultdict(Counter)
    misses: dict[str, list] = defaultdict(list)
    for row, pred in zip(rows, found, strict=True):
        text = row["text"]
        labels = _merge([s for s in row["spans"] if s["type"] in TYPES], text)
        pred = _merge([s for s in pred if s["type"] in TYPES], text)
        used = set()
        for lab in labels:
            st = stats[lab["type"]]
            st["labels"] += 1
            hit = next(
                (i for i, p in enumerate(pred) if i not in used and p["type"] == lab["type"] and _match(lab, p)), None
            )
            if hit is None:
                misses[lab["type"]].append(("FN", text[lab["start"] : lab["end"]], row.get("id")))
                continue
            used.add(hit)
            st["tp"] += 1
            st["exact"] += pred[hit]["start"] == lab["start"] and pred[hit]["end"] == lab["end"]
        for i, p in enumerate(pred):
            stats[p["type"]]["found"] += 1
            if i not in used:
                misses[p["type"]].append(("FP", text[p["start"] : p["end"]], row.get("id")))
    out = {}
    for t in TYPES:
        st = stats[t]
        rec = st["tp"] / st["labels"] if st["labels"] else None
        prec = st["tp"] / st["found"] if st["found"] else None
        f1 = 2 * rec * prec / (rec + prec) if rec and prec else (0.0 if st["labels"] else None)
        out[t] = {
            "labels": st["labels"],
            "found": st["found"],
            "tp": st["tp"],
            "recall": rec,
            "precision": prec,
            "f1": f1,
            "exact": st["exact"] / st["labels"] if st["labels"] else None,
            "misses": misses[t],
        }
    return out


# ---------------------------------------------------------------- report
def _f(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def table(name: str, rows: list[dict], mine: dict, theirs: dict | None) -> str:
    lines = [
        "| type | labels | recall | precision | F1 | exact-span recall | goal met | Presidio recall | "
        "Presidio precision |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for t in TYPES:
        m, p = mine[t], (theirs or {}).get(t, {})
        if not m["labels"] and not m["found"]:
            continue
        met = (m["recall"] or 0) >= GOAL_RECALL[t] and (m["precision"] is None or m["precision"] >= GOAL_PRECISION)
        goal = (
            ("yes" if met else "**no**")
            if m["labels"]
            else ("no labels" + (f", {m['found']} found" if m["found"] else ""))
        )
        pres = (
            f"{_f(p.get('recall'))} | {_f(p.get('precision'))}"
            if t not in ("secret", "street_address")
            else "no recognizer | –"
        )
        lines.append(
            f"| {t} | {m['labels']} | {_f(m['recall'])} | {_f(m['precision'])} | {_f(m['f1'])} | "
            f"{_f(m['exact'])} | {goal} | {pres} |"
        )
    return f"**{name}** ({len(rows)} texts, {sum(len(r['text']) for r in rows):,} characters)\n\n" + "\n".join(lines)


def speed_line(name: str, rows: list[dict], mine: dict, pres: dict[str, dict]) -> str:
    parts = [f"ours {mine['cpu_seconds']:.3f} CPU-s ({mine['wall_seconds']:.3f} s wall)"]
    for which, res in pres.items():
        parts.append(
            f"Presidio ({which}: {len(res['recognizers'])} recognizers) {res['cpu_seconds']:.2f} CPU-s, "
            f"**{res['cpu_seconds'] / mine['cpu_seconds']:.0f}x**"
        )
    return f"| {name} | {len(rows)} | " + " | ".join(parts) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", default="own,heldout,fresh,presidio")
    parser.add_argument(
        "--no-presidio", action="store_true", help="only this scanner (no bench venv needed for the committed corpora)"
    )
    parser.add_argument("--misses", type=int, default=0, help="print up to N misses per type (own corpus only)")
    parser.add_argument("--record", action="store_true", help="append the tables to bench/RESULTS.md")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    sections, speeds = [], []
    load = os.getloadavg()[0]
    for name in args.corpora.split(","):
        rows = corpus(name)
        found, speed = ours(rows)
        mine = score(rows, found)
        pres = {}
        if not args.no_presidio:
            for which in ("matching", "all"):
                f, res = presidio(name, which)
                res["score"] = score(rows, f)
                pres[which] = res
        sections.append(table(name, rows, mine, pres.get("matching", {}).get("score")))
        if pres:
            speeds.append(speed_line(name, rows, speed, pres))
        else:
            speeds.append(f"| {name} | {len(rows)} | ours {speed['cpu_seconds']:.3f} CPU-s |")
        if args.misses and name in ("own",):
            for t in TYPES:
                for kind, value, rid in mine[t]["misses"][: args.misses]:
                    print(f"  {t:15s} {kind} {rid}: {value!r}")
    doc = "\n\n".join(sections)
    doc += (
        "\n\n| corpus | texts | speed (CPU seconds for the whole corpus; Presidio over ours) |\n|---|---:|---|\n"
        + "\n".join(speeds)
    )
    doc += f"\n\nLoad average before the run: {load:.1f} (2 cores)."
    print(doc)
    if args.record:
        with RESULTS.open("a") as fh:
            fh.write(
                f"\n## PII detection (bench/pii.py), {datetime.now(UTC):%Y-%m-%d}\n\n"
                f"Python {platform.python_version()}, duckdb {duckdb.__version__}. Command: "
                f"`python bench/pii.py --record`.\n\n{doc}\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
