"""Shared fixtures: the demo pipeline runs once per test session, for real (DuckDB, GX, papermill)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentops_audit import cli
from agentops_audit.demo import synth

SEED = 7
SESSIONS = 400


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> dict:
    """Run `agentops-audit demo` once: generated traces, audit database, audit.json, report, notebooks."""
    out = tmp_path_factory.mktemp("demo")
    assert cli.main(["demo", "--out", str(out), "--sessions", str(SESSIONS), "--seed", str(SEED), "--weeks", "1"]) == 0
    return {
        "out": out,
        "db": out / "audit.duckdb",
        "truth": json.loads((out / "data" / "truth.json").read_text()),
        "audit": json.loads((out / "audit.json").read_text()),
        "html": (out / "readiness-report.html").read_text(encoding="utf-8"),
    }


@pytest.fixture(scope="session")
def weekly_demo(tmp_path_factory) -> dict:
    """Run `agentops-audit demo` as `make audit` does: six weeks of 400 sessions, a weekly backfill into a
    history, and the last week's report with its trends and alerts."""
    out = tmp_path_factory.mktemp("weekly-demo")
    assert cli.main(["demo", "--out", str(out), "--seed", str(SEED)]) == 0
    return {
        "out": out,
        "db": out / "audit.duckdb",
        "weeks": json.loads((out / "data" / "weeks.json").read_text()),
        "audit": json.loads((out / "audit.json").read_text()),
        "html": (out / "readiness-report.html").read_text(encoding="utf-8"),
        "past": {p.parent.name: json.loads(p.read_text()) for p in sorted((out / "weeks").glob("*/audit.json"))},
    }


@pytest.fixture()
def traces(tmp_path) -> tuple[Path, dict]:
    """A small freshly generated OTLP export and its truth."""
    truth = synth.generate(tmp_path / "gen", sessions=60, seed=11)
    return tmp_path / "gen" / "traces.otlp.jsonl", truth


# ---------------------------------------------------------------- test tiers
# `browser`: drives headless Chromium. `slow`: runs the demo pipeline (papermill notebooks, GX over the
# whole catalog), a real server, or takes more than a few seconds otherwise. `make test-fast` runs the rest
# (`-m "not slow and not browser"`) for the edit loop; `make test` runs all but `spark` (tests/test_spark.py),
# which `make test-spark` runs; `.ci/run` runs both.
SLOW_FIXTURES = {"demo", "weekly_demo"}
SLOW_MODULES = {
    "test_ingest_properties",
    "test_real_fixtures",
    "test_tau_bench",
    "test_history",
    "test_receiver",
    "test_ci_and_alerts",
    "test_weekly",
    "test_pipeline",
    "test_verify",
    "test_evals",
    "test_gate",
}


SLOW_TESTS = {  # over 4 s each in the fast tier (measured with --durations on the shared 2-core machine)
    "test_mask_frame_agrees_with_pii_mask_on_the_corpus",
    "test_mask_property",
    "test_a_synthetic_clock_is_named",
    "test_the_report_lists_each_inferred_class_and_says_the_verdict_rests_on_them",
    "test_progress_bar_only_on_a_terminal",
    "test_writes_are_measured_on_real_conversations_without_a_manifest",
    "test_declared_classes_win_over_inferred_ones",
}


def _xdist_group(item, merged: bool) -> str:
    """The worker group of a test under `pytest -n` (`--dist loadgroup`, as `make test` runs): the tests of one
    session demo pipeline share a worker, so each pipeline runs once, and so do the tests of one module, so its
    module-scoped fixtures are built once. ``merged``: some test uses both pipelines, so they share a group."""
    names = set(getattr(item, "fixturenames", ()))
    for fixture in ("weekly_demo", "demo"):
        if fixture in names:
            return "demo" if merged else fixture
    return item.module.__name__ if item.module else item.nodeid.split("::")[0]


def pytest_collection_modifyitems(config, items):
    both = any(set(getattr(item, "fixturenames", ())) >= SLOW_FIXTURES for item in items)
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_xdist_group(item, both)))
        if item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if "browser" in module:
            item.add_marker(pytest.mark.browser)
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
