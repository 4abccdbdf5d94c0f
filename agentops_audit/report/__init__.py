"""Render the readiness report: one self-contained HTML file from one audit document.

The template autoescapes every value, so trace text is shown as text. Charts are inline SVG. The page
carries no script and loads nothing: it opens offline and makes no network request.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from agentops_audit.report import charts

STATUS_TEXT = {
    "PASS": "Pass", "WARN": "Warning", "FAIL": "Fail", "NO_DATA": "No data", "ERROR": "Error",
    "NOT_APPLICABLE": "Not applicable",
}
VERDICT_TEXT = {
    "GO": "The agent meets every checklist item for its next autonomy phase.",
    "GO WITH CONDITIONS": "Only warnings or minor items remain; expand with the listed conditions.",
    "NO-GO": "At least one blocking or major item fails: do not expand the agent's autonomy.",
    "INCONCLUSIVE": "A blocking or major item has no data: the evidence cannot support a decision yet.",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(value, unit: str | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if unit == "ratio":
            return f"{value:.2%}"
        return f"{value:,.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


_env.filters["fmt"] = _fmt


def _tool_threshold(doc: dict) -> float | None:
    for section in doc["sections"]:
        for item in section["items"]:
            if item["check"] == "tool_success" and item["threshold"]:
                return item["threshold"]["value"]
    return None


def render(doc: dict) -> str:
    """The report's HTML for one audit document."""
    m = doc["metrics"]
    svgs = {
        "tool_success": charts.to_svg(charts.tool_success(m["tool_success"], _tool_threshold(doc))),
        "pii_by_field": charts.to_svg(charts.pii_by_field(m["pii_leaks"]["by_field"])),
    }
    return _env.get_template("report.html.j2").render(
        doc=doc, m=m, charts=svgs, status_text=STATUS_TEXT, verdict_text=VERDICT_TEXT[doc["verdict"]],
        top_blockers=doc["blockers"][:5],
    )


def write(doc: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(doc), encoding="utf-8")
    return path
