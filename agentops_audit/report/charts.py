"""Charts for the report: pure functions from audit-document parts to Altair charts, and SVG rendering.

Each chart function takes the plain lists or dicts that ``audit.json`` holds and returns an Altair chart,
or None when there is nothing to draw (the report then shows a "No data" panel, never an empty chart).
Charts are rendered to SVG by vl-convert at build time, so the report needs no JavaScript and makes no
network request when opened. A chart's plot is ``WIDTH`` wide (a trend chart ``TREND_WIDTH``), so with its
labels it stays under about 720 px; the report scales the SVG to the width of its column, of a phone
screen or of the printed page.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import vl_convert as vlc

WIDTH = 330
FONT = "Helvetica, Arial, sans-serif"
INK, MUTED = "#1d2430", "#5b6470"
DARK, LIGHT, ACCENT = "#1f5f99", "#9cc3e6", "#e08a2c"
PASS, WARN, FAIL = "#1e7b34", "#b7791f", "#b42318"
DECISION_COLORS = {"allow": PASS, "require_approval": WARN, "deny": FAIL}


def _bar_height(n: int) -> int:
    return max(60, 26 * n)


def _finish(chart, title: str | None = None):
    """Common look: one font, no frame, readable labels, no chart title (the report's panel has it)."""
    if title:
        chart = chart.properties(title=alt.TitleParams(title, anchor="start", fontSize=13, color=INK))
    return (
        chart.configure(font=FONT, background="white")
        .configure_view(strokeWidth=0)
        .configure_axis(
            labelLimit=150,
            labelColor=INK,
            titleColor=MUTED,
            titleFontWeight="normal",
            gridColor="#eef1f4",
            domainColor="#c9d0d8",
            tickColor="#c9d0d8",
        )
        .configure_legend(orient="bottom", title=None, labelColor=INK, symbolType="square")
    )


def _rule(value: float, scale: alt.Scale | None = None):
    """A dashed red vertical line at a go/no-go threshold."""
    x = alt.X("t:Q", scale=scale) if scale is not None else alt.X("t:Q")
    return alt.Chart(pl.DataFrame({"t": [value]})).mark_rule(color=FAIL, strokeDash=[4, 3], size=1.5).encode(x=x)


def tool_success(tool_success: dict, threshold: float | None) -> alt.Chart | None:
    """Per-tool success rate after retries (filled dot, labelled) and per raw attempt (hollow dot).

    A dot plot on a zoomed axis: rates near 100% differ by tenths of a percent, which bars from zero hide.
    Tools under ``threshold`` are red; the threshold is a dashed line.
    """
    if not tool_success:
        return None
    rows = []
    for tool, r in tool_success.items():
        after, raw = r.get("success_rate_after_retries"), r.get("raw_success_rate")
        if after is None:
            continue
        rows.append(
            {
                "tool": str(tool),
                "after": float(after),
                "raw": float(raw if raw is not None else after),
                "label": f"{after:.1%}",
                "ok": "meets" if threshold is None or after > threshold else "below",
            }
        )
    if not rows:
        return None
    df = pl.DataFrame(rows).sort("after")
    low = min([0.9, *(df["raw"].to_list()), *(df["after"].to_list())] + ([threshold] if threshold else []))
    low = max(0.0, int(low * 20) / 20)  # down to a 5% step
    scale = alt.Scale(domain=[low, 1], clamp=True, zero=False)
    y = alt.Y("tool:N", title=None, sort=df["tool"].to_list())
    x_after = alt.X("after:Q", title="success rate", scale=scale, axis=alt.Axis(format="%", tickCount=5))
    x_raw = alt.X("raw:Q", scale=scale)
    color = alt.Color("ok:N", scale=alt.Scale(domain=["meets", "below"], range=[DARK, FAIL]), legend=None)
    base = alt.Chart(df)
    link = base.mark_rule(color="#c9d0d8").encode(y=y, x=x_raw, x2="after")
    raw = base.mark_point(shape="circle", size=60, filled=False, color=MUTED).encode(y=y, x=x_raw)
    after = base.mark_circle(size=90, opacity=1).encode(y=y, x=x_after, color=color)
    # the after-retries rate as a column of labels right of the plot
    label = base.mark_text(align="left", dx=10, fontSize=10).encode(
        y=y, x=alt.datum(1, scale=scale), text="label:N", color=color
    )
    layers = [link, raw, after, label]
    if threshold is not None:
        layers.insert(0, _rule(threshold, scale=scale))
    chart = alt.layer(*layers).properties(width=WIDTH, height=_bar_height(len(df)))
    return _finish(chart)


def _labelled_bars(
    df: pl.DataFrame, name: str, value: str, title: str, color: str, fmt: str | None = None
) -> alt.Chart:
    """Horizontal bars, one per row of ``df``: ``name`` down the side, ``value`` along (axis ``title``, ticks
    in format ``fmt``, from 0), sorted largest first, each with its ``label`` column written after it."""
    y = alt.Y(f"{name}:N", title=None, sort="-x")
    axis = alt.Axis(format=fmt, tickCount=4) if fmt else alt.Undefined
    x = alt.X(f"{value}:Q", title=title, axis=axis, scale=alt.Scale(domainMin=0, nice=True))
    bars = alt.Chart(df).mark_bar(color=color, height=14).encode(y=y, x=x)
    text = alt.Chart(df).mark_text(align="left", dx=4, fontSize=10, color=INK).encode(y=y, x=x, text="label:N")
    return _finish((bars + text).properties(width=WIDTH, height=_bar_height(len(df))))


def pii_by_field(by_field: list[dict]) -> alt.Chart | None:
    """Share of stored records per field that leak personal data or secrets, labelled with the counts."""
    if not by_field:
        return None
    df = (
        pl.DataFrame(by_field)
        .select("field", "leak_rate", "records_with_leak", "records_scanned")
        .with_columns(label=pl.format("{} of {}", pl.col("records_with_leak"), pl.col("records_scanned")))
    )
    return _labelled_bars(df, "field", "leak_rate", "stored records with a leak", FAIL, ".1%")


def _grouped(
    rows: list[dict],
    key: str,
    measures: dict[str, str],
    axis_title: str,
    fmt: str,
    colors: list[str],
    threshold: float | None = None,
    axis_fmt: str | None = None,
) -> alt.Chart | None:
    """Horizontal bars per ``key``, one bar per measure (column -> legend label), each labelled with ``fmt``."""
    long = [
        {key: str(r[key]), "measure": label, "value": float(r[col])}
        for r in rows
        for col, label in measures.items()
        if r.get(col) is not None
    ]
    if not long:
        return None
    df = pl.DataFrame(long)
    order = list(measures.values())
    y = alt.Y(f"{key}:N", title=None)
    x = alt.X(
        "value:Q",
        title=axis_title,
        axis=alt.Axis(format=axis_fmt or fmt, tickCount=4, labelOverlap=True),
        scale=alt.Scale(domainMin=0, nice=True),
    )
    enc = {"y": y, "x": x, "yOffset": alt.YOffset("measure:N", sort=order)}
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            color=alt.Color("measure:N", sort=order, scale=alt.Scale(domain=order, range=colors[: len(order)])), **enc
        )
    )
    text = (
        alt.Chart(df)
        .mark_text(align="left", dx=3, fontSize=9, color=INK)
        .encode(text=alt.Text("value:Q", format=fmt), **enc)
    )
    layers = [bars, text] + ([_rule(threshold)] if threshold is not None else [])
    groups = df[key].n_unique()
    return _finish(alt.layer(*layers).properties(width=WIDTH, height=max(60, groups * (12 * len(order) + 10))))


