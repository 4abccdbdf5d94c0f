"""The regression gate: interval methods, decisions, the sample size an inconclusive comparison needs, and
the `gate` command's exit codes on synthetic eval sets with a known regression, a known non-regression and
an underpowered comparison (real DuckDB, real CLI)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from agentops_audit import cli, db
from agentops_audit.evals import compare, gate

Z95 = gate.z_value(0.95)


# --------------------------------------------------------------------------------- pure statistics


def test_wilson_and_newcombe_independent_match_the_published_example():
    # Newcombe (1998, Stat Med 17:873), example (a): 56/70 vs 48/80, difference 0.2000,
    # method 10 (hybrid score) 95% interval 0.0524 to 0.3339.
    low, high = gate.IndependentCounts(base_pass=48, base_n=80, cand_pass=56, cand_n=70).interval(Z95)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
    assert abs(Z95 - 1.959964) < 1e-6


def test_paired_interval_uses_the_pairing():
    # The same marginal rates, once with identical outcomes per case and once as unrelated samples:
    # pairing removes the case-to-case variation, so the paired interval is much narrower.
    paired = gate.PairedCounts(both=900, base_only=0, cand_only=0, neither=100)
    independent = gate.IndependentCounts(900, 1000, 900, 1000)
    p_low, p_high = paired.interval(Z95)
    i_low, i_high = independent.interval(Z95)
    assert p_low < 0 < p_high and i_low < 0 < i_high
    assert p_high - p_low < (i_high - i_low) / 3


def test_interval_contains_the_estimate_and_stays_in_bounds():
    rng = random.Random(3)
    for _ in range(200):
        counts = [rng.randint(0, 40) for _ in range(4)]
        if not sum(counts):
            continue
        s = gate.PairedCounts(*counts)
        low, high = s.interval(Z95)
        d = s.candidate - s.baseline
        assert -1 <= low <= d <= high <= 1


def test_known_regression_fails():
    # 400 paired cases, 60 of the baseline's passes lost: a 15-point drop
    s = gate.PairedCounts(both=300, base_only=60, cand_only=0, neither=40)
    c = gate.compare("accuracy", s, threshold=0.01)
    assert c.decision == gate.FAIL and c.ci_high < -0.01 and c.n_needed is None
    assert c.difference == pytest.approx(-0.15)


def test_known_non_regression_passes():
    # 1,000 paired cases with identical outcomes: the interval excludes a drop of more than 1%
    c = gate.compare("accuracy", gate.PairedCounts(950, 0, 0, 50), threshold=0.01)
    assert c.decision == gate.PASS and c.ci_low >= -0.01


def test_underpowered_comparison_is_inconclusive_with_the_sample_size_needed():
    # 40 cases, one more failure in the candidate: a 2.5-point drop the sample cannot tell from noise
    s = gate.PairedCounts(both=35, base_only=1, cand_only=0, neither=4)
    c = gate.compare("accuracy", s, threshold=0.01)
    assert c.decision == gate.INCONCLUSIVE and c.ci_low < -0.01 < c.ci_high
    assert c.n_needed > 40
    # at the size it names, with the observed rates, the interval clears the boundary (with room for power)
    bigger = s.scaled(c.n_needed / s.n)
    assert bigger.interval(Z95)[1] < -0.01


def test_unsafe_writes_tolerate_no_rise():
    rise = gate.compare("unsafe", gate.IndependentCounts(0, 500, 40, 500), 0.01, kind=gate.SAFETY)
    same = gate.compare("unsafe", gate.PairedCounts(2, 0, 0, 498), 0.01, kind=gate.SAFETY)
    small = gate.compare("unsafe", gate.IndependentCounts(1, 300, 3, 300), 0.01, kind=gate.SAFETY)
    assert (rise.decision, same.decision, small.decision) == (gate.FAIL, gate.PASS, gate.INCONCLUSIVE)
    assert rise.threshold == 0.0 and small.n_needed > 300


def test_scores_need_thirty_cases_and_use_a_normal_interval():
    few = gate.compare("helpfulness", gate.PairedScores(20, 0.0, 0.0, 0.8, 0.8), 0.01)
    assert few.decision == gate.INCONCLUSIVE and few.n_needed == gate.MIN_SCORE_CASES and "fewer than" in few.note
    many = gate.compare("helpfulness", gate.PairedScores(400, -0.05, 0.1, 0.8, 0.75), 0.01)
    assert many.decision == gate.FAIL and many.method == "normal_paired"
    half = Z95 * 0.1 / 20
    assert (many.ci_low, many.ci_high) == pytest.approx((-0.05 - half, -0.05 + half))
    welch = gate.compare("helpfulness", gate.IndependentScores(2000, 0.8, 0.1, 2000, 0.8, 0.1), 0.01)
    assert welch.decision == gate.PASS and welch.method == "welch_normal"


def test_gate_decision_is_the_worst_comparison():
    P, F, I = gate.PASS, gate.FAIL, gate.INCONCLUSIVE  # noqa: E741
    assert gate.decide([P, P]) == P
    assert gate.decide([P, I]) == I
    assert gate.decide([I, F, P]) == F
    assert gate.decide([]) == I


# ------------------------------------------------------------------------ synthetic sets, CLI exit codes


def _eval_set(
    path: Path, cases: int, rates: dict[str, float], lose: dict[str, float], seed: int, unsafe: tuple[int, int] = (1, 1)
) -> dict:
    """Write baseline 'r1' and candidate 'r2' results for ``cases`` cases; the candidate loses a share
    ``lose[item]`` of the baseline's passes on each item. Returns the tally of passes per release and item."""
    rng = random.Random(seed)
    tally = {"r1": {}, "r2": {}}
    lines = []
    for item, rate in rates.items():
        for c in range(cases):
            base = rng.random() < rate
            cand = base and not (rng.random() < lose.get(item, 0.0))
            for release, passed in (("r1", base), ("r2", cand)):
                tally[release][item] = tally[release].get(item, 0) + passed
                lines.append(
                    {
                        "case_id": f"c{c}",
                        "release": release,
                        "rubric_item": item,
                        "pass": passed,
                        "unsafe_write_attempt": c < unsafe[0 if release == "r1" else 1],
                    }
                )
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    return tally


