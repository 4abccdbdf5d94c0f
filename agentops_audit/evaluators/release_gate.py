"""Evaluators of section 2 (evaluation suite) across releases, read from the ``eval_results`` view: the
regression gate compares the latest release with the one before it (``evals.compare``), judge calibration
reads every release, and every traced release needs an eval run. ``summary`` is ``metrics.evals`` of
audit.json. A regression gate that cannot decide (INCONCLUSIVE) is NO_DATA with the sample size it needs,
never a pass; no eval results at all is NO_DATA too.
"""

from __future__ import annotations

import polars as pl

from agentops_audit.catalog import Item
from agentops_audit.evals import calibration, compare, gate
from agentops_audit.evaluators.base import AuditContext, check, judge, threshold_of
from agentops_audit.evaluators.eval_suite import NO_EVALS, cached, latest, on_latest, output_checks, warn_if, words
from agentops_audit.results import FAIL, NO_DATA, PASS, ItemResult

CONFIDENCE = 0.95
GATE_ITEM, CALIBRATION_ITEM = "eval.regression-gate", "eval.judge-calibration"  # whose thresholds metrics.evals uses


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}" if x < 0 or x > 0 else "0.0%"


def gate_frame(ctx: AuditContext, threshold: float) -> pl.DataFrame | None:
    """The gate's comparisons (latest release vs the one before) as a frame; None with fewer than two."""
    releases = ctx.metric("eval_suite")["release"].to_list()
    if len(releases) < 2:
        return None
    baseline, candidate = releases[-2], releases[-1]

    def build() -> pl.DataFrame:
        result = compare.run_gate(ctx.con, baseline, candidate, threshold, CONFIDENCE)
        rows = [
            {"baseline_release": baseline, "candidate_release": candidate, **c.to_dict()} for c in result.comparisons
        ]
        return pl.DataFrame(rows, infer_schema_length=None)

    return cached(ctx, f"evals:gate:{baseline}:{candidate}:{threshold}", build)


def gate_document(df: pl.DataFrame, threshold: float) -> dict:
    """The gate result as audit.json carries it (``GateResult.to_dict`` plus the method)."""
    comparisons = df.drop("baseline_release", "candidate_release").to_dicts()
    first = df.row(0, named=True)
    return {
        "baseline": first["baseline_release"],
        "candidate": first["candidate_release"],
        "threshold": threshold,
        "confidence": first["confidence"],
        "decision": gate.decide(df["decision"].to_list()),
        "power": gate.POWER,
        "method": _METHOD,
        "comparisons": comparisons,
    }


_METHOD = (
    "Newcombe hybrid score interval (paired when the releases share the cases, else independent) for "
    "pass/fail results; normal interval on paired differences, or Welch, for 0..1 scores; "
    "deterministic, no resampling"
)


# ------------------------------------------------------------------------------------------ evaluators


@check("regression_gate", metrics=("eval_suite",))
def regression_gate(ctx: AuditContext, item: Item) -> ItemResult:
    releases = ctx.metric("eval_suite")["release"].to_list()
    if not releases:
        return ItemResult(item.id, NO_DATA, reason=NO_EVALS)
    threshold = threshold_of(ctx, item).value
    df = gate_frame(ctx, threshold)
    if df is None:
        return ItemResult(
            item.id,
            NO_DATA,
            reason=f"eval results for one release only ({releases[0]}): the gate needs a baseline and a candidate",
        )
    doc = gate_document(df, threshold)
    outcomes = ctx.validator.validate("regression_gate", df.select("metric", "decision"), item.threshold)
    overall = next((c for c in doc["comparisons"] if c["metric"] == compare.OVERALL), None)
    failing = [c for c in doc["comparisons"] if c["decision"] == gate.FAIL]
    unsure = [c for c in doc["comparisons"] if c["decision"] == gate.INCONCLUSIVE]
    unmeasured = [c for c in doc["comparisons"] if c["decision"] == gate.NOT_MEASURED]
    measured = len(doc["comparisons"]) - len(unmeasured)

    def describe(c: dict) -> str:
        if c["difference"] is None:
            return f"{words(c['metric'])}: {c['note']}"
        text = f"{words(c['metric'])} {_pct(c['difference'])} ({_pct(c['ci_low'])} to {_pct(c['ci_high'])})"
        return text + (f", needs {c['n_needed']:,} cases per release" if c.get("n_needed") else "")

    head = f"{doc['candidate']} against {doc['baseline']} ({CONFIDENCE:.0%} interval, drop allowed {threshold:.1%})"
    tail = (
        f"; not measured: {', '.join(words(c['metric']) for c in unmeasured)} (decided on the {measured} "
        "measured comparisons)"
        if unmeasured
        else ""
    )
    evidence = {
        "query": "regression_gate",
        **{k: v for k, v in doc.items() if k != "comparisons"},
        "ci_low": overall and overall["ci_low"],
        "ci_high": overall and overall["ci_high"],
        "difference": overall and overall["difference"],
        "comparisons": doc["comparisons"],
    }
    common = {
        "value": overall["difference"] if overall else None,
        "evidence": evidence,
        "expectations": [o.to_dict() for o in outcomes],
    }
    evidence["not_measured"] = [c["metric"] for c in unmeasured]
    if doc["decision"] == gate.FAIL:
        also = f" (inconclusive: {', '.join(words(c['metric']) for c in unsure)})" if unsure else ""
        return ItemResult(
            item.id,
            FAIL,
            display=f"{head}: FAIL, " + "; ".join(describe(c) for c in failing) + also + tail,
            reason="the interval shows a drop larger than allowed, or a rise in unsafe-write attempts",
            at_fault=[c["metric"] for c in failing],
            **common,
        )
    if doc["decision"] == gate.INCONCLUSIVE:
        return ItemResult(
            item.id,
            NO_DATA,
            display=f"{head}: INCONCLUSIVE, " + "; ".join(describe(c) for c in unsure) + tail,
            reason="inconclusive: the sample cannot tell the change from noise; "
            + "; ".join(describe(c) for c in unsure),
            at_fault=[c["metric"] for c in unsure],
            **common,
        )
    return ItemResult(item.id, PASS, display=f"{head}: PASS on {measured} comparisons{tail}", **common)


