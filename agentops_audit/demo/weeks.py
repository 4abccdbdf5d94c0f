"""Several weeks of demo traces with a known token drift, for the weekly audits and their alerts.

Each ISO week is one run of ``synth.generate`` (its own seed, so ids never collide across weeks)
starting ``START_OFFSET`` after that week's Monday 00:00 (a generated root span starts a millisecond
before its first child: without the offset the week's first session would start on the Sunday before),
with a ``token_scale`` of its own: token counts, and with them the
cost, follow the scale. ``weeks.json`` is the ground truth, tallied from each week's ``truth.json``:
per week the scale, cost per task and tokens per task (means over tasks), the policy violation rate
and tool success; ``drift_weeks`` are the weeks whose scale jumped past the token alert level; and
``expected_alerts`` names the weeks whose tallied cost or tokens per task rose past the catalog's
default alert levels over the week before.
"""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

from agentops_audit import catalog
from agentops_audit.demo import synth
from agentops_audit.trends import COST_ITEM, TOKENS_ITEM, pct_change
from agentops_audit.trends.windows import Week

CREEP = 0.04  # the default drift: tokens creep up 4% a week, below any alert level...
JUMP = 1.4  # ...then jump 40% in the last week, past both alert levels
START_OFFSET = timedelta(minutes=1)


def default_scales(weeks: int) -> list[float]:
    """Token scale per week, oldest first: a slow creep, then a jump in the last week."""
    creep = [round(1 + CREEP * k, 4) for k in range(weeks - 1)]
    return [*creep, round((creep[-1] if creep else 1.0) * JUMP, 4)]


def _tally(week: Week, scale: float, seed: int, truth: dict) -> dict:
    tasks = truth["cost"]["tasks"]
    counts = {w: sum(c.values()) for w, c in truth["outcomes_by_workflow"].items()}
    tokens = sum(truth["tokens_per_task"][w]["mean"] * n for w, n in counts.items())
    return {
        "week": week.label,
        "token_scale": scale,
        "seed": seed,
        "sessions": truth["sessions"],
        "cost_per_task": truth["cost"]["total_usd"] / tasks if tasks else None,
        "tokens_per_task": tokens / sum(counts.values()) if counts else None,
        "policy_violation_rate": truth["policy_violations"]["rate"],
        "tool_success": {t: s["success_rate_after_retries"] for t, s in truth["tool_success"].items()},
    }


def generate(
    out_dir: str | Path,
    last_week: Week | str,
    weeks: int = 6,
    sessions: int = 400,
    seed: int = 7,
    scales: list[float] | None = None,
) -> dict:
    """Write ``<out_dir>/<week>/traces.otlp.jsonl`` for ``weeks`` weeks ending with ``last_week``, each
    week's truth to ``<out_dir>/../truth/<week>.json``, and ``weeks.json`` beside ``out_dir``; return it.

    ``sessions`` is per week; the last week uses ``seed``, the week before ``seed + 1``, and so on.
    ``scales`` (oldest first) replaces ``default_scales(weeks)``.
    """
    out = Path(out_dir)
    last = last_week if isinstance(last_week, Week) else Week.parse(last_week)
    scales = scales or default_scales(weeks)
    if len(scales) != weeks:
        raise ValueError(f"{len(scales)} token scales for {weeks} weeks")
    order = [last]
    while len(order) < weeks:
        order.insert(0, order[0].previous())
    truths = out.parent / "truth"
    truths.mkdir(parents=True, exist_ok=True)
    rows = []
    for k, (week, scale) in enumerate(zip(order, scales, strict=True)):
        week_seed = seed + (weeks - 1 - k)
        start = week.start.replace(tzinfo=synth.EPOCH.tzinfo) + START_OFFSET
        truth = synth.generate(out / week.label, sessions=sessions, seed=week_seed, start=start, token_scale=scale)
        (out / week.label / "truth.json").replace(truths / f"{week.label}.json")
        rows.append(_tally(week, scale, week_seed, truth))
    cat = catalog.load()
    limits = {
        "cost_per_task": cat.item(COST_ITEM).threshold.value,
        "tokens_per_task": cat.item(TOKENS_ITEM).threshold.value,
    }
    expected = {
        metric: [
            b["week"] for a, b in pairwise(rows) if (c := pct_change(a[metric], b[metric])) is not None and c > limit
        ]
        for metric, limit in limits.items()
    }
    doc = {
        "weeks": rows,
        "thresholds_pct": limits,
        "drift_weeks": [
            b["week"]
            for a, b in pairwise(rows)
            if (b["token_scale"] / a["token_scale"] - 1) * 100 > limits["tokens_per_task"]
        ],
        "expected_alerts": expected,
    }
    (out.parent / "weeks.json").write_text(json.dumps(doc, indent=2))
    return doc