def budget_in_view(rows: list[dict], budget: float | None) -> bool:
    """Whether the budget line fits the cost chart: not more than twice its largest cost."""
    costs = [r.get(k) for r in rows for k in ("p50_usd", "p95_usd", "p50_successful_usd") if r.get(k) is not None]
    return budget is not None and bool(costs) and budget <= 2 * max(costs)


def cost_per_task(rows: list[dict], budget: float | None = None) -> alt.Chart | None:
    """Cost per task per workflow: P50, P95 and P50 of successful tasks (USD).

    The budget per successful task is a dashed line when it is in view (``budget_in_view``); a budget far
    above every cost would squash the bars, so the report states it in words instead.
    """
    if not rows:
        return None
    costs = [r.get(k) or 0 for r in rows for k in ("p50_usd", "p95_usd", "p50_successful_usd")]
    fmt = "$.4f" if max(costs) < 0.1 else "$.3f" if max(costs) < 10 else "$,.0f"
    return _grouped(
        rows,
        "workflow",
        {"p50_usd": "P50", "p95_usd": "P95", "p50_successful_usd": "P50 of successful tasks"},
        "USD per task",
        fmt,
        [DARK, LIGHT, ACCENT],
        budget if budget_in_view(rows, budget) else None,
        axis_fmt="$.3~f",
    )