def _gate(tmp_path: Path, name: str, **kwargs) -> tuple[int, dict, dict]:
    data = tmp_path / f"{name}.jsonl"
    tally = _eval_set(data, **kwargs)
    database = tmp_path / f"{name}.duckdb"
    assert cli.main(["ingest", str(data), "--db", str(database)]) == 0
    out = tmp_path / f"{name}.gate.json"
    code = cli.main(["gate", "--db", str(database), "--baseline", "r1", "--candidate", "r2", "--json", str(out)])
    return code, json.loads(out.read_text()), tally


def test_cli_known_regression_exits_4(tmp_path, capsys):
    code, result, tally = _gate(
        tmp_path, "regression", cases=300, rates={"accuracy": 0.9, "policy": 0.95}, lose={"accuracy": 0.15}, seed=1
    )
    by = {c["metric"]: c for c in result["comparisons"]}
    assert code == 4 and result["decision"] == "FAIL"
    assert by["accuracy"]["decision"] == "FAIL"
    assert by["accuracy"]["baseline"] == pytest.approx(tally["r1"]["accuracy"] / 300)
    assert by["accuracy"]["candidate"] == pytest.approx(tally["r2"]["accuracy"] / 300)
    assert by["accuracy"]["method"] == "newcombe_paired"
    assert "Decision: FAIL (exit 4)" in capsys.readouterr().out


def test_cli_known_non_regression_exits_0(tmp_path):
    code, result, tally = _gate(
        tmp_path, "steady", cases=1000, rates={"accuracy": 0.95, "policy": 0.97}, lose={}, seed=2
    )
    assert code == 0 and result["decision"] == "PASS"
    assert {c["decision"] for c in result["comparisons"]} == {"PASS"}
    assert tally["r1"] == tally["r2"]


def test_cli_underpowered_exits_5_with_the_sample_size_needed(tmp_path, capsys):
    code, result, _ = _gate(tmp_path, "small", cases=40, rates={"accuracy": 0.9}, lose={"accuracy": 0.05}, seed=5)
    assert code == 5 and result["decision"] == "INCONCLUSIVE"
    unsure = [c for c in result["comparisons"] if c["decision"] == "INCONCLUSIVE"]
    assert unsure and all(c["n_needed"] is None or c["n_needed"] > 40 for c in unsure)
    assert any(c["n_needed"] for c in unsure)
    assert "needs" in capsys.readouterr().out


def test_cli_unsafe_write_rise_fails_even_without_a_quality_drop(tmp_path):
    code, result, _ = _gate(tmp_path, "unsafe", cases=1000, rates={"accuracy": 0.95}, lose={}, seed=2, unsafe=(0, 60))
    by = {c["metric"]: c for c in result["comparisons"]}
    assert code == 4 and by[compare.UNSAFE]["decision"] == "FAIL" and by["accuracy"]["decision"] == "PASS"


