"""The report's chart functions: pure functions of audit-document lists, rendered offline to SVG.

Inputs are small literal lists in the shapes of ``audit.json`` (these tests check rendering, not the audit).
"""

from __future__ import annotations

import html
import re

import pytest
from report_samples import DASHBOARDS, TRENDS

from agentops_audit.report import charts

MAX_SVG_WIDTH = 720  # a chart is never wider than a printed page column (A4 less margins is ~700 CSS px)

CASES = {
    "cost_per_task": (
        lambda rows: charts.cost_per_task(rows, budget=0.25),
        DASHBOARDS["cost_per_task"],
        ["ticket-triage", "refund-eligibility", "$0.182", "$0.394", "P50 of successful tasks"],
    ),
    "latency_per_step": (charts.latency_per_step, DASHBOARDS["latency_per_step"], ["llm", "retrieval", "3,921"]),
    "tokens_per_task": (charts.tokens_per_task, DASHBOARDS["tokens_per_task"], ["9,410", "2,711", "mean"]),
    "escalation": (charts.escalation, DASHBOARDS["escalation"], ["15.6% (14 of 90)", "7.1% (22 of 310)"]),
    "policy_decisions": (
        charts.policy_decisions,
        DASHBOARDS["policy_decisions"],
        ["refund.max_amount", "email.external", "require_approval", "deny", "76"],
    ),
    "failure_reasons": (charts.failure_reasons, DASHBOARDS["failure_reasons"], ["tool_error", "14 (40%)"]),
}


def _texts(svg: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", t)) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)]


def _width(svg: str) -> float:
    return float(re.search(r'<svg[^>]* width="([\d.]+)"', svg).group(1))


@pytest.mark.parametrize("name", sorted(CASES))
def test_chart_renders_labelled_svg(name):
    fn, rows, labels = CASES[name]
    svg = charts.to_svg(fn(rows))
    assert svg.startswith("<svg") and "viewBox" in svg  # scalable: the report sizes it to its column
    texts = " | ".join(_texts(svg))
    for label in labels:
        assert label in texts, f"{name}: {label!r} not drawn"
    assert 0 < _width(svg) <= MAX_SVG_WIDTH
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', ""
    )  # nothing to load


@pytest.mark.parametrize("name", sorted(CASES))
def test_chart_is_none_without_data(name):
    fn = CASES[name][0]
    assert fn([]) is None
    assert charts.to_svg(None) is None


def test_tool_success_marks_tools_under_the_threshold():
    rates = {
        "lookup_order": {"success_rate_after_retries": 0.9577, "raw_success_rate": 0.88},
        "search_kb": {"success_rate_after_retries": 1.0, "raw_success_rate": 0.93},
    }
    svg = charts.to_svg(charts.tool_success(rates, threshold=0.995))
    assert charts.FAIL in svg  # the failing tool's dot and label, and the threshold line
    assert {"95.8%", "100.0%", "lookup_order", "search_kb"} <= set(_texts(svg))
    passing = charts.to_svg(charts.tool_success({"search_kb": rates["search_kb"]}, threshold=None))
    assert charts.FAIL not in passing
    assert charts.tool_success({}, 0.995) is None


def test_pii_by_field_labels_counts():
    svg = charts.to_svg(
        charts.pii_by_field(
            [
                {
                    "field": "tool_result",
                    "records_scanned": 905,
                    "records_with_leak": 10,
                    "findings": 11,
                    "leak_rate": 10 / 905,
                },
                {"field": "tool_args", "records_scanned": 905, "records_with_leak": 0, "findings": 0, "leak_rate": 0.0},
            ]
        )
    )
    assert {"10 of 905", "0 of 905", "tool_result", "tool_args"} <= set(_texts(svg))


def test_policy_decisions_colours_known_decisions_and_keeps_unknown_ones():
    svg = charts.to_svg(
        charts.policy_decisions(
            [
                {"rule": "r1", "decision": "allow", "count": 3},
                {"rule": "r1", "decision": "deny", "count": 1},
                {"rule": "r2", "decision": "escalate_to_human", "count": 2},
            ]
        )
    )
    assert charts.DECISION_COLORS["allow"] in svg and charts.DECISION_COLORS["deny"] in svg
    assert {"escalate_to_human", "4", "2"} <= set(_texts(svg))


def test_chart_text_is_escaped_in_svg():
    hostile = '<script>alert(1)</script>&"'
    svg = charts.to_svg(charts.failure_reasons([{"category": hostile, "sessions": 1, "share": 1.0}]))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_trends_are_one_readable_chart_per_metric():
    """Short week labels, ratios as percentages, the latest value written, the target as a dashed line."""
    targets = {"trace_coverage": {"op": ">", "value": 0.95, "shown": "> 95%"}}
    made = charts.trends(TRENDS, targets)
    assert [key for key, _ in made] == ["tool_success_min", "cost_per_task_p95", "trace_coverage", "tokens_per_task"]
    svgs = {key: charts.to_svg(chart) for key, chart in made}
    for key, svg in svgs.items():
        texts = _texts(svg)
        assert {"W44", "W45", "W46"} <= set(texts), key  # not 2026-W442026-W45...
        assert not any("2026-W" in t for t in texts)
        assert 0 < _width(svg) <= MAX_SVG_WIDTH
    coverage = _texts(svgs["trace_coverage"])
    assert "97.5%" in coverage and "dashed line: target > 95%" in coverage  # last value, the target
    assert any(t.endswith("%") for t in _texts(svgs["tool_success_min"]))
    assert "$0.21" in _texts(svgs["cost_per_task_p95"]) and "2,900" in _texts(svgs["tokens_per_task"])
    assert "stroke-dasharray" in svgs["trace_coverage"] and "stroke-dasharray" not in svgs["tokens_per_task"]
    assert charts.trends([]) == [] and charts.week_labels(["2026-W52", "2027-W01"]) == {
        "2026-W52": "2026-W52",
        "2027-W01": "2027-W01",
    }
