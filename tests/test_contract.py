"""One check, one place: the catalog, the ``@check`` declarations, the GX suites, the evidence queries, the
metric SQL and the README's check tables (generated from the declarations) name the same checks. A suite
deleted from ``checks/suites.yml`` (or a README row, an evidence file, a declaration) fails here, not as an
ERROR item in some audit."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from agentops_audit import catalog, evidence, metrics
from agentops_audit.evaluators import CHECKS
from agentops_audit.paths import checks_dir

ROOT = Path(__file__).resolve().parent.parent


def readme_checks(text: str) -> set[str]:
    """The check names in the first column of the README's tables headed ``| check | ...``."""
    names: set[str] = set()
    in_table = False
    for line in text.splitlines():
        if line.startswith("| check |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table:
            names |= set(re.findall(r"`([\w.]+)`", line.split("|")[1]))
    return names


def contract(
    catalog_checks: set[str],
    declared: dict,
    suites: set[str],
    evidence_files: set[str],
    metric_files: set[str],
    readme: set[str],
    texts: dict,
) -> list[str]:
    """Every disagreement between the places a check is named; empty when they agree."""
    problems = []
    judged = {n for n, c in declared.items() if c.suite}
    in_file = {n for n, c in declared.items() if c.suite is True}  # the others declare their suite inline
    problems += [f"catalog check {n!r} has no @check" for n in sorted(catalog_checks - set(declared))]
    problems += [f"@check {n!r} is in no catalog item" for n in sorted(set(declared) - catalog_checks)]
    problems += [f"@check {n!r} declares a suite, checks/suites.yml has none" for n in sorted(in_file - suites)]
    problems += [f"suite {n!r} judges no declared check" for n in sorted(suites - in_file)]
    with_evidence = {n for n, c in declared.items() if c.evidence}
    problems += [
        f"@check {n!r} declares evidence, evidence/{n}.sql is missing" for n in sorted(with_evidence - evidence_files)
    ]
    problems += [
        f"evidence/{n}.sql serves no check declaring evidence=True" for n in sorted(evidence_files - with_evidence)
    ]
    problems += [
        f"@check {n!r} reads metric {m!r}, metrics/{m}.sql is missing"
        for n, c in sorted(declared.items())
        for m in c.metrics
        if m not in metric_files
    ]
    problems += [
        f"judged check {n!r} has no entry (means, default) in the catalog's checks, its README row"
        for n in sorted(judged)
        if not (n in texts and texts[n].means and texts[n].default)
    ]
    problems += [f"the catalog's checks entry {n!r} names no judged check" for n in sorted(set(texts) - judged)]
    problems += [
        f"@check {n!r} has no row in the README's check tables (run `make docs`)" for n in sorted(judged - readme)
    ]
    problems += [f"README check row {n!r} names no judged check" for n in sorted(readme - judged)]
    return problems


def _actual() -> dict:
    return {
        "catalog_checks": {i.check for i in catalog.load().items if i.check},
        "declared": CHECKS,
        "suites": set(yaml.safe_load((checks_dir() / "suites.yml").read_text())),
        "evidence_files": set(evidence.EVIDENCE),
        "metric_files": {p.stem for p in Path(metrics.__file__).parent.glob("*.sql")},
        "readme": readme_checks((ROOT / "README.md").read_text()),
        "texts": catalog.load().checks,
    }


def test_catalog_checks_suites_evidence_and_readme_agree():
    assert contract(**_actual()) == []


def test_contract_fails_when_the_cache_reads_suite_is_deleted():
    text = (checks_dir() / "suites.yml").read_text()
    suites = yaml.safe_load(text)
    del suites["cache_reads"]
    copy = yaml.safe_load(yaml.safe_dump(suites))  # the file as it reads with the entry removed
    assert contract(**{**_actual(), "suites": set(copy)}) == [
        "@check 'cache_reads' declares a suite, checks/suites.yml has none"
    ]


def test_contract_fails_on_a_missing_readme_row_or_evidence_file():
    actual = _actual()
    assert contract(**{**actual, "readme": actual["readme"] - {"tool_success"}}) == [
        "@check 'tool_success' has no row in the README's check tables (run `make docs`)"
    ]
    assert contract(**{**actual, "evidence_files": actual["evidence_files"] - {"retry_caps"}}) == [
        "@check 'retry_caps' declares evidence, evidence/retry_caps.sql is missing"
    ]


def test_an_evaluator_reads_only_the_metrics_it_declares():
    import inspect

    for name, declared in CHECKS.items():
        used = set(re.findall(r'ctx\.metric\("(\w+)"\)', inspect.getsource(declared.fn)))
        assert used <= set(declared.metrics), (name, used - set(declared.metrics))


def test_a_check_cannot_be_declared_twice():
    import pytest

    from agentops_audit.evaluators.base import check

    with pytest.raises(ValueError, match="declared twice"):
        check("tool_success")(lambda ctx, item: None)


def test_contract_fails_on_a_judged_check_that_does_not_say_what_it_means():
    actual = _actual()
    texts = {k: v for k, v in actual["texts"].items() if k != "cache_reads"}
    assert contract(**{**actual, "texts": texts}) == [
        "judged check 'cache_reads' has no entry (means, default) in the catalog's checks, its README row"
    ]


def test_a_check_with_an_empty_main_metric_is_no_data_with_its_declared_reason(tmp_path):
    """``@check(..., empty=...)``: on a database with the schema and no spans, every such check is NO_DATA with
    its declared reason, and its evaluator does not run (it would fail on the missing rows)."""
    from agentops_audit import db
    from agentops_audit.evaluators.base import AuditContext, evaluate
    from agentops_audit.results import NO_DATA

    con = db.connect(tmp_path / "empty.duckdb")
    cat = catalog.load()
    ctx = AuditContext(con=con, catalog=cat, validator=None)
    declared = {name: c for name, c in CHECKS.items() if c.empty}
    assert len(declared) >= 9
    for item in cat.items:
        if item.check in declared:
            result = evaluate(ctx, item)
            assert (result.status, result.reason) == (NO_DATA, declared[item.check].empty), item.id
    con.close()
