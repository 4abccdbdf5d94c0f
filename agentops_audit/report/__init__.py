"""Render the readiness report: one self-contained HTML file from one audit document.

The template autoescapes every value, so trace text is shown as text; example trace text is masked again
with ``pii.mask`` at render time. Charts are inline SVG rendered offline. The page carries no script, a
Content-Security-Policy that forbids scripts and remote loads, and a print stylesheet: it opens offline,
makes no network request and prints on A4 or Letter.

Optional parts of the audit document degrade gracefully: a dashboard whose data is missing or empty is a
"No data" panel, the trends section appears only when ``trends`` holds history.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from agentops_audit import pii, words
from agentops_audit.report import charts, summary
from agentops_audit.report.fmt import (  # noqa: F401  (_window, _fmt_threshold: the report's formatting API)
    _fmt,
    _fmt_threshold,
    _window,
    evidence_of,
    stamp,
    threshold_of,
)

STATUS_TEXT = {
    "PASS": "Pass",
    "WARN": "Warning",
    "FAIL": "Fail",
    "NO_DATA": "No data",
    "ERROR": "Error",
    "NOT_APPLICABLE": "Not applicable",
}
VERDICT_TEXT = {
    "GO": "The agent meets every checklist item for its next autonomy phase.",
    "GO WITH CONDITIONS": "Only warnings or minor items remain; expand with the listed conditions.",
    "NO-GO": "At least one blocking or major item fails: do not expand the agent's autonomy.",
    "INCONCLUSIVE": "A blocking or major item has no data: the evidence cannot support a decision yet.",
}
TOP_BLOCKERS = 5
OVERRIDDEN = "overridden by config"


@dataclass(frozen=True)
class Dashboard:
    """One dashboard panel: where its data sits in the audit document and how it is drawn."""

    key: str
    title: str
    caption: str
    no_data: str  # shown after "No data:" when the list is missing or empty


# The panels in report order: the three the second checklist asks for first, then the others.
DASHBOARDS = (
    Dashboard(
        "cost_per_task",
        "Cost per task, P50 and P95",
        "Cost of one task per workflow, in USD.",
        "no task in the window has a recorded or priced cost.",
    ),
    Dashboard(
        "tool_success",
        "Tool success rate per tool",
        "Filled dot: share of logical calls that succeed after retries (red when under the threshold); "
        "hollow dot: share of raw attempts; dashed line: the go/no-go threshold.",
        "no tool call in the window.",
    ),
    Dashboard(
        "failure_reasons",
        "Top failure reasons",
        "Failed sessions by failure category; example traces follow below.",
        "no failed session in the window carries a failure category.",
    ),
    Dashboard(
        "latency_per_step",
        "Latency per step, P50 and P95",
        "Duration of each kind of step (model call, retrieval, tool call, ...).",
        "no step with a duration in the window.",
    ),
    Dashboard(
        "tokens_per_task",
        "Tokens per task",
        "Model tokens (input and output) used by one task, per workflow.",
        "no model call in the window records token usage.",
    ),
    Dashboard(
        "escalation",
        "Escalation rate",
        "Share of sessions handed off to a person, per workflow.",
        "no session in the window records an outcome (success, failure or escalated).",
    ),
    Dashboard(
        "policy_decisions",
        "Policy decisions by rule",
        "Gateway decisions per policy rule: allow, require approval, deny.",
        "no policy decision was recorded in the window.",
    ),
    Dashboard(
        "pii_by_field",
        "Personal data and secrets per kind of stored text",
        "Share of stored texts of each kind that hold personal data or a secret; labels give the counts.",
        "no stored text was scanned.",
    ),
)
# trend series -> the check whose threshold is the series' go/no-go target (drawn as a line)
TREND_TARGETS = {
    "trace_coverage": "trace_coverage",
    "tool_success_min": "tool_success",
    "policy_violation_rate": "policy_violation_rate",
}


def _threshold(doc: dict, *, check: str | None = None, metric: str | None = None) -> dict | None:
    for section in doc.get("sections", []):
        for item in section["items"]:
            t = item.get("threshold")
            if t and ((check and item.get("check") == check) or (metric and t.get("metric") == metric)):
                return t
    return None


def _threshold_value(doc: dict, *, check: str | None = None, metric: str | None = None) -> float | None:
    t = _threshold(doc, check=check, metric=metric)
    return t["value"] if t else None


def _dashboard_data(doc: dict) -> dict[str, list | dict | None]:
    m = doc.get("metrics", {})
    extra = m.get("dashboards") or {}
    return {
        **{d.key: extra.get(d.key) for d in DASHBOARDS},
        "tool_success": m.get("tool_success"),
        "pii_by_field": (m.get("pii_leaks") or {}).get("by_field"),
    }


def _notes(doc: dict, data: dict) -> dict[str, str]:
    """Sentences that depend on the data, shown after a panel's caption."""
    notes = {}
    budget = _threshold_value(doc, metric="cost_per_successful_task")
    if budget is not None and data.get("cost_per_task"):
        where = "the dashed line" if charts.budget_in_view(data["cost_per_task"], budget) else "off the scale"
        notes["cost_per_task"] = f"Budget per successful task: ${budget:,.2f} ({where})."
    return notes


