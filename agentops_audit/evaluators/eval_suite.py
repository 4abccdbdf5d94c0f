"""Evaluators of section 2 (evaluation suite) that judge the eval set itself, read from the ``eval_results``
view: its size, its labels, its rubric and the automated output checks of the latest release with results
(metric ``eval_suite``'s order). The helpers here are shared with ``release_gate.py`` (the checks across
releases). Every evaluator is NO_DATA when there are no eval results, never a pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import polars as pl

from agentops_audit.catalog import Item
from agentops_audit.evals import checks, compare
from agentops_audit.evaluators.base import AuditContext, check, judge, threshold_of
from agentops_audit.results import NO_DATA, PASS, WARN, ItemResult

MAX_CASES = 1000  # 000: 200-1,000 examples; a larger set is a warning (cost, run time), not a failure
MAX_RUBRIC_ITEMS = 10  # 002: 5-10 rubric items; more is a warning
LABELS = ("correct_action", "correct_policy", "correct_tool_use")
CHECK_WORDS = {
    "pii_leakage": "personal-data leak",
    "json_schema_valid": "JSON schema",
    "citation_present": "citation",
    "policy_violation": "policy violation",
}
NO_EVALS = (
    "no evaluation results: ingest them with `agentops-audit ingest --format evals`, or export "
    "gen_ai.evaluation.result span events"
)


def latest(ctx: AuditContext) -> dict | None:
    suite = ctx.metric("eval_suite")
    return None if suite.is_empty() else suite.row(-1, named=True)


def cached(ctx: AuditContext, key: str, build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """A frame computed once per audit (kept with the metric frames)."""
    if key not in ctx._frames:
        ctx._frames[key] = build()
    return ctx._frames[key]


def output_checks(ctx: AuditContext, release: str) -> pl.DataFrame:
    return cached(
        ctx,
        f"evals:output_checks:{release}",
        lambda: checks.output_checks(ctx.con, release, ctx.config.get("pii_patterns")),
    )


def words(metric: str) -> str:
    """A rubric item or gate metric in plain words: ``no_invented_facts`` -> ``no invented facts``."""
    return "unsafe-write attempts" if metric == compare.UNSAFE else str(metric).replace("_", " ")


def on_latest(name: str, **declared) -> Callable:
    """``@check`` for a check that reads the eval results: the evaluator gets the latest release's row of
    metric ``eval_suite`` as ``row`` and is not called without eval results (the item is then NO_DATA with
    ``NO_EVALS``, never a pass)."""

    def register(fn: Callable[[AuditContext, Item, dict], ItemResult]) -> Callable:
        @functools.wraps(fn)
        def evaluator(ctx: AuditContext, item: Item) -> ItemResult:
            row = latest(ctx)
            if row is None:
                return ItemResult(item.id, NO_DATA, reason=NO_EVALS)
            return fn(ctx, item, row)

        return check(name, **declared)(evaluator)

    return register


def warn_if(result: ItemResult, condition: bool, reason: str) -> ItemResult:
    """A PASS that holds a caveat becomes WARN with ``reason``; any other result stays as it is."""
    if result.status == PASS and condition:
        result.status, result.reason = WARN, reason
    return result


@on_latest("eval_set_size")
def eval_set_size(ctx: AuditContext, item: Item, row: dict) -> ItemResult:
    result = judge(
        ctx,
        item,
        pl.DataFrame({"production_cases": [row["production_cases"]]}),
        value=row["production_cases"],
        display=f"{row['production_cases']} of {row['cases']} cases sampled from production (release {row['release']})",
        evidence={
            "query": "eval_suite",
            "release": row["release"],
            "cases": row["cases"],
            "production_cases": row["production_cases"],
            "max_cases": MAX_CASES,
        },
    )
    return warn_if(
        result,
        row["cases"] > MAX_CASES,
        f"{row['cases']} cases: above the checklists' 200-1,000 range (slower, costlier runs)",
    )


@on_latest("eval_labels")
def eval_labels(ctx: AuditContext, item: Item, row: dict) -> ItemResult:
    cases = row["cases"]
    table = pl.DataFrame(
        {"label": list(LABELS), "labelled": [row["labelled_action"], row["labelled_policy"], row["labelled_tool_use"]]}
    ).with_columns(cases=pl.lit(cases), coverage=pl.col("labelled") / cases)
    threshold = threshold_of(ctx, item)
    short = [r["label"] for r in table.iter_rows(named=True) if not threshold.holds(r["coverage"])]
    worst = table.sort("coverage").row(0, named=True)
    display = f"{row['labelled_all']} of {cases} cases labelled for action, policy and tool use" + (
        f"; {worst['label']} on {worst['coverage']:.1%}" if short else ""
    )
    return judge(
        ctx,
        item,
        table,
        value=row["labelled_all"] / cases,
        display=display,
        evidence={
            "query": "eval_suite",
            "release": row["release"],
            "cases": cases,
            **{r["label"]: r["labelled"] for r in table.iter_rows(named=True)},
        },
        at_fault=short,
    )


@on_latest("eval_rubric")
def eval_rubric(ctx: AuditContext, item: Item, row: dict) -> ItemResult:
    n, names = row["rubric_items"], list(row["rubric"])
    result = judge(
        ctx,
        item,
        pl.DataFrame({"rubric_items": [n]}),
        value=n,
        display=f"{n} rubric items: {', '.join(words(x) for x in names)}",
        evidence={"query": "eval_suite", "release": row["release"], "rubric": names, "max_items": MAX_RUBRIC_ITEMS},
    )
    return warn_if(
        result, n > MAX_RUBRIC_ITEMS, f"{n} rubric items: more than the 5-10 the checklist asks for dilutes the grade"
    )


@on_latest("eval_automated_checks")
def eval_automated_checks(ctx: AuditContext, item: Item, row: dict) -> ItemResult:
    df = output_checks(ctx, row["release"])
    ran = df.filter(pl.col("applicable") > 0)
    not_run = df.filter(pl.col("applicable") == 0)["check"].to_list()
    evidence = {"query": "eval_output_checks", "release": row["release"], "checks": df.to_dicts(), "not_run": not_run}
    if ran.is_empty():
        return ItemResult(
            item.id,
            NO_DATA,
            evidence=evidence,
            reason="nothing to check: the eval rows carry no output_text, citation_required or policy_violation",
        )
    failing = ran.filter(pl.col("failed") > 0)
    parts = [
        f"the {CHECK_WORDS.get(r['check'], words(r['check']))} check failed on {r['failed']} of {r['applicable']} cases"
        for r in failing.iter_rows(named=True)
    ]
    passing = ran.height - failing.height
    display = (
        "; ".join(parts) + (f"; {passing} other check{'s' if passing != 1 else ''} pass" if parts and passing else "")
        if parts
        else f"{ran.height} of {len(checks.CHECKS)} checks ran and pass on release {row['release']}"
    )
    result = judge(
        ctx,
        item,
        ran.select("check", "failure_rate"),
        value=float(failing["failed"].sum()) if failing.height else 0.0,
        display=display,
        evidence=evidence,
        at_fault=failing["check"].to_list(),
    )
    return warn_if(result, bool(not_run), f"not run (no applicable case): {', '.join(not_run)}")
