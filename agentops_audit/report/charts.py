"""Charts for the report: pure functions from audit-document parts to Altair charts, and SVG rendering.

Charts are rendered to SVG by vl-convert at build time, so the report needs no JavaScript and makes no
network request when opened.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import vl_convert as vlc

WIDTH = 520
FONT = "Helvetica, Arial, sans-serif"


def _base(chart: alt.Chart) -> alt.Chart:
    return chart.configure(font=FONT).configure_view(strokeWidth=0).configure_axis(labelLimit=220)


def tool_success(tool_success: dict, threshold: float | None) -> alt.Chart | None:
    """Per-tool success rate, raw and after retries, against the go/no-go threshold."""
    if not tool_success:
        return None
    rows = []
    for tool, r in tool_success.items():
        rows.append({"tool": tool, "measure": "after retries", "rate": r["success_rate_after_retries"]})
        rows.append({"tool": tool, "measure": "raw attempts", "rate": r["raw_success_rate"]})
    df = pl.DataFrame(rows)
    low = min(0.8, float(df["rate"].min()))
    bars = alt.Chart(df).mark_bar().encode(
        y=alt.Y("tool:N", title=None, sort=list(tool_success)),
        yOffset=alt.YOffset("measure:N"),
        x=alt.X("rate:Q", title="success rate", scale=alt.Scale(domain=[low, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("measure:N", title=None, scale=alt.Scale(range=["#1f5f99", "#9cc3e6"]),
                        legend=alt.Legend(orient="bottom")),
    )
    layers = [bars]
    if threshold is not None:
        rule = alt.Chart(pl.DataFrame({"t": [threshold]})).mark_rule(color="#c0392b", strokeDash=[4, 3]).encode(
            x="t:Q")
        layers.append(rule)
    return _base(alt.layer(*layers).properties(width=WIDTH, title="Tool success rate per tool"))


def pii_by_field(by_field: list[dict]) -> alt.Chart | None:
    """Share of stored records per field that leak personal data or secrets."""
    if not by_field:
        return None
    df = pl.DataFrame(by_field).select("field", "leak_rate", "records_with_leak")
    chart = alt.Chart(df).mark_bar(color="#c0392b").encode(
        y=alt.Y("field:N", title=None, sort="-x"),
        x=alt.X("leak_rate:Q", title="records with a leak", axis=alt.Axis(format=".1%")),
    )
    return _base(chart.properties(width=WIDTH, title="PII and secret leaks in stored logs, per field"))


def to_svg(chart: alt.Chart | None) -> str | None:
    """The chart as an SVG document string (rendered offline), or None."""
    if chart is None:
        return None
    return vlc.vegalite_to_svg(chart.to_dict())
