"""The week-over-week alert rule (``alerts.py``): a change alerts when it passes its level and its interval
(Welch for means, Newcombe for rates, as the regression gate) tells it from noise. Pure statistics on
known numbers first, then `make audit`'s six-week demo end to end."""

from __future__ import annotations

import json

import pytest

from agentops_audit import trends
from agentops_audit.trends import alerts
from agentops_audit.trends.alerts import DROP, RISE

# the demo's weeks 2026-W45 and 2026-W46 (400 sessions each): per-task cost and tokens, and the policy
# violations of 2026-W42 and 2026-W43, as its history records them
W45 = {
    "cost_per_task": 0.0082562427,
    "cost_per_task:n": 400,
    "cost_per_task:sd": 0.0191842127,
    "tokens_per_task": 4931.07,
    "tokens_per_task:n": 400,
    "tokens_per_task:sd": 7079.0801,
}
W46 = {
    "cost_per_task": 0.0114951353,
    "cost_per_task:n": 400,
    "cost_per_task:sd": 0.0189888519,
    "tokens_per_task": 6901.9975,
    "tokens_per_task:n": 400,
    "tokens_per_task:sd": 9914.1816,
}
W42 = {"policy_violation_rate": 8 / 292, "policy_violation_rate:count": 8, "policy_violation_rate:n": 292}
W43 = {"policy_violation_rate": 12 / 304, "policy_violation_rate:count": 12, "policy_violation_rate:n": 304}


def test_a_large_rise_that_is_more_than_noise_alerts():
    cost = alerts.mean_change("cost_per_task", W45, W46, 25, 0.95)
    assert cost.change == pytest.approx(39.23, abs=0.01) and cost.method == "welch_normal"
    assert (round(cost.ci_low), round(cost.ci_high)) == (7, 71)
    assert cost.past_level and cost.significant and cost.fires
    tokens = alerts.mean_change("tokens_per_task", W45, W46, 20, 0.95)
    assert (round(tokens.ci_low), round(tokens.ci_high)) == (16, 64) and tokens.fires
    # the lower bound is below the level: "interval past the level" would have kept both quiet
    assert cost.ci_low < cost.threshold and tokens.ci_low < tokens.threshold


def test_a_rise_past_the_level_within_the_noise_does_not():
    policy = alerts.rate_change("policy_violation_rate", W42, W43, 0.001, RISE, 0.95)
    assert policy.method == "newcombe_independent" and policy.ci_low < 0 < policy.ci_high
    assert policy.past_level and policy.significant is False and not policy.fires
    text = alerts.describe(policy, "the policy violation rate")
    assert "2.74% to 3.95%" in text and text.endswith("within week-to-week noise, no alert")
    assert not alerts.mean_change("cost_per_task", W45, W46, 50, 0.95).fires  # significant, below the level


def test_a_drop_alerts_on_the_upper_bound():
    before = {"trace_coverage": 0.99, "trace_coverage:count": 990, "trace_coverage:n": 1000}
    after = {"trace_coverage": 0.90, "trace_coverage:count": 900, "trace_coverage:n": 1000}
    drop = alerts.rate_change("trace_coverage", before, after, 0.02, DROP, 0.95)
    assert drop.ci_high < 0 and drop.fires and "fell 9.00 points" in alerts.describe(drop, "trace coverage")
    assert not alerts.rate_change("trace_coverage", after, before, 0.02, DROP, 0.95).fires  # a rise


def test_untested_changes_alert_on_the_level_and_say_so():
    old = {k: v for k, v in W45.items() if ":" not in k}  # a week recorded by an older toolkit
    change = alerts.mean_change("cost_per_task", old, W46, 25, 0.95)
    assert change.significant is None and change.fires and "older toolkit" in change.note
    assert "not tested for noise" in alerts.describe(change, "cost per task")
    few = {**W45, "cost_per_task:n": 12}
    assert "fewer than 30 tasks" in alerts.mean_change("cost_per_task", few, W46, 25, 0.95).note
    assert alerts.mean_change("cost_per_task", {"cost_per_task": 0.0}, W46, 25, 0.95) is None


def test_confidence_is_configurable_and_checked():
    assert trends.validate_alerts({"confidence": 0.9})["confidence"] == 0.9
    assert trends.validate_alerts(None)["confidence"] == 0.95
    with pytest.raises(ValueError, match="between 0.5 and 1"):
        trends.validate_alerts({"confidence": 0.4})
    wide = alerts.mean_change("cost_per_task", W45, W46, 25, 0.999)
    assert wide.ci_low < alerts.mean_change("cost_per_task", W45, W46, 25, 0.95).ci_low


def test_multi_week_demo_reports_trends_and_alerts(weekly_demo):
    """`make audit`'s demo: the designed cost and token jumps of the last week alert; the policy rate's
    week-to-week wobble (2.74% to 3.95% in 2026-W43, on about 300 actions a week) does not."""
    out, drift, doc = weekly_demo["out"], weekly_demo["weeks"], weekly_demo["audit"]
    last = drift["weeks"][-1]["week"]
    assert drift["drift_weeks"] == [last]  # the default drift: a creep, then a jump in the last week
    assert doc["week"]["label"] == last
    for metric in ("cost_per_task", "tokens_per_task"):
        assert [a["week"] for a in doc["alerts"] if a["metric"] == metric] == drift["expected_alerts"][metric] == [last]
    docs = {**weekly_demo["past"], last: doc}
    assert not [a for d in docs.values() for a in d["alerts"] if a["metric"] == "policy_violation_rate"]
    w43 = next(c for c in docs["2026-W43"]["changes"] if c["metric"] == "policy_violation_rate")
    assert (round(w43["previous"], 4), round(w43["current"], 4)) == (0.0274, 0.0395)
    assert w43["past_level"] and w43["significant"] is False and not w43["alert"]
    assert "history is new" in docs[drift["weeks"][0]["week"]]["week"]["no_alerts_reason"]
    assert json.loads((out / "data" / "truth.json").read_text()) == json.loads(
        (out / "data" / "truth" / f"{last}.json").read_text()
    )
    assert {r["week"] for r in doc["trends"]} == {w["week"] for w in drift["weeks"]}
    for w in drift["weeks"][:-1]:
        assert (out / "weeks" / w["week"] / "audit.json").exists()
    assert (out / "notebooks" / "audit.ipynb").exists()
    html = weekly_demo["html"]
    assert 'id="chart-trends"' in html and "<svg" in html[html.index('id="chart-trends"') :]
    alerts = html[html.index('id="alert-list"') : html.index('id="top-blockers"')]
    assert "cost per task rose" in alerts and "tokens per task rose" in alerts
    assert html.index('id="alert-list"') < html.index('id="top-blockers"')  # what changed comes first