def latency_per_step(rows: list[dict]) -> alt.Chart | None:
    """Latency per step: P50 and P95 milliseconds per step kind, slowest P95 first."""
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: -(r.get("p95_ms") or 0))
    return _grouped(rows, "step", {"p50_ms": "P50", "p95_ms": "P95"}, "milliseconds", ",.0f", [DARK, LIGHT])


def tokens_per_task(rows: list[dict]) -> alt.Chart | None:
    """Tokens per task per workflow: P50, mean and P95."""
    if not rows:
        return None
    return _grouped(
        rows, "workflow", {"p50": "P50", "mean": "mean", "p95": "P95"}, "tokens per task", ",.0f", [DARK, ACCENT, LIGHT]
    )


def escalation(rows: list[dict]) -> alt.Chart | None:
    """Share of sessions handed to a person, per workflow, labelled "rate (escalated of sessions)"."""
    if not rows:
        return None
    df = pl.DataFrame(
        [
            {
                "workflow": str(r["workflow"]),
                "rate": float(r["rate"]),
                "label": f"{r['rate']:.1%} ({r['escalated']:,} of {r['sessions']:,})",
            }
            for r in rows
            if r.get("rate") is not None
        ]
    )
    if df.is_empty():
        return None
    return _labelled_bars(df, "workflow", "rate", "sessions escalated to a person", DARK, "%")


def policy_decisions(rows: list[dict]) -> alt.Chart | None:
    """Policy decisions per rule, stacked by decision (allow, require_approval, deny, others)."""
    if not rows:
        return None
    df = pl.DataFrame(
        [{"rule": str(r["rule"]), "decision": str(r["decision"]), "count": int(r["count"])} for r in rows]
    )
    decisions = list(DECISION_COLORS) + sorted(set(df["decision"]) - set(DECISION_COLORS))
    df = df.with_columns(rank=pl.col("decision").replace_strict(decisions, list(range(len(decisions)))))
    palette = list(DECISION_COLORS.values()) + ["#7a2e8e", "#9aa3ad", "#3b8ea5", "#6b4f2a"]
    totals = df.group_by("rule").agg(pl.col("count").sum().alias("total"))
    y = alt.Y("rule:N", title=None, sort="-x")
    bars = (
        alt.Chart(df)
        .mark_bar(height=14)
        .encode(
            y=y,
            x=alt.X("sum(count):Q", title="decisions"),
            color=alt.Color("decision:N", scale=alt.Scale(domain=decisions, range=palette[: len(decisions)])),
            order=alt.Order("rank:Q"),
        )
    )
    text = (
        alt.Chart(totals)
        .mark_text(align="left", dx=4, fontSize=10, color=INK)
        .encode(
            y=alt.Y("rule:N", sort=alt.EncodingSortField("total", order="descending")),
            x="total:Q",
            text=alt.Text("total:Q", format=","),
        )
    )
    return _finish((bars + text).properties(width=WIDTH, height=_bar_height(totals.height)))


def failure_reasons(rows: list[dict]) -> alt.Chart | None:
    """Failed sessions per failure reason, most frequent first, labelled with their share of failures."""
    if not rows:
        return None
    df = pl.DataFrame(
        [
            {
                "category": str(r["category"] or "uncategorised"),
                "sessions": int(r["sessions"]),
                "label": f"{r['sessions']:,} ({r['share']:.0%})",
            }
            for r in rows
        ]
    )
    return _labelled_bars(df, "category", "sessions", "failed sessions", FAIL)