def build_charts(doc: dict) -> dict[str, str | None]:
    """Each dashboard's SVG (None when its data is missing or empty), plus ``trends``: (metric key, SVG) per
    week-over-week series, empty without history."""
    data = _dashboard_data(doc)
    made = {
        "cost_per_task": charts.cost_per_task(
            data["cost_per_task"] or [], _threshold_value(doc, metric="cost_per_successful_task")
        ),
        "tool_success": charts.tool_success(data["tool_success"] or {}, _threshold_value(doc, check="tool_success")),
        "failure_reasons": charts.failure_reasons(data["failure_reasons"] or []),
        "latency_per_step": charts.latency_per_step(data["latency_per_step"] or []),
        "tokens_per_task": charts.tokens_per_task(data["tokens_per_task"] or []),
        "escalation": charts.escalation(data["escalation"] or []),
        "policy_decisions": charts.policy_decisions(data["policy_decisions"] or []),
        "pii_by_field": charts.pii_by_field(
            [{**r, "field": words.field(str(r["field"]))} for r in data["pii_by_field"] or []]
        ),
    }
    svgs: dict = {key: charts.to_svg(chart) for key, chart in made.items()}
    targets = {
        key: {**t, "shown": _fmt_threshold(t)}
        for key, check in TREND_TARGETS.items()
        if (t := _threshold(doc, check=check))
    }
    svgs["trends"] = [(key, charts.to_svg(chart)) for key, chart in charts.trends(doc.get("trends") or [], targets)]
    return svgs


def _mask(text, config: dict):
    return pii.mask(str(text), (config or {}).get("pii_patterns")) if text not in (None, "") else text


def _items(doc: dict) -> dict[str, dict]:
    return {it["id"]: it for s in doc.get("sections", []) for it in s["items"]}


def _examples(doc: dict) -> list[dict]:
    """Example traces with their text masked again (defence in depth) and their failure reason, if known."""
    config = doc.get("config") or {}
    out = []
    for n, ex in enumerate(doc.get("examples") or [], start=1):
        spans = []
        for sp in ex.get("spans") or []:
            failed = sp.get("failed")
            if failed is None:
                failed = sp.get("status_code") == "ERROR" or bool(sp.get("error_type"))
            spans.append(
                {
                    **sp,
                    "failed": failed,
                    "tool_args": _mask(sp.get("tool_args"), config),
                    "tool_result": _mask(sp.get("tool_result"), config),
                }
            )
        out.append(
            {
                **ex,
                "anchor": f"example-{n}",
                "n": n,
                "spans": spans,
                "reason": ex.get("failure_category") or ex.get("failure_reason"),
            }
        )
    return out


def _provenance(doc: dict) -> dict:
    prov = doc.get("provenance") or {}
    inputs = prov.get("inputs") or []
    totals = {
        k: sum(int(s.get(k) or 0) for s in inputs)
        for k in ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined", "rows_filtered")
    }
    balanced = totals["rows_read"] == (
        totals["rows_loaded"] + totals["rows_duplicate"] + totals["rows_quarantined"] + totals["rows_filtered"]
    )  # rows_filtered: left out by ingest filters
    thresholds = [
        {
            "item": it,
            "section": s["id"],
            "threshold": threshold_of(it),
            "shown": _fmt_threshold(threshold_of(it)),
            "from_catalog": bool(it.get("threshold")),
            "overridden": OVERRIDDEN in ((it.get("threshold") or {}).get("note") or ""),
        }
        for s in doc.get("sections", [])
        for it in s["items"]
        if threshold_of(it)
    ]
    return {
        "inputs": inputs,
        "totals": totals,
        "balanced": balanced,
        "thresholds": thresholds,
        "quarantine": prov.get("quarantine_by_reason") or [],
    }


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["fmt"] = _fmt
_env.filters["threshold"] = _fmt_threshold
_env.filters["stamp"] = stamp
_env.filters["words"] = words.ident
_env.globals["at_fault_words"] = words.at_fault
_env.globals["threshold_of"] = threshold_of
_env.globals["evidence_of"] = evidence_of


def render(doc: dict) -> str:
    """The report's HTML for one audit document."""
    items = _items(doc)
    blockers = [
        {**b, "threshold_shown": _fmt_threshold(threshold_of(items.get(b["item"]) or {}))}
        for b in doc.get("blockers", [])
    ]
    examples = _examples(doc)
    data = _dashboard_data(doc)
    return _env.get_template("report.html.j2").render(
        doc=doc,
        m=doc.get("metrics", {}),
        charts=build_charts(doc),
        dashboards=DASHBOARDS,
        data=data,
        notes=_notes(doc, data),
        status_text=STATUS_TEXT,
        verdict_text=VERDICT_TEXT[doc["verdict"]],
        window=_window(doc),
        scope=summary.scope(doc),
        changes=summary.changes(doc),
        next_step=summary.next_step(doc),
        field_words=words.field,
        entity_words=words.entity,
        top_blockers=blockers[:TOP_BLOCKERS],
        more_blockers=max(0, len(blockers) - TOP_BLOCKERS),
        examples=examples,
        reasons_with_examples={e["reason"] for e in examples if e["reason"]},
        prov=_provenance(doc),
        trends=doc.get("trends") or [],
        next_phase=(doc.get("recommended_phase") or 0) + 1,
        phases={str(k): v for k, v in (doc.get("phases") or {}).items()},  # int keys before a JSON round trip
    )


def write(doc: dict, path: str | Path) -> Path:
    """Render ``doc`` into ``path`` (one self-contained HTML file) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(doc), encoding="utf-8")
    return path
