"""Evaluators of section 2 (evaluation suite), read from the ``eval_results`` view.

Every evaluator is NO_DATA when there are no eval results. The suite checks look at the latest release
with results (metric ``eval_suite``'s order); the regression gate compares the latest release with the
one before it (``evals.compare``); judge calibration reads every release. A regression gate that cannot
decide (INCONCLUSIVE) is NO_DATA with the sample size it needs, never a pass.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from agentops_audit.catalog import Item
from agentops_audit.evals import calibration, checks, compare, gate
from agentops_audit.evaluators.base import AuditContext, check, judge, threshold_of
from agentops_audit.results import FAIL, NO_DATA, PASS, WARN, ItemResult

MAX_CASES = 1000        # 000: 200-1,000 examples; a larger set is a warning (cost, run time), not a failure
MAX_RUBRIC_ITEMS = 10   # 002: 5-10 rubric items; more is a warning
CONFIDENCE = 0.95
GATE_ITEM, CALIBRATION_ITEM = "eval.regression-gate", "eval.judge-calibration"  # whose thresholds metrics.evals uses
LABELS = ("correct_action", "correct_policy", "correct_tool_use")
CHECK_WORDS = {"pii_leakage": "personal-data leak", "json_schema_valid": "JSON schema", "citation_present": "citation",
               "policy_violation": "policy violation"}
NO_EVALS = ("no evaluation results: ingest them with `agentops-audit ingest --format evals`, or export "
            "gen_ai.evaluation.result span events")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}" if x < 0 or x > 0 else "0.0%"


def _latest(ctx: AuditContext) -> dict | None:
    suite = ctx.metric("eval_suite")
    return None if suite.is_empty() else suite.row(-1, named=True)


def _cached(ctx: AuditContext, key: str, build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """A frame computed once per audit (kept with the metric frames)."""
    if key not in ctx._frames:
        ctx._frames[key] = build()
    return ctx._frames[key]


def gate_frame(ctx: AuditContext, threshold: float) -> pl.DataFrame | None:
    """The gate's comparisons (latest release vs the one before) as a frame; None with fewer than two."""
    releases = ctx.metric("eval_suite")["release"].to_list()
    if len(releases) < 2:
        return None
    baseline, candidate = releases[-2], releases[-1]

    def build() -> pl.DataFrame:
        result = compare.run_gate(ctx.con, baseline, candidate, threshold, CONFIDENCE)
        rows = [{"baseline_release": baseline, "candidate_release": candidate, **c.to_dict()}
                for c in result.comparisons]
        return pl.DataFrame(rows, infer_schema_length=None)
    return _cached(ctx, f"evals:gate:{baseline}:{candidate}:{threshold}", build)


def gate_document(df: pl.DataFrame, threshold: float) -> dict:
    """The gate result as audit.json carries it (``GateResult.to_dict`` plus the method)."""
    comparisons = df.drop("baseline_release", "candidate_release").to_dicts()
    first = df.row(0, named=True)
    return {"baseline": first["baseline_release"], "candidate": first["candidate_release"], "threshold": threshold,
            "confidence": first["confidence"], "decision": gate.decide(df["decision"].to_list()),
            "power": gate.POWER, "method": _METHOD, "comparisons": comparisons}


_METHOD = ("Newcombe hybrid score interval (paired when the releases share the cases, else independent) for "
           "pass/fail results; normal interval on paired differences, or Welch, for 0..1 scores; "
           "deterministic, no resampling")


def _output_checks(ctx: AuditContext, release: str) -> pl.DataFrame:
    return _cached(ctx, f"evals:output_checks:{release}",
                   lambda: checks.output_checks(ctx.con, release, ctx.config.get("pii_patterns")))


# ------------------------------------------------------------------------------------------ evaluators


@check("eval_set_size")
def eval_set_size(ctx: AuditContext, item: Item) -> ItemResult:
    row = _latest(ctx)
    if row is None:
        return ItemResult(item.id, NO_DATA, reason=NO_EVALS)
    result = judge(
        ctx, item, pl.DataFrame({"production_cases": [row["production_cases"]]}),
        value=row["production_cases"],
        display=f"{row['production_cases']} of {row['cases']} cases sampled from production (release "
                f"{row['release']})",
        evidence={"query": "eval_suite", "release": row["release"], "cases": row["cases"],
                  "production_cases": row["production_cases"], "max_cases": MAX_CASES})
    if result.status == PASS and row["cases"] > MAX_CASES:
        result.status = WARN
        result.reason = f"{row['cases']} cases: above the checklists' 200-1,000 range (slower, costlier runs)"
    return result


