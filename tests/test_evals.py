"""Eval results: ingest (JSON Lines, CSV, Parquet; quarantine, ledger, idempotence), OpenTelemetry evaluation
events and transcript outcomes, the suite checks, judge calibration (kappa worked by hand), automated
checks on outputs, the stratified labelling sample, and section 2 of the demo against the generator's tally.
Real DuckDB, real Great Expectations, real CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agentops_audit import catalog, cli, db, ingest
from agentops_audit.db import scalar
from agentops_audit.demo import synth
from agentops_audit.evals import calibration, checks, sample
from agentops_audit.evaluators import CHECKS, AuditContext, eval_suite, release_gate
from agentops_audit.expectations import Validator

REPO = Path(__file__).resolve().parents[1]
TAU = Path(__file__).resolve().parents[2] / "shared" / "data" / "tau-bench-airline" / "gpt-4o-airline.json"


def _ledger_holds(con) -> bool:
    return scalar(con, "SELECT bool_and(rows_read = rows_loaded + rows_duplicate + rows_quarantined) FROM sources")


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _rows(
    cases: int,
    release: str = "r1",
    items: tuple[str, ...] = ("accuracy", "policy"),
    production: int | None = None,
    **extra,
) -> list[dict]:
    production = cases if production is None else production
    return [
        {
            "case_id": f"c{c:03d}",
            "release": release,
            "rubric_item": item,
            "pass": (c + i) % 7 != 0,
            "from_production": c < production,
            "correct_action": "refund",
            "correct_policy": "refund.limit",
            "correct_tool_use": "lookup_order",
            **extra,
        }
        for c in range(cases)
        for i, item in enumerate(items)
    ]


def _load(tmp_path: Path, rows: list[dict], name: str = "e") -> tuple:
    con = db.connect(tmp_path / f"{name}.duckdb")
    summary = ingest.ingest(con, [str(_write_jsonl(tmp_path / f"{name}.jsonl", rows))])[0]
    return con, summary


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def _evaluate(con, validator, check: str, config: dict | None = None) -> dict:
    cat = catalog.load(overrides=(config or {}).get("thresholds"))
    ctx = AuditContext(con=con, catalog=cat, validator=validator, config=config or {})
    return {i.id: CHECKS[check].fn(ctx, i) for i in cat.items if i.check == check}


# ------------------------------------------------------------------------------------------------ ingest


def test_jsonl_csv_and_parquet_load_the_same_rows(tmp_path):
    rows = _rows(3, output_text="ok [kb-1]", evaluated_at="2026-11-09T10:00:00Z")
    rows[0]["score"] = 0.75
    jsonl = _write_jsonl(tmp_path / "r.jsonl", rows)
    columns = list(rows[0])
    with (tmp_path / "r.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(
            [{k: ("true" if v is True else "false" if v is False else v) for k, v in r.items()} for r in rows]
        )
    pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]), tmp_path / "r.parquet")
    loaded = []
    for path in (jsonl, tmp_path / "r.csv", tmp_path / "r.parquet"):
        assert ingest.sniff(path) == "evals"
        con = db.connect(tmp_path / f"{path.suffix[1:]}.duckdb")
        summary = ingest.ingest(con, [str(path)])[0]
        assert (summary.format, summary.rows_read, summary.rows_loaded) == ("evals", len(rows), len(rows))
        loaded.append(db.frame(con, "SELECT * EXCLUDE (source_id) FROM evals ORDER BY case_id, rubric_item").rows())
        assert _ledger_holds(con)
    assert loaded[0] == loaded[1] == loaded[2]
    assert scalar(con, "SELECT score FROM evals WHERE case_id = 'c000' AND rubric_item = 'accuracy'") == 0.75


def test_bad_rows_are_quarantined_with_reasons(tmp_path):
    good = _rows(1)[0]
    lines = [json.dumps(good), json.dumps({**good, "rubric_item": "policy"}), json.dumps(good)]  # last: duplicate
    bad = {
        "missing case_id": {**good, "case_id": None},
        "missing release": {**good, "release": ""},
        "neither score nor pass": {**good, "pass": None, "rubric_item": "x1"},
        "score is not a number between 0 and 1": {**good, "pass": None, "score": 1.5, "rubric_item": "x2"},
        "pass is not true or false": {**good, "pass": "maybe", "rubric_item": "x3"},
        "evaluated_at is not a timestamp": {**good, "evaluated_at": "yesterday", "rubric_item": "x4"},
        "output_schema is not a JSON object": {**good, "output_schema": "[1, 2", "rubric_item": "x5"},
        "not an eval record (expected an object with named columns)": "just a string",
    }
    lines += [json.dumps(v) for v in bad.values()] + ['{"case_id": "c9", "release": "r1", "rubric_it']
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(path)], fmt="evals")[0]
    reasons = dict(db.frame(con, "SELECT reason, count(*) AS n FROM quarantine GROUP BY reason").rows())
    expected = {reason: 1 for reason in bad}
    expected["invalid JSON (truncated or malformed line)"] = 1
    assert reasons == expected
    assert (summary.rows_read, summary.rows_loaded, summary.rows_duplicate, summary.rows_quarantined) == (
        len(lines),
        2,
        1,
        len(bad) + 1,
    )
    assert scalar(con, "SELECT min(locator) FROM quarantine") == "bad.jsonl:10"
    assert _ledger_holds(con)


def test_csv_row_with_the_wrong_number_of_fields_is_quarantined(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("case_id,release,rubric_item,pass\nc1,r1,accuracy,true\nc2,r1,accuracy\nc3,r1,accuracy,false\n")
    con = db.connect(tmp_path / "a.duckdb")
    summary = ingest.ingest(con, [str(path)])[0]
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 1)
    assert (
        scalar(con, "SELECT locator || ' ' || reason FROM quarantine") == "e.csv:3 row has 3 fields, the header has 4"
    )


def test_reingest_is_idempotent_and_overlaps_are_duplicates(tmp_path):
    rows = _rows(5)
    con, first = _load(tmp_path, rows)
    before = scalar(con, "SELECT count(*) FROM evals"), scalar(con, "SELECT count(*) FROM sources")
    again = ingest.ingest(con, [str(tmp_path / "e.jsonl")])[0]
    assert (
        again.skipped
        and (scalar(con, "SELECT count(*) FROM evals"), scalar(con, "SELECT count(*) FROM sources")) == before
    )
    overlap = _write_jsonl(tmp_path / "more.jsonl", rows[:4] + _rows(2, release="r2"))
    s = ingest.ingest(con, [str(overlap)])[0]
    assert (s.rows_read, s.rows_loaded, s.rows_duplicate) == (8, 4, 4)
    assert scalar(con, "SELECT count(*) FROM evals") == first.rows_loaded + 4
    assert _ledger_holds(con)


def test_mapping_names_the_source_columns(tmp_path):
    rows = [{"example": f"e{i}", "version": "v1", "metric_name": "accuracy", "passed": i % 2 == 0} for i in range(4)]
    path = _write_jsonl(tmp_path / "own.jsonl", rows)
    mapping = tmp_path / "m.yml"
    mapping.write_text("evals:\n  columns:\n    case_id: [example]\n    rubric_item: [metric_name]\n")
    database = tmp_path / "a.duckdb"
    assert cli.main(["ingest", str(path), "--format", "evals", "--mapping", str(mapping), "--db", str(database)]) == 0
    con = db.connect(database, read_only=True)
    assert db.frame(con, "SELECT case_id, release, rubric_item, passed FROM evals ORDER BY case_id").rows() == [
        (f"e{i}", "v1", "accuracy", i % 2 == 0) for i in range(4)
    ]
    con.close()
    mapping.write_text("evals:\n  columns:\n    nonsense: [x]\n")
    assert cli.main(["ingest", str(path), "--format", "evals", "--mapping", str(mapping), "--db", str(database)]) == 2


def test_otel_evaluation_events_become_eval_rows(tmp_path):
    def event(name, score=None, label=None):
        attrs = [{"key": "gen_ai.evaluation.name", "value": {"stringValue": name}}]
        if score is not None:
            attrs.append({"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": score}})
        if label is not None:
            attrs.append({"key": "gen_ai.evaluation.score.label", "value": {"stringValue": label}})
        return {"name": "gen_ai.evaluation.result", "timeUnixNano": "1794182401000000000", "attributes": attrs}

    span = {
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
        "spanId": "00f067aa0ba902b7",
        "name": "chat",
        "startTimeUnixNano": "1794182400000000000",
        "endTimeUnixNano": "1794182401000000000",
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.output.messages", "value": {"stringValue": "It is eligible [kb-1]."}},
        ],
        "events": [
            event("relevance", 0.8, "relevant"),
            event("groundedness", label="fail"),
            event("fluency", score=4.0),
            {"name": "exception", "attributes": []},
        ],
    }
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.version", "value": {"stringValue": "v9"}}]},
                "scopeSpans": [{"spans": [span]}],
            }
        ]
    }
    path = tmp_path / "t.otlp.json"
    path.write_text(json.dumps(doc))
    con = db.connect(tmp_path / "a.duckdb")
    ingest.ingest(con, [str(path)])
    found = db.frame(
        con,
        "SELECT rubric_item, release, score, passed, judge_label, value, origin, output_text "
        "FROM eval_results ORDER BY rubric_item",
    ).rows()
    # fluency's 4.0 is neither a 0..1 score nor a pass/fail label: not usable, left out
    assert found == [
        ("groundedness", "v9", None, False, "fail", 0.0, "otel_event", "It is eligible [kb-1]."),
        ("relevance", "v9", 0.8, True, "relevant", 1.0, "otel_event", "It is eligible [kb-1]."),
    ]


def test_transcript_outcomes_become_task_success_rows(tmp_path):
    if not TAU.exists():
        pytest.skip(f"tau-bench data not available at {TAU}")
    raw = json.loads(TAU.read_text())
    database = tmp_path / "tau.duckdb"
    assert (
        cli.main(["ingest", str(TAU), "--mapping", str(REPO / "mappings" / "tau-bench.yml"), "--db", str(database)])
        == 0
    )
    con = db.connect(database, read_only=True)
    rows = db.frame(
        con,
        "SELECT count(*) AS n, count(*) FILTER (WHERE passed) AS passed, "
        "count(DISTINCT case_id) AS cases, any_value(rubric_item) AS item, any_value(release) AS rel "
        "FROM eval_results WHERE origin = 'transcript'",
    ).row(0, named=True)
    sessions = {f"airline:{r['task_id']}:{r['trial']}" for r in raw}
    assert rows["n"] == rows["cases"] == len(sessions)
    assert rows["passed"] == sum(1 for r in raw if r["reward"] >= 1)
    assert (rows["item"], rows["rel"]) == ("task_success", "unversioned")


# ------------------------------------------------------------------------------------------ suite checks


def test_no_eval_results_is_no_data(tmp_path, validator):
    con = db.connect(tmp_path / "empty.duckdb")
    for check in (n for n, c in CHECKS.items() if c.fn.__module__ in (eval_suite.__name__, release_gate.__name__)):
        for result in _evaluate(con, validator, check).values():
            assert result.status == "NO_DATA" and result.reason


def test_suite_size_rubric_and_labels(tmp_path, validator):
    items = tuple(f"item{i:02d}" for i in range(12))
    rows = _rows(180, items=items, production=150)
    for r in rows:
        if r["case_id"] < "c010":
            r["correct_policy"] = None
    con, _ = _load(tmp_path, rows)
    size = _evaluate(con, validator, "eval_set_size")
    assert {r.status for r in size.values()} == {"FAIL"} and {r.value for r in size.values()} == {150}
    (rubric,) = _evaluate(con, validator, "eval_rubric").values()
    assert rubric.status == "WARN" and rubric.value == 12 and "5-10" in rubric.reason
    (labels,) = _evaluate(con, validator, "eval_labels").values()
    assert labels.status == "FAIL" and labels.at_fault == ["correct_policy"]
    assert labels.evidence["correct_policy"] == 170 and labels.evidence["correct_action"] == 180
    assert labels.evidence["threshold"]["value"] == 1.0  # the suite's default, recorded
    relaxed = _evaluate(con, validator, "eval_labels", {"thresholds": {"eval.labelled-outcomes": 0.9}})
    assert relaxed["eval.labelled-outcomes"].status == "PASS"

    con2, _ = _load(tmp_path, _rows(250, items=items[:6], production=220), name="ok")
    assert {r.status for r in _evaluate(con2, validator, "eval_set_size").values()} == {"PASS"}
    assert _evaluate(con2, validator, "eval_rubric")["eval.rubric"].status == "PASS"


def test_every_traced_release_needs_an_eval_run(tmp_path, validator):
    synth.generate(tmp_path / "traces", sessions=20, seed=3)
    con, _ = _load(tmp_path, _rows(5, release="2026.10.9"))
    ingest.ingest(con, [str(tmp_path / "traces" / "traces.otlp.jsonl")])
    traced = scalar(con, "SELECT any_value(service_version) FROM spans")
    (item,) = _evaluate(con, validator, "eval_every_release").values()
    assert item.status == "FAIL" and item.at_fault == [traced] and item.value == 0
    ingest.ingest(con, [str(_write_jsonl(tmp_path / "now.jsonl", _rows(5, release=traced)))])
    (item,) = _evaluate(con, validator, "eval_every_release").values()
    assert item.status == "PASS" and item.value == 1


# ------------------------------------------------------------------------------------- judge calibration


def test_cohen_kappa_against_a_hand_computed_table():
    # judge \ human    pass   fail
    #   pass             20      5
    #   fail             10     15        n = 50
    # observed agreement p_o = (20 + 15) / 50 = 0.70
    # the judge says pass on 25/50 = 0.5, the human on 30/50 = 0.6
    # chance agreement  p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.50
    # kappa = (p_o - p_e) / (1 - p_e) = 0.20 / 0.50 = 0.40; disagreement = (5 + 10) / 50 = 0.30
    table = {("pass", "pass"): 20, ("pass", "fail"): 5, ("fail", "pass"): 10, ("fail", "fail"): 15}
    assert calibration.cohen_kappa(table) == pytest.approx(0.40)
    assert calibration.cohen_kappa({("pass", "pass"): 9}) is None  # one label only: undefined
    assert calibration.cohen_kappa({("a", "a"): 5, ("b", "b"): 5}) == pytest.approx(1.0)


def _calibration_rows(n: int) -> list[dict]:
    """The hand-computed table above, scaled to n/50, with label spellings the normaliser must fold."""
    cells = [("pass", "pass")] * 20 + [("pass", "fail")] * 5 + [("fail", "pass")] * 10 + [("fail", "fail")] * 15
    rows = []
    for c in range(n):
        judge, human = cells[c % 50]
        row = {
            "case_id": f"c{c:03d}",
            "release": "r1",
            "rubric_item": "accuracy",
            "pass": judge == "pass",
            "human_label": {"pass": ["PASS", "passed", " Pass "], "fail": ["fail", "FAILED", "False"]}[human][c % 3],
            "output_text": f"answer {c}; write to ana.{c}@example-mail.com",
        }
        if c % 2:
            row["judge_label"] = judge  # the others fall back on their pass/fail verdict
        rows.append(row)
    return rows


def test_calibration_from_the_database_matches_the_hand_computed_kappa(tmp_path, validator):
    con, _ = _load(tmp_path, _calibration_rows(50))
    result = calibration.calibrate(con, threshold=0.10)
    assert result["status"] == "OK" and result["cases"] == 50
    assert result["overall"]["kappa"] == pytest.approx(0.40)
    assert result["overall"]["disagreement"] == pytest.approx(0.30)
    assert [s["scope"] for s in result["per_item"]] == ["accuracy"]
    assert result["disagreements_listed"] == 15
    listed = json.dumps(result["disagreements"])
    assert "@example-mail.com" not in listed and "a***@e***.com" in listed
    (item,) = _evaluate(con, validator, "judge_calibration").values()
    assert item.status == "FAIL" and item.value == pytest.approx(0.30) and item.at_fault == ["accuracy"]
    relaxed = _evaluate(con, validator, "judge_calibration", {"thresholds": {"eval.judge-calibration": 0.35}})
    assert relaxed["eval.judge-calibration"].status == "PASS"


def test_calibration_needs_fifty_cases(tmp_path, validator):
    con, _ = _load(tmp_path, _calibration_rows(49))
    assert calibration.calibrate(con, 0.10)["status"] == "NO_DATA"
    (item,) = _evaluate(con, validator, "judge_calibration").values()
    assert item.status == "NO_DATA" and "49" in item.reason and "50" in item.reason


# ------------------------------------------------------------------------------------- automated checks


def test_automated_checks_count_each_failure(tmp_path, validator):
    schema = {"required": ["answer", "citations"]}
    cases = {
        "c1": {
            "output_text": json.dumps({"answer": "yes", "citations": ["kb-1"]}),
            "output_schema": schema,
            "citation_required": True,
        },
        "c2": {"output_text": '{"answer": "yes", '},  # invalid JSON
        "c3": {"output_text": json.dumps({"answer": "yes"}), "output_schema": schema},  # missing key
        "c4": {"output_text": "Eligible.", "citation_required": True},  # no citation
        "c5": {"output_text": "Eligible [kb-12].", "citation_required": True},
        "c6": {"output_text": "Mail ana.lee@example-mail.com about it"},  # PII
        "c7": {"output_text": "Refunded.", "policy_violation": True},
        "c8": {"output_text": "Declined.", "policy_violation": False},
    }
    rows = [
        {"case_id": c, "release": "r1", "rubric_item": item, "pass": True, **fields}
        for c, fields in cases.items()
        for item in ("accuracy", "policy")
    ]
    con, _ = _load(tmp_path, rows)
    got = {r["check"]: (r["applicable"], r["failed"]) for r in checks.output_checks(con, "r1").iter_rows(named=True)}
    assert got == {
        "json_schema_valid": (3, 2),
        "citation_present": (3, 1),
        "pii_leakage": (8, 1),
        "policy_violation": (2, 1),
    }
    (item,) = _evaluate(con, validator, "eval_automated_checks").values()
    assert item.status == "FAIL" and sorted(item.at_fault) == sorted(checks.CHECKS)
    clean = [r for r in rows if r["case_id"] in ("c1", "c5", "c8")]
    con2, _ = _load(tmp_path, clean, name="clean")
    (item,) = _evaluate(con2, validator, "eval_automated_checks").values()
    assert item.status == "PASS"
    con3, _ = _load(tmp_path, [r for r in clean if r["case_id"] != "c8"], name="partial")
    (item,) = _evaluate(con3, validator, "eval_automated_checks").values()
    assert item.status == "WARN" and "policy_violation" in item.reason


# ------------------------------------------------------------------------------------------------ sample


@pytest.fixture(scope="module")
def sessions_db(tmp_path_factory) -> Path:
    """Seeded demo traces plus one session whose model output carries an e-mail address."""
    root = tmp_path_factory.mktemp("sample")
    synth.generate(root / "traces", sessions=240, seed=5)
    leak = {
        "traceId": "5bf92f3577b34da6a3ce929d0e0e4736",
        "spanId": "10f067aa0ba902b7",
        "name": "chat",
        "startTimeUnixNano": "1794182400000000000",
        "endTimeUnixNano": "1794182401000000000",
        "attributes": [
            {"key": k, "value": {"stringValue": v}}
            for k, v in {
                "gen_ai.operation.name": "chat",
                "gen_ai.conversation.id": "sess-leak",
                "agentops.workflow": "refund_eligibility",
                "gen_ai.input.messages": "Refund order 123?",
                "gen_ai.output.messages": "Done, receipt sent to zed.lee@example-mail.com",
            }.items()
        ],
    }
    (root / "traces" / "leak.json").write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [leak]}]}]}))
    database = root / "s.duckdb"
    assert (
        cli.main(
            [
                "ingest",
                str(root / "traces" / "traces.otlp.jsonl"),
                str(root / "traces" / "leak.json"),
                "--db",
                str(database),
            ]
        )
        == 0
    )
    return database


def test_sample_is_reproducible_from_its_seed(sessions_db, tmp_path):
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    for out, seed in ((a, 7), (b, 7), (c, 8)):
        assert (
            cli.main(["sample-evals", "--db", str(sessions_db), "--out", str(out), "--n", "60", "--seed", str(seed)])
            == 0
        )
    assert a.read_bytes() == b.read_bytes()
    ids = [{json.loads(line)["session_id"] for line in p.read_text().splitlines()} for p in (a, c)]
    assert len(ids[0]) == len(ids[1]) == 60 and ids[0] != ids[1]
    meta = json.loads((tmp_path / "a.meta.json").read_text())
    assert (meta["seed"], meta["n_drawn"]) == (7, 60)
    record = json.loads(a.read_text().splitlines()[0])
    assert all(record[f] is None for f in sample.LABEL_FIELDS) and record["from_production"] is True


def test_sample_is_stratified(sessions_db, tmp_path):
    con = db.connect(sessions_db, read_only=True)
    n = 60
    frame, strata = sample.draw(con, n, seed=7)
    population = sum(s["population"] for s in strata.values())
    assert frame.height == n and sum(s["sampled"] for s in strata.values()) == n
    for name, s in strata.items():
        assert s["sampled"] >= 1, name  # every stratum is represented
        assert abs(s["sampled"] - n * s["population"] / population) <= 2, name  # then proportional
    assert set(frame["stratum"]) == set(strata)
    top, _ = sample.draw(con, n, seed=7, top_workflows=1)
    busiest = db.frame(con, "SELECT workflow FROM sessions GROUP BY workflow ORDER BY count(*) DESC, workflow LIMIT 1")[
        "workflow"
    ][0]
    assert set(top["workflow"]) == {busiest}
    con.close()


def test_sample_masks_personal_data(sessions_db, tmp_path):
    out = tmp_path / "all.jsonl"
    assert cli.main(["sample-evals", "--db", str(sessions_db), "--out", str(out), "--n", "1000"]) == 0
    text = out.read_text()
    assert "sess-leak" in text and "zed.lee@example-mail.com" not in text and "z***@e***.com" in text


# ------------------------------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def eval_truth(demo) -> dict:
    return json.loads((demo["out"] / "data" / "evals_truth.json").read_text())


def _section2(audit: dict) -> dict:
    return {it["id"]: it for s in audit["sections"] if s["id"] == 2 for it in s["items"]}


def test_demo_eval_ingest_matches_truth(demo, eval_truth):
    con = db.connect(demo["db"], read_only=True)
    ledger = db.frame(con, "SELECT * FROM sources WHERE format = 'evals'").row(0, named=True)
    assert (ledger["rows_read"], ledger["rows_loaded"], ledger["rows_duplicate"], ledger["rows_quarantined"]) == (
        eval_truth["rows_read"],
        eval_truth["rows_loaded"],
        eval_truth["rows_duplicate"],
        eval_truth["rows_quarantined"],
    )
    assert ledger["sha256"] == eval_truth["sha256"]
    reasons = sorted(
        r[0] for r in con.execute("SELECT reason FROM quarantine WHERE source_id = ?", [ledger["source_id"]]).fetchall()
    )
    assert reasons == eval_truth["quarantine_reasons"]
    con.close()


def test_demo_section_2_has_data_and_finds_the_injected_defects(demo, eval_truth):
    items, ev = _section2(demo["audit"]), demo["audit"]["metrics"]["evals"]
    assert all(it["status"] != "NO_DATA" for it in items.values())
    assert (ev["cases"], ev["production_cases"], ev["rubric_items"]) == (
        eval_truth["cases"],
        eval_truth["production_cases"],
        eval_truth["rubric_items"],
    )
    gate_doc = ev["gate"]
    assert (gate_doc["baseline"], gate_doc["candidate"]) == (eval_truth["baseline"], eval_truth["candidate"])
    by = {c["metric"]: c for c in gate_doc["comparisons"]}
    for item in eval_truth["rubric_items"]:
        for side in ("baseline", "candidate"):
            passes = eval_truth["passes"][gate_doc[side]][item]
            assert by[item][side] == pytest.approx(passes / eval_truth["cases"])
        if eval_truth["changed_in_candidate"][item] == 0:
            assert by[item]["decision"] == "PASS", item
    assert by[eval_truth["regressed_item"]]["decision"] == "FAIL"
    for gate_item in ("eval.regression-gate", "eval.release-gate"):
        it = items[gate_item]
        assert it["status"] == "FAIL" and eval_truth["regressed_item"] in it["at_fault"]
        assert it["evidence"]["decision"] == "FAIL" and it["evidence"]["ci_low"] <= it["evidence"]["ci_high"]
    checks_ = {c["check"]: c for c in ev["automated_checks"]}
    assert checks_["pii_leakage"]["failed"] == len(eval_truth["pii_leak_cases"])
    assert items["eval.automated-checks"]["status"] == "FAIL"
    assert items["eval.automated-checks"]["at_fault"] == ["pii_leakage"]
    assert items["eval.every-release"]["status"] == "PASS"


def test_demo_calibration_matches_truth(demo, eval_truth):
    cal = demo["audit"]["metrics"]["evals"]["calibration"]
    confusion = eval_truth["confusion"]
    assert cal["cases"] == eval_truth["human_labelled_cases"]
    per_item = {s["scope"]: s for s in cal["per_item"]}
    total = disagree = 0
    for item, cells in confusion.items():
        table = {tuple(k.split("/")): v for k, v in cells.items()}
        off = sum(v for (j, h), v in table.items() if j != h)
        assert per_item[item]["disagreements"] == off
        assert per_item[item]["kappa"] == pytest.approx(calibration.cohen_kappa(table))
        total, disagree = total + sum(table.values()), disagree + off
    assert cal["overall"]["disagreement"] == pytest.approx(disagree / total)
    item = _section2(demo["audit"])["eval.judge-calibration"]
    worse = sorted(
        i
        for i, c in confusion.items()
        if sum(v for k, v in c.items() if k.split("/")[0] != k.split("/")[1]) / sum(c.values()) > 0.10
    )
    expected = "FAIL" if disagree / total > 0.10 else "WARN" if worse else "PASS"
    assert item["status"] == expected and sorted(item["at_fault"]) == worse
    assert all("@example-mail.com" not in json.dumps(d) for d in cal["disagreements"])


def test_eval_results_alone_are_audited(tmp_path):
    """A database of eval results and no spans is audited (section 2 reads them), not refused as empty."""
    path = _write_jsonl(tmp_path / "r.jsonl", _rows(5))
    database, out = tmp_path / "e.duckdb", tmp_path / "out"
    assert cli.main(["ingest", str(path), "--db", str(database)]) == 0
    assert cli.main(["audit", "--db", str(database), "--out", str(out)]) in (0, 3, 4, 5)
    doc = json.loads((out / "audit.json").read_text())
    judged = {i["id"]: i["status"] for s in doc["sections"] for i in s["items"]}
    assert judged["eval.rubric"] in ("PASS", "FAIL")
