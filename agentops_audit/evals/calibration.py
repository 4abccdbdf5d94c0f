"""Judge calibration: how often the automated grader and a person disagree on the same eval rows.

DuckDB reduces the rows that carry both labels to a confusion table per rubric item (set-based SQL);
``cohen_kappa`` and the disagreement rate are computed from those counts. Labels are compared after
normalisation (``LABEL_SQL``): trimmed, lower-case, with pass/fail synonyms folded. A row without a
``judge_label`` uses its own pass/fail verdict as the judge's label. At least ``MIN_CASES`` distinct cases
with both labels are needed; with fewer the calibration is NO_DATA.
"""

from __future__ import annotations

import math

import duckdb
import polars as pl

from agentops_audit import pii
from agentops_audit.db import frame

MIN_CASES = 50
LIST_LIMIT = 50
EXCERPT_CHARS = 160
_PASS = "'pass', 'passed', 'true', '1', 'yes', 'correct', 'good', 'success'"
_FAIL = "'fail', 'failed', 'false', '0', 'no', 'incorrect', 'bad', 'failure'"


def label_sql(expr: str) -> str:
    """SQL normalising a label: pass/fail synonyms folded, other labels trimmed and lower-cased."""
    norm = f"lower(trim(CAST({expr} AS VARCHAR)))"
    return f"CASE WHEN {norm} IN ({_PASS}) THEN 'pass' WHEN {norm} IN ({_FAIL}) THEN 'fail' ELSE nullif({norm}, '') END"


_LABELLED = f"""
    SELECT case_id, release, rubric_item, output_text,
           {label_sql("coalesce(judge_label, CASE WHEN passed THEN 'pass' WHEN NOT passed THEN 'fail' END)")} AS judge,
           {label_sql("human_label")} AS human
    FROM eval_results
"""


def confusion(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(rubric_item, judge, human, rows, cases) for every row labelled by both the judge and a person."""
    return frame(
        con,
        f"""
        SELECT rubric_item, judge, human, count(*) AS rows, count(DISTINCT case_id) AS cases
        FROM ({_LABELLED}) WHERE judge IS NOT NULL AND human IS NOT NULL
        GROUP BY ALL ORDER BY ALL""",
    )


def cohen_kappa(counts: dict[tuple[str, str], float]) -> float | None:
    """Cohen's kappa from {(judge label, human label): count}; None when it is undefined (no rows, or
    both raters used one and the same label only, so chance agreement is 1)."""
    n = sum(counts.values())
    if n <= 0:
        return None
    labels = {a for a, _ in counts} | {b for _, b in counts}
    observed = sum(v for (a, b), v in counts.items() if a == b) / n
    expected = sum(
        (sum(v for (a, _), v in counts.items() if a == label) / n)
        * (sum(v for (_, b), v in counts.items() if b == label) / n)
        for label in labels
    )
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)


def _scope(name: str, table: pl.DataFrame, threshold: float) -> dict:
    counts: dict[tuple[str, str], int] = {}
    for r in table.iter_rows(named=True):  # the overall scope sums the rubric items' tables
        counts[(r["judge"], r["human"])] = counts.get((r["judge"], r["human"]), 0) + r["rows"]
    rows = sum(counts.values())
    disagree = sum(v for (a, b), v in counts.items() if a != b)
    rate = disagree / rows if rows else None
    return {
        "scope": name,
        "rows": rows,
        "disagreements": disagree,
        "disagreement": rate,
        "kappa": cohen_kappa(counts),
        "enough_rows": rows >= MIN_CASES,
        "exceeds": rate is not None and rows >= MIN_CASES and rate > threshold,
    }


def calibrate(con: duckdb.DuckDBPyConnection, threshold: float, min_cases: int = MIN_CASES) -> dict:
    """Disagreement and kappa overall and per rubric item, the masked list of disagreeing rows, and the
    settings that produced them. ``status`` is NO_DATA (fewer than ``min_cases`` cases), or OK."""
    table = confusion(con)
    cases = frame(
        con, f"SELECT count(DISTINCT case_id) AS n FROM ({_LABELLED}) WHERE judge IS NOT NULL AND human IS NOT NULL"
    )["n"][0]
    per_item = [
        _scope(item, table.filter(pl.col("rubric_item") == item), threshold)
        for item in sorted(set(table["rubric_item"].to_list()))
    ]
    pii.install(con)  # the phone UDF that mask_sql calls
    masked = pii.mask_sql(f"left(output_text, {EXCERPT_CHARS})")
    disagreements = frame(
        con,
        f"""
        SELECT {pii.mask_sql("case_id")} AS case_id, release, rubric_item, judge, human,
               {masked} AS output_excerpt
        FROM ({_LABELLED}) WHERE judge IS NOT NULL AND human IS NOT NULL AND judge <> human
        ORDER BY rubric_item, case_id, release LIMIT {LIST_LIMIT}""",
    )
    return {
        "status": "OK" if cases >= min_cases else "NO_DATA",
        "cases": int(cases),
        "min_cases": min_cases,
        "threshold": threshold,
        "overall": _scope("overall", table, threshold),
        "per_item": per_item,
        "disagreements_listed": disagreements.height,
        "disagreements": disagreements.to_dicts(),
    }