@check("eval_labels")
def eval_labels(ctx: AuditContext, item: Item) -> ItemResult:
    row = _latest(ctx)
    if row is None:
        return ItemResult(item.id, NO_DATA, reason=NO_EVALS)
    cases = row["cases"]
    table = pl.DataFrame({"label": list(LABELS),
                          "labelled": [row["labelled_action"], row["labelled_policy"], row["labelled_tool_use"]]}
                         ).with_columns(cases=pl.lit(cases), coverage=pl.col("labelled") / cases)
    threshold = threshold_of(ctx, item)
    short = [r["label"] for r in table.iter_rows(named=True) if not threshold.holds(r["coverage"])]
    worst = table.sort("coverage").row(0, named=True)
    display = (f"{row['labelled_all']} of {cases} cases labelled for action, policy and tool use"
               + (f"; {worst['label']} on {worst['coverage']:.1%}" if short else ""))
    return judge(ctx, item, table, value=row["labelled_all"] / cases, display=display,
                 evidence={"query": "eval_suite", "release": row["release"], "cases": cases,
                           **{r["label"]: r["labelled"] for r in table.iter_rows(named=True)}},
                 at_fault=short)


@check("eval_rubric")
def eval_rubric(ctx: AuditContext, item: Item) -> ItemResult:
    row = _latest(ctx)
    if row is None:
        return ItemResult(item.id, NO_DATA, reason=NO_EVALS)
    n, names = row["rubric_items"], list(row["rubric"])
    result = judge(ctx, item, pl.DataFrame({"rubric_items": [n]}), value=n,
                   display=f"{n} rubric items: {', '.join(words(x) for x in names)}",
                   evidence={"query": "eval_suite", "release": row["release"], "rubric": names,
                             "max_items": MAX_RUBRIC_ITEMS})
    if result.status == PASS and n > MAX_RUBRIC_ITEMS:
        result.status = WARN
        result.reason = f"{n} rubric items: more than the 5-10 the checklist asks for dilutes the grade"
    return result


@check("eval_automated_checks")
def eval_automated_checks(ctx: AuditContext, item: Item) -> ItemResult:
    row = _latest(ctx)
    if row is None:
        return ItemResult(item.id, NO_DATA, reason=NO_EVALS)
    df = _output_checks(ctx, row["release"])
    ran = df.filter(pl.col("applicable") > 0)
    not_run = df.filter(pl.col("applicable") == 0)["check"].to_list()
    evidence = {"query": "eval_output_checks", "release": row["release"], "checks": df.to_dicts(),
                "not_run": not_run}
    if ran.is_empty():
        return ItemResult(item.id, NO_DATA, evidence=evidence,
                          reason="nothing to check: the eval rows carry no output_text, citation_required "
                                 "or policy_violation")
    failing = ran.filter(pl.col("failed") > 0)
    parts = [f"the {CHECK_WORDS.get(r['check'], words(r['check']))} check failed on {r['failed']} of "
             f"{r['applicable']} cases" for r in failing.iter_rows(named=True)]
    passing = ran.height - failing.height
    display = "; ".join(parts) + (f"; {passing} other check{'s' if passing != 1 else ''} pass" if parts and passing
                                  else "") if parts \
        else f"{ran.height} of {len(checks.CHECKS)} checks ran and pass on release {row['release']}"
    result = judge(ctx, item, ran.select("check", "failure_rate"),
                   value=float(failing["failed"].sum()) if failing.height else 0.0, display=display,
                   evidence=evidence, at_fault=failing["check"].to_list())
    if result.status == PASS and not_run:
        result.status = WARN
        result.reason = f"not run (no applicable case): {', '.join(not_run)}"
    return result


@check("regression_gate", metrics=("eval_suite",))
def regression_gate(ctx: AuditContext, item: Item) -> ItemResult:
    releases = ctx.metric("eval_suite")["release"].to_list()
    if not releases:
        return ItemResult(item.id, NO_DATA, reason=NO_EVALS)
    threshold = threshold_of(ctx, item).value
    df = gate_frame(ctx, threshold)
    if df is None:
        return ItemResult(item.id, NO_DATA, reason=f"eval results for one release only ({releases[0]}): the gate "
                                                   "needs a baseline and a candidate")
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
    tail = (f"; not measured: {', '.join(words(c['metric']) for c in unmeasured)} (decided on the {measured} "
            "measured comparisons)" if unmeasured else "")
    evidence = {"query": "regression_gate", **{k: v for k, v in doc.items() if k != "comparisons"},
                "ci_low": overall and overall["ci_low"], "ci_high": overall and overall["ci_high"],
                "difference": overall and overall["difference"], "comparisons": doc["comparisons"]}
    common = {"value": overall["difference"] if overall else None, "evidence": evidence,
              "expectations": [o.to_dict() for o in outcomes]}
    evidence["not_measured"] = [c["metric"] for c in unmeasured]
    if doc["decision"] == gate.FAIL:
        also = f" (inconclusive: {', '.join(words(c['metric']) for c in unsure)})" if unsure else ""
        return ItemResult(item.id, FAIL, display=f"{head}: FAIL, " + "; ".join(describe(c) for c in failing)
                          + also + tail,
                          reason="the interval shows a drop larger than allowed, or a rise in unsafe-write attempts",
                          at_fault=[c["metric"] for c in failing], **common)
    if doc["decision"] == gate.INCONCLUSIVE:
        return ItemResult(item.id, NO_DATA, display=f"{head}: INCONCLUSIVE, " + "; ".join(describe(c) for c in unsure)
                          + tail,
                          reason="inconclusive: the sample cannot tell the change from noise; "
                                 + "; ".join(describe(c) for c in unsure),
                          at_fault=[c["metric"] for c in unsure], **common)
    return ItemResult(item.id, PASS, display=f"{head}: PASS on {measured} comparisons{tail}", **common)


