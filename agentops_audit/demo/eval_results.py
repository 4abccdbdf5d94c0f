"""Seeded generator of demo eval results (format ``evals``, JSON Lines) with a known regression, and the
ground truth beside them (``evals_truth.json``), tallied from what was generated.

Every release gets a run over the same cases (``cases``, of which ``production`` were sampled from
production traffic), graded on six rubric items. The outcome of a case on an item is drawn once and
kept across releases, except in the last release, where:

- ``REGRESSED`` (no_invented_facts) loses ``REGRESSION_RATE`` of its passes: a real regression;
- ``NOISY`` (escalates_appropriately) flips ``NOISE_RATE`` of its outcomes both ways: a change the
  sample cannot tell from noise;
- ``PII_CASES`` outputs leak an e-mail address.

A person also labelled ``HUMAN_CASES`` production cases of the last release; the judge disagrees with
them on ``REGRESSED`` more often than on the other items. A few malformed rows (missing rubric item,
score out of range) and one duplicate row are appended for the ingest ledger.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

RUBRIC = {  # rubric item -> pass rate of the first release
    "correct_tool_selection": 0.96,
    "policy_compliance": 0.97,
    "escalates_appropriately": 0.93,
    "no_invented_facts": 0.95,
    "cites_sources": 0.94,
    "task_success": 0.90,
}
REGRESSED, REGRESSION_RATE = "no_invented_facts", 0.10
NOISY, NOISE_RATE = "escalates_appropriately", 0.03
HUMAN_CASES, JUDGE_SLIP, JUDGE_SLIP_REGRESSED = 60, 0.02, 0.30
PII_CASES = 2
UNSAFE_CASES = 2
PRIOR_RELEASE = "2026.11.0"
LAST_RUN = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
FILE_NAME, TRUTH_NAME = "evals.jsonl", "evals_truth.json"


def _output(rng: random.Random, workflow: str, leak: str | None) -> str:
    doc = f"kb-{rng.randint(1000, 9999)}"
    answer = (
        "The order is eligible for a refund under the damaged-item policy"
        if workflow == "refund_eligibility"
        else "Routed to billing with an internal note"
    )
    if leak:
        answer += f"; confirmation sent to {leak}"
    return json.dumps({"answer": f"{answer} [{doc}].", "citations": [doc]})


def generate(out_dir: str | Path, releases: list[str], seed: int = 7, cases: int = 600, production: int = 480) -> dict:
    """Write ``evals.jsonl`` and ``evals_truth.json`` into ``out_dir`` for ``releases`` (oldest first)."""
    if not releases:
        raise ValueError("generate() needs at least one release")
    rng = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    workflows = [rng.choice(["refund_eligibility", "ticket_triage"]) for _ in range(cases)]
    base = {(c, item): rng.random() < rate for c in range(cases) for item, rate in RUBRIC.items()}
    last = releases[-1]
    leaks = {
        c: f"{rng.choice(['ana', 'omar', 'kim'])}.{rng.randint(10, 99)}@example-mail.com"
        for c in rng.sample(range(production), PII_CASES)
    }
    unsafe = set(rng.sample(range(cases), UNSAFE_CASES))
    humans = set(range(HUMAN_CASES))  # the first production cases
    rows, passes, confusion = [], defaultdict(Counter), defaultdict(Counter)
    changed = Counter()
    for r, release in enumerate(releases):
        when = LAST_RUN - timedelta(days=7 * (len(releases) - 1 - r))
        for c in range(cases):
            workflow = workflows[c]
            output = _output(rng, workflow, leaks.get(c) if release == last else None)
            for item in RUBRIC:
                passed = base[(c, item)]
                if release == last and len(releases) > 1:
                    if item == REGRESSED and passed and rng.random() < REGRESSION_RATE:
                        passed = False
                    elif item == NOISY and rng.random() < NOISE_RATE:
                        passed = not passed
                    changed[item] += passed != base[(c, item)]
                judge = "pass" if passed else "fail"
                row = {
                    "case_id": f"case-{c + 1:04d}",
                    "release": release,
                    "rubric_item": item,
                    "pass": passed,
                    "judge_label": judge,
                    "from_production": c < production,
                    "workflow": workflow,
                    "correct_action": "refund" if workflow == "refund_eligibility" else "route_to_billing",
                    "correct_policy": "refund.over_limit" if workflow == "refund_eligibility" else "ticket.update",
                    "correct_tool_use": (
                        "lookup_order,issue_refund"
                        if workflow == "refund_eligibility"
                        else "search_kb,get_customer,update_ticket"
                    ),
                    "output_text": output,
                    "output_schema": {"required": ["answer", "citations"]},
                    "citation_required": True,
                    "policy_violation": False,
                    "unsafe_write_attempt": c in unsafe,
                    "evaluated_at": when.isoformat(),
                }
                if release == last and c in humans:
                    slip = JUDGE_SLIP_REGRESSED if item == REGRESSED else JUDGE_SLIP
                    human = judge if rng.random() >= slip else ("fail" if passed else "pass")
                    row["human_label"] = human
                    confusion[item][f"{judge}/{human}"] += 1
                passes[release][item] += passed
                rows.append(row)
    bad = [
        ({**rows[0], "rubric_item": None, "case_id": "case-bad-1"}, "missing rubric_item"),
        ({**rows[1], "pass": None, "score": 7, "case_id": "case-bad-2"}, "score is not a number between 0 and 1"),
    ]
    lines = [json.dumps(r) for r in rows] + [json.dumps(b) for b, _ in bad] + [json.dumps(rows[2])]
    path = out / FILE_NAME
    path.write_text("\n".join(lines) + "\n")
    truth = {
        "seed": seed,
        "releases": releases,
        "baseline": releases[-2] if len(releases) > 1 else None,
        "candidate": last,
        "cases": cases,
        "production_cases": production,
        "rubric_items": sorted(RUBRIC),
        "rows_read": len(lines),
        "rows_loaded": len(rows),
        "rows_duplicate": 1,
        "rows_quarantined": len(bad),
        "quarantine_reasons": sorted(reason for _, reason in bad),
        "passes": {rel: dict(items) for rel, items in passes.items()},
        "changed_in_candidate": dict(changed),
        "regressed_item": REGRESSED,
        "noisy_item": NOISY,
        "pii_leak_cases": sorted(f"case-{c + 1:04d}" for c in leaks),
        "unsafe_write_cases": sorted(f"case-{c + 1:04d}" for c in unsafe),
        "human_labelled_cases": len(humans),
        "confusion": {k: dict(v) for k, v in confusion.items()},
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    (out / TRUTH_NAME).write_text(json.dumps(truth, indent=2, sort_keys=True))
    return truth


def for_demo(db_path: str | Path, data_dir: str | Path, seed: int = 7) -> tuple[Path, dict]:
    """The demo's eval set: a run for ``PRIOR_RELEASE`` and for every release the database's traces show
    (oldest first), written to ``DATA/evals/evals.jsonl`` with the truth at ``DATA/evals_truth.json``."""
    from agentops_audit import db

    con = db.connect(db_path, read_only=True)
    try:
        traced = [
            r[0]
            for r in con.execute(
                "SELECT service_version FROM spans WHERE service_version IS NOT NULL "
                "GROUP BY service_version ORDER BY min(start_time), service_version"
            ).fetchall()
        ]
    finally:
        con.close()
    releases = [PRIOR_RELEASE, *[r for r in traced if r != PRIOR_RELEASE]]
    out = Path(data_dir) / "evals"
    truth = generate(out, releases, seed=seed)
    (out / TRUTH_NAME).replace(Path(data_dir) / TRUTH_NAME)
    return out / FILE_NAME, truth