# how each trend series is shown: its unit (ratios as percentages) and the Vega format of its axis
TREND_FORMATS = {"ratio": ".1~%", "usd": "$.4~f", "count": ",.0f"}
TREND_UNITS = {
    "trace_coverage": "ratio",
    "tool_success_min": "ratio",
    "policy_violation_rate": "ratio",
    "releases_with_eval_run": "ratio",
    "cost_per_task_p95": "usd",
    "cost_per_task": "usd",
    "tokens_per_task": "count",
}
TREND_WIDTH, TREND_HEIGHT = 250, 100


def week_labels(weeks: list[str]) -> dict[str, str]:
    """Short axis labels: ``W41`` (with the year, ``2026-W52``, when the weeks span two years)."""
    years = {w.split("-W")[0] for w in weeks}
    return {w: (w if len(years) > 1 else "W" + w.split("-W")[-1]) for w in weeks}


def trend(rows: list[dict], label: str, unit: str, target: dict | None = None) -> alt.Chart | None:
    """One week-over-week series: a line with a dot per week, short week labels, percentages for ratios,
    the last value written beside its dot, and the target as a dashed red line (``target``: op, value)."""
    rows = [r for r in rows if r.get("value") is not None]
    if not rows:
        return None
    weeks = sorted({str(r["week"]) for r in rows})
    short = week_labels(weeks)
    df = pl.DataFrame([{"week": short[str(r["week"])], "value": float(r["value"])} for r in rows])
    fmt = TREND_FORMATS.get(unit, ",.4~r")
    x = alt.X("week:O", title=None, sort=[short[w] for w in weeks], axis=alt.Axis(labelAngle=0, labelFontSize=10))
    y = alt.Y(
        "value:Q",
        title=None,
        scale=alt.Scale(zero=False, nice=True),
        axis=alt.Axis(tickCount=3, format=fmt, labelFontSize=10),
    )
    base = alt.Chart(df).encode(x=x, y=y)
    layers = [
        base.mark_line(color=DARK),
        base.mark_point(color=DARK, filled=True, size=28),
        alt.Chart(df.tail(1))
        .mark_text(align="left", dx=6, fontSize=10, color=INK)
        .encode(x=x, y=y, text=alt.Text("value:Q", format=fmt)),
    ]
    subtitle = None
    if target is not None:
        layers.insert(
            0,
            alt.Chart(pl.DataFrame({"value": [float(target["value"])]}))
            .mark_rule(color=FAIL, strokeDash=[4, 3], size=1.5)
            .encode(y=alt.Y("value:Q")),
        )
        shown = format_value(float(target["value"]), unit)
        subtitle = f"dashed line: target {target.get('shown') or shown}"
    sub = {"subtitle": subtitle, "subtitleFontSize": 10, "subtitleColor": MUTED} if subtitle else {}
    title = alt.TitleParams(label, anchor="start", fontSize=12, color=INK, fontWeight="normal", **sub)
    return _finish(alt.layer(*layers).properties(width=TREND_WIDTH, height=TREND_HEIGHT, title=title))


def format_value(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value * 100:.4g}%"
    if unit == "usd":
        return f"${value:,.4g}"
    return f"{value:,.0f}"


def trends(rows: list[dict], targets: dict[str, dict] | None = None) -> list[tuple[str, alt.Chart]]:
    """Week-over-week small multiples, one chart per metric (``key``), each with its own scale; ``targets``
    maps a metric key to its go/no-go threshold ({op, value, shown}) drawn as a line."""
    rows = [r for r in rows or [] if r.get("value") is not None]
    out = []
    for key in dict.fromkeys(str(r.get("key") or r["metric"]) for r in rows):
        part = [r for r in rows if str(r.get("key") or r["metric"]) == key]
        chart = trend(part, str(part[0]["metric"]), TREND_UNITS.get(key, ""), (targets or {}).get(key))
        if chart is not None:
            out.append((key, chart))
    return out


def to_svg(chart: alt.Chart | None) -> str | None:
    """The chart as an SVG document string (rendered offline), or None."""
    if chart is None:
        return None
    return vlc.vegalite_to_svg(chart.to_dict())