def words(metric: str) -> str:
    """A rubric item or gate metric in plain words: ``no_invented_facts`` -> ``no invented facts``."""
    return "unsafe-write attempts" if metric == compare.UNSAFE else str(metric).replace("_", " ")


@check("judge_calibration")
def judge_calibration(ctx: AuditContext, item: Item) -> ItemResult:
    if _latest(ctx) is None:
        return ItemResult(item.id, NO_DATA, reason=NO_EVALS)
    threshold = threshold_of(ctx, item)
    cal = calibration.calibrate(ctx.con, threshold.value)
    evidence = {"query": "judge_calibration", **cal}
    if cal["status"] == "NO_DATA":
        return ItemResult(item.id, NO_DATA, evidence=evidence,
                          reason=f"only {cal['cases']} cases carry both a judge and a human label; "
                                 f"{calibration.MIN_CASES} are needed")
    overall = cal["overall"]
    worse = [s["scope"] for s in cal["per_item"] if s["exceeds"]]
    kappa = "undefined" if overall["kappa"] is None else f"{overall['kappa']:.2f}"
    display = (f"judge and people disagree on {overall['disagreement']:.1%} of {overall['rows']} rows "
               f"({cal['cases']} cases), Cohen's kappa {kappa}"
               + (f"; above {threshold.value:.0%} on {', '.join(words(w) for w in worse)}" if worse else ""))
    result = judge(ctx, item, pl.DataFrame({"disagreement": [overall["disagreement"]]}),
                   value=overall["disagreement"], display=display, evidence=evidence, at_fault=worse)
    if result.status == PASS and worse:
        result.status = WARN
        result.reason = (f"the judge disagrees with people on more than {threshold.value:.0%} of the rows of "
                         f"{', '.join(words(w) for w in worse)}: tighten those rubric items or add human review")
    return result


@check("eval_every_release", metrics=("eval_releases", "eval_suite"))
def eval_every_release(ctx: AuditContext, item: Item) -> ItemResult:
    if _latest(ctx) is None:
        return ItemResult(item.id, NO_DATA, reason=NO_EVALS)
    rel = ctx.metric("eval_releases")
    traced = rel.filter(pl.col("in_traces"))
    if traced.is_empty():
        return ItemResult(item.id, NO_DATA, reason="no release versions (service.version) on the traced spans")
    missing = traced.filter(~pl.col("has_eval_run"))["release"].to_list()
    ratio = 1 - len(missing) / traced.height
    rubrics = {tuple(r) for r in ctx.metric("eval_suite")["rubric"].to_list()}
    result = judge(ctx, item, pl.DataFrame({"releases_with_eval_run": [ratio]}),
                   value=ratio,
                   display=f"{traced.height - len(missing)} of {traced.height} traced releases have an eval run"
                           + (f"; missing: {', '.join(missing)}" if missing else ""),
                   evidence={"query": "eval_releases", "releases": rel.to_dicts(), "same_rubric": len(rubrics) == 1},
                   at_fault=missing)
    if result.status == PASS and len(rubrics) > 1:
        result.status = WARN
        result.reason = "the rubric items differ between releases: the suite is not stable"
    return result


def summary(ctx: AuditContext) -> dict:
    """``metrics.evals`` of audit.json: size, releases and rubric of the eval set, the regression gate of
    the latest release (at item eval.regression-gate's threshold), judge calibration and output checks."""
    suite = ctx.metric("eval_suite")
    latest = _latest(ctx)
    if latest is None:
        return {"cases": 0, "production_cases": 0, "releases": [], "rubric_items": [], "gate": None,
                "calibration": None, "automated_checks": None}
    gate_threshold = threshold_of(ctx, ctx.catalog.item(GATE_ITEM)).value
    gate_df = gate_frame(ctx, gate_threshold)
    cal_threshold = threshold_of(ctx, ctx.catalog.item(CALIBRATION_ITEM)).value
    releases = [{**r, "first_seen": None if r["first_seen"] is None else r["first_seen"].isoformat(),
                 "rubric": list(r["rubric"])} for r in suite.iter_rows(named=True)]
    return {
        "cases": latest["cases"], "production_cases": latest["production_cases"], "latest_release": latest["release"],
        "releases": releases, "rubric_items": list(latest["rubric"]),
        "gate": gate_document(gate_df, gate_threshold) if gate_df is not None else None,
        "calibration": calibration.calibrate(ctx.con, cal_threshold),
        "automated_checks": _output_checks(ctx, latest["release"]).to_dicts(),
    }