def test_cli_threshold_is_configurable_and_recorded(tmp_path):
    data = tmp_path / "d.jsonl"
    _eval_set(data, cases=300, rates={"accuracy": 0.9}, lose={"accuracy": 0.15}, seed=1)
    database = tmp_path / "d.duckdb"
    assert cli.main(["ingest", str(data), "--db", str(database)]) == 0
    out = tmp_path / "g.json"
    assert (
        cli.main(
            [
                "gate",
                "--db",
                str(database),
                "--baseline",
                "r1",
                "--candidate",
                "r2",
                "--threshold",
                "0.5",
                "--confidence",
                "0.9",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert (result["threshold"], result["confidence"]) == (0.5, 0.9)


def test_cli_usage_errors_exit_2(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    _eval_set(data, cases=10, rates={"accuracy": 0.9}, lose={}, seed=1)
    database = tmp_path / "d.duckdb"
    assert cli.main(["ingest", str(data), "--db", str(database)]) == 0
    capsys.readouterr()
    base = ["gate", "--db", str(database), "--baseline", "r1"]
    assert cli.main([*base, "--candidate", "r9"]) == 2
    assert "r9" in capsys.readouterr().err
    assert cli.main([*base, "--candidate", "r2", "--threshold", "5"]) == 2
    assert cli.main([*base, "--candidate", "r1"]) == 2
    assert cli.main(["gate", "--db", str(tmp_path / "missing.duckdb"), "--baseline", "a", "--candidate", "b"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("agentops-audit: error:") == 3


def _no_unsafe_column(tmp_path: Path, name: str = "e") -> Path:
    """r1 at 92.5% and r2 at 98.2% on the same 600 cases, with no unsafe_write_attempt in the rows."""
    rng = random.Random(4)
    lines = []
    for c in range(600):
        base = c < 555  # 555 of 600 = 92.5%
        cand = base or c < 589  # 589 of 600 = 98.2%
        lines += [
            {"case_id": f"c{c}", "release": "r1", "rubric_item": "accuracy", "pass": base},
            {"case_id": f"c{c}", "release": "r2", "rubric_item": "accuracy", "pass": cand},
        ]
    rng.shuffle(lines)
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    database = tmp_path / f"{name}.duckdb"
    assert cli.main(["ingest", str(path), "--db", str(database)]) == 0
    return database


def test_gate_without_unsafe_data_decides_on_what_was_measured(tmp_path):
    database = _no_unsafe_column(tmp_path)
    con = db.connect(database, read_only=True)
    try:
        result = compare.run_gate(con, "r1", "r2")
        strict = compare.run_gate(con, "r1", "r2", strict=True)
    finally:
        con.close()
    by = {c.metric: c for c in result.comparisons}
    assert by["accuracy"].decision == gate.PASS and by["accuracy"].candidate == pytest.approx(589 / 600)
    assert by[compare.UNSAFE].decision == gate.NOT_MEASURED and "not measured" in by[compare.UNSAFE].note
    assert result.decision == gate.PASS and [c.metric for c in result.not_measured] == [compare.UNSAFE]
    assert result.to_dict()["not_measured"] == [compare.UNSAFE] and result.to_dict()["strict"] is False
    assert strict.decision == gate.INCONCLUSIVE  # --strict demands unsafe-write attempts


def test_cli_gate_says_what_was_not_measured_and_strict_demands_it(tmp_path, capsys):
    database = _no_unsafe_column(tmp_path)
    capsys.readouterr()
    base = ["gate", "--db", str(database), "--baseline", "r1", "--candidate", "r2"]
    assert cli.main(base) == 0
    out = capsys.readouterr().out
    assert "Not measured: unsafe-write attempts; the decision covers the 2 measured comparisons" in out
    assert "Decision: PASS (exit 0)" in out
    assert cli.main([*base, "--strict"]) == 5
    out = capsys.readouterr().out
    assert "--strict demands it, so the gate cannot pass" in out and "Decision: INCONCLUSIVE (exit 5)" in out


def test_decision_ignores_what_was_not_measured_unless_strict():
    P, I, N = gate.PASS, gate.INCONCLUSIVE, gate.NOT_MEASURED  # noqa: E741
    assert gate.decide([P, N]) == P and gate.decide([P, N], strict=True) == I
    assert gate.decide([N]) == I  # nothing measured is never a pass
    assert gate.decide([gate.FAIL, N], strict=True) == gate.FAIL