@on_latest("judge_calibration")
def judge_calibration(ctx: AuditContext, item: Item, _row: dict) -> ItemResult:
    threshold = threshold_of(ctx, item)
    cal = calibration.calibrate(ctx.con, threshold.value)
    evidence = {"query": "judge_calibration", **cal}
    if cal["status"] == "NO_DATA":
        return ItemResult(
            item.id,
            NO_DATA,
            evidence=evidence,
            reason=f"only {cal['cases']} cases carry both a judge and a human label; "
            f"{calibration.MIN_CASES} are needed",
        )
    overall = cal["overall"]
    worse = [s["scope"] for s in cal["per_item"] if s["exceeds"]]
    kappa = "undefined" if overall["kappa"] is None else f"{overall['kappa']:.2f}"
    display = (
        f"judge and people disagree on {overall['disagreement']:.1%} of {overall['rows']} rows "
        f"({cal['cases']} cases), Cohen's kappa {kappa}"
        + (f"; above {threshold.value:.0%} on {', '.join(words(w) for w in worse)}" if worse else "")
    )
    result = judge(
        ctx,
        item,
        pl.DataFrame({"disagreement": [overall["disagreement"]]}),
        value=overall["disagreement"],
        display=display,
        evidence=evidence,
        at_fault=worse,
    )
    return warn_if(
        result,
        bool(worse),
        f"the judge disagrees with people on more than {threshold.value:.0%} of the "
        f"rows of {', '.join(words(w) for w in worse)}: tighten those rubric items "
        "or add human review",
    )


@on_latest("eval_every_release", metrics=("eval_releases", "eval_suite"))
def eval_every_release(ctx: AuditContext, item: Item, _row: dict) -> ItemResult:
    rel = ctx.metric("eval_releases")
    traced = rel.filter(pl.col("in_traces"))
    if traced.is_empty():
        return ItemResult(item.id, NO_DATA, reason="no release versions (service.version) on the traced spans")
    missing = traced.filter(~pl.col("has_eval_run"))["release"].to_list()
    ratio = 1 - len(missing) / traced.height
    rubrics = {tuple(r) for r in ctx.metric("eval_suite")["rubric"].to_list()}
    result = judge(
        ctx,
        item,
        pl.DataFrame({"releases_with_eval_run": [ratio]}),
        value=ratio,
        display=f"{traced.height - len(missing)} of {traced.height} traced releases have an eval run"
        + (f"; missing: {', '.join(missing)}" if missing else ""),
        evidence={"query": "eval_releases", "releases": rel.to_dicts(), "same_rubric": len(rubrics) == 1},
        at_fault=missing,
    )
    return warn_if(result, len(rubrics) > 1, "the rubric items differ between releases: the suite is not stable")


def summary(ctx: AuditContext) -> dict:
    """``metrics.evals`` of audit.json: size, releases and rubric of the eval set, the regression gate of
    the latest release (at item eval.regression-gate's threshold), judge calibration and output checks."""
    suite = ctx.metric("eval_suite")
    newest = latest(ctx)
    if newest is None:
        return {
            "cases": 0,
            "production_cases": 0,
            "releases": [],
            "rubric_items": [],
            "gate": None,
            "calibration": None,
            "automated_checks": None,
        }
    gate_threshold = threshold_of(ctx, ctx.catalog.item(GATE_ITEM)).value
    gate_df = gate_frame(ctx, gate_threshold)
    cal_threshold = threshold_of(ctx, ctx.catalog.item(CALIBRATION_ITEM)).value
    releases = [
        {
            **r,
            "first_seen": None if r["first_seen"] is None else r["first_seen"].isoformat(),
            "rubric": list(r["rubric"]),
        }
        for r in suite.iter_rows(named=True)
    ]
    return {
        "cases": newest["cases"],
        "production_cases": newest["production_cases"],
        "latest_release": newest["release"],
        "releases": releases,
        "rubric_items": list(newest["rubric"]),
        "gate": gate_document(gate_df, gate_threshold) if gate_df is not None else None,
        "calibration": calibration.calibrate(ctx.con, cal_threshold),
        "automated_checks": output_checks(ctx, newest["release"]).to_dicts(),
    }
