"""Charts for the operator notebook: pure functions from ``Explorer`` frames to Altair charts.

They render in JupyterLab as HTML driven by Vega-Embed, so selections work: a brush on the latency
histogram filters the table of sessions beside it, and a click on a tool shows its failure categories. The
frames come from ``Explorer``, already masked, and Vega draws every string as text.

Call ``enable_safe_rendering()`` once (the explore notebook does). It switches Altair to this module's
renderer, ``offline_html``, which differs from Altair's HTML renderer in two ways:

- **No network.** Altair's renderer loads Vega-Embed from a CDN, which a machine without internet cannot
  reach. Each chart output here carries the Vega-Embed bundle that vl-convert (already a dependency) ships,
  about 1 MB, and runs it only when the page has no Vega-Embed yet. Everything sits inside one function,
  so several charts in one notebook page, or a cell run twice, do not collide (Altair's own ``inline``
  template is a standalone page whose top-level names clash on a second chart).
- **Escaped data.** The chart's data is JSON inside a ``<script>`` element, so a trace text containing
  ``</script>`` would end that element early and inject markup. ``HtmlSafeJSON`` writes ``<``, ``>`` and
  ``&`` as ``\\u003c`` and so on, which leaves every value unchanged.

(The offline leadership report has its own static charts in ``report/charts.py``.)
"""

from __future__ import annotations

import json
import uuid
from functools import cache

import altair as alt
import polars as pl

FONT = "Helvetica, Arial, sans-serif"
WIDTH = 640
ROW_PX = 18  # waterfall row height
TOOLTIP_CHARS = 240  # text shown in a tooltip (already masked), cut to this length
STATE_COLORS = {"ok": "#4c78a8", "failed": "#c0392b", "orphan": "#e69f00", "evidence": "#7a2e8e"}
LATENCY_CLIP = 0.99  # the histogram's last bar holds the sessions above this quantile
OUTCOME_COLORS = {"success": "#4c956c", "escalated": "#e69f00", "failure": "#c0392b", "(none)": "#9e9e9e"}


class HtmlSafeJSON(json.JSONEncoder):
    """JSON that is also safe inside an HTML ``<script>`` element: ``<``, ``>`` and ``&`` are written as
    ``\\u003c``, ``\\u003e``, ``\\u0026`` (they only occur inside strings, whose values stay the same)."""

    def encode(self, o) -> str:
        return super().encode(o).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


RENDERER = "agentops_offline"
_OUTPUT = """<div id="{div}" class="agentops-chart"></div>
<script type="text/javascript">
(function () {{
  if (typeof window.vegaEmbed !== "function") {{
    (function () {{
{bundle}
    }})();
  }}
  window.vegaEmbed("#{div}", {spec}, {options}).catch(console.error);
}})();
</script>"""


@cache
def _vega_embed_bundle() -> str:
    """vl-convert's Vega-Embed bundle for Altair's Vega-Lite version (it sets ``window.vegaEmbed``)."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    bundle = vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())
    return bundle.replace("</script", "<\\/script")  # cannot end the element early (absent today)


def offline_html(spec: dict, **metadata) -> dict[str, str]:
    """Altair renderer: the chart as an HTML fragment that needs no network (see the module docstring)."""
    options = {"mode": "vega-lite", "actions": False, **(metadata.get("embed_options") or {})}
    return {
        "text/html": _OUTPUT.format(
            div=f"agentops-chart-{uuid.uuid4().hex}",
            bundle=_vega_embed_bundle(),
            spec=json.dumps(spec, cls=HtmlSafeJSON),
            options=json.dumps(options, cls=HtmlSafeJSON),
        )
    }


def enable_safe_rendering() -> None:
    """Render Altair charts with ``offline_html``: no CDN, so they draw without internet, and chart data
    escaped for its ``<script>`` element. Global to the Altair session; call it once."""
    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, offline_html)
    alt.renderers.enable(RENDERER)


def _cut(col: str, n: int = TOOLTIP_CHARS) -> pl.Expr:
    text = pl.col(col).cast(pl.String)
    return pl.when(text.str.len_chars() > n).then(text.str.slice(0, n) + "…").otherwise(text).alias(col)


def _config(chart):
    return chart.configure(font=FONT).configure_view(strokeWidth=0).configure_axis(labelLimit=360)


def waterfall(spans: pl.DataFrame, title: str | None = None) -> alt.Chart:
    """A Gantt chart of one trace or session (``Explorer.trace``): one bar per span from its start to its
    end, in tree order, indented by depth; purple where the item's evidence points (``trace(...,
    evidence=...)``: the span holding a PII finding, say), red when the span failed (status or, for a tool
    call, its payload), amber for an orphan whose parent was never exported. Tooltips show the span's type,
    tool, model, status, duration, tokens, cost, error, the evidence note and (cut) arguments and result."""
    if spans.is_empty():
        raise ValueError("no spans to draw: check the trace or session id")
    if "evidence" not in spans.columns:
        spans = spans.with_columns(evidence=pl.lit(False), evidence_note=pl.lit(None, dtype=pl.String))
    depth_pad = pl.concat_str([pl.lit("\u00b7 ").repeat_by(pl.col("depth")).list.join(""), pl.col("name")])
    df = spans.with_columns(
        pl.format("{} {}", (pl.col("order") + 1).cast(pl.String).str.pad_start(3, " "), depth_pad).alias("label"),
        pl.when(pl.col("evidence"))
        .then(pl.lit("evidence"))
        .when(pl.col("failed"))
        .then(pl.lit("failed"))
        .when(pl.col("orphan"))
        .then(pl.lit("orphan"))
        .otherwise(pl.lit("ok"))
        .alias("state"),
        (pl.col("input_tokens").fill_null(0) + pl.col("output_tokens").fill_null(0)).alias("tokens"),
        *[_cut(c) for c in ("arguments", "result", "status_message")],
    ).select(
        "label",
        "order",
        "depth",
        "name",
        "span_type",
        "tool",
        "model",
        "status_code",
        "state",
        "start_ms",
        "end_ms",
        "duration_ms",
        "input_tokens",
        "output_tokens",
        "tokens",
        "cost_usd",
        "error_type",
        "status_message",
        "evidence_note",
        "arguments",
        "result",
        "span_id",
    )
    session = spans["session_id"][0]
    marked = df.filter(pl.col("state") == "evidence")
    where = (
        f"; evidence on span {', '.join(str(o + 1) for o in marked['order'].to_list()[:5])} "
        f"({'; '.join(marked['evidence_note'].unique(maintain_order=True).to_list()[:2])})"
        if marked.height
        else ""
    )
    states = [s for s in STATE_COLORS if s in set(df["state"].to_list())] or ["ok"]
    chart = (
        alt.Chart(df)
        .mark_bar(cornerRadius=2)
        .encode(
            y=alt.Y(
                "label:N",
                title=None,
                sort=alt.EncodingSortField("order", order="ascending"),
                axis=alt.Axis(labelFont="monospace", labelFontSize=11),
            ),
            x=alt.X("start_ms:Q", title="milliseconds from the first span"),
            x2="end_ms:Q",
            color=alt.Color(
                "state:N", title="state", scale=alt.Scale(domain=states, range=[STATE_COLORS[s] for s in states])
            ),
            tooltip=[
                alt.Tooltip("name:N"),
                alt.Tooltip("span_type:N", title="type"),
                alt.Tooltip("tool:N"),
                alt.Tooltip("model:N"),
                alt.Tooltip("status_code:N", title="status"),
                alt.Tooltip("duration_ms:Q", title="duration ms", format=",.1f"),
                alt.Tooltip("start_ms:Q", title="starts at ms", format=",.1f"),
                alt.Tooltip("input_tokens:Q", title="input tokens", format=","),
                alt.Tooltip("output_tokens:Q", title="output tokens", format=","),
                alt.Tooltip("cost_usd:Q", title="cost USD", format="$.5f"),
                alt.Tooltip("error_type:N", title="error"),
                alt.Tooltip("status_message:N", title="message"),
                alt.Tooltip("evidence_note:N", title="evidence"),
                alt.Tooltip("arguments:N"),
                alt.Tooltip("result:N"),
                alt.Tooltip("span_id:N", title="span"),
            ],
        )
        .properties(
            width=WIDTH,
            height=max(ROW_PX * df.height, 60),
            title=title or f"Session {session}: {df.height} spans{where}",
        )
    )
    return _config(chart)


def latency_sessions(
    sessions: pl.DataFrame, table_rows: int = 15, max_rows: int = 5000, seed: int = 0
) -> alt.VConcatChart:
    """The distribution of session latency (``Explorer.sessions``), stacked by outcome, over a table of
    the slowest sessions; brushing a range of the histogram filters the table to it. The histogram ends at
    the 99th percentile (``LATENCY_CLIP``): the few slower sessions sit in its last bar (the title says how
    many from what), so one runaway session does not squeeze all others into one bar; the table shows
    their real latency. Above ``max_rows`` sessions a seeded uniform sample is drawn (the title says so)."""
    if sessions.is_empty():
        raise ValueError("no sessions to draw")
    total = sessions.height
    df = sessions if total <= max_rows else sessions.sample(max_rows, seed=seed)
    df = df.select(
        "session_id",
        "workflow",
        pl.col("outcome").fill_null("(none)"),
        "week",
        "tools",
        (pl.col("duration_ms") / 1000).alias("duration_s"),
        "tool_calls",
        "failed_tool_calls",
        "tokens",
    )
    sampled = f" (sample of {df.height} of {total})" if df.height < total else ""
    cap = df["duration_s"].quantile(LATENCY_CLIP, interpolation="higher")
    over = df.filter(pl.col("duration_s") > cap).height if cap is not None else 0
    df = df.with_columns(shown_s=pl.min_horizontal("duration_s", pl.lit(cap)) if over else pl.col("duration_s"))
    clipped = (
        f"; the last bar also holds {over} slower session{'s' if over != 1 else ''} (up to "
        f"{df['duration_s'].max():,.0f} s)"
        if over
        else ""
    )
    brush = alt.selection_interval(encodings=["x"], name="latency")
    outcomes = [o for o in OUTCOME_COLORS if o in set(df["outcome"].to_list())] or list(OUTCOME_COLORS)
    hist = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("shown_s:Q", bin=alt.Bin(maxbins=40), title="session latency (s)"),
            y=alt.Y("count():Q", title="sessions"),
            color=alt.Color("outcome:N", scale=alt.Scale(domain=outcomes, range=[OUTCOME_COLORS[o] for o in outcomes])),
            tooltip=[alt.Tooltip("count():Q", title="sessions")],
        )
        .add_params(brush)
        .properties(width=WIDTH, height=180, title=f"Session latency{sampled}{clipped}: drag to select a range")
    )
    ranked = (
        alt.Chart(df)
        .transform_filter(brush)
        .transform_window(
            rank="row_number()",
            sort=[alt.SortField("duration_s", order="descending")],
        )
        .transform_filter(alt.datum.rank <= table_rows)
    )
    columns = [
        ("session_id", "session", 150),
        ("workflow", "workflow", 130),
        ("outcome", "outcome", 80),
        ("duration_s", "latency s", 70),
        ("failed_tool_calls", "failed calls", 80),
        ("tools", "tools", 200),
    ]
    cells = [
        ranked.mark_text(align="left", baseline="middle", limit=width - 6)
        .encode(
            x=alt.value(0),  # from the cell's left edge, under its title (the default is the cell's middle)
            y=alt.Y("rank:O", axis=None),
            text=alt.Text(
                f"{field}:{'Q' if field == 'duration_s' else 'N'}",
                **({"format": ",.2f"} if field == "duration_s" else {}),
            ),
        )
        .properties(width=width, title=alt.TitleParams(label, anchor="start", fontSize=11))
        for field, label, width in columns
    ]
    table = alt.hconcat(*cells, spacing=4).properties(title=f"Slowest sessions in the selection (top {table_rows})")
    return _config(alt.vconcat(hist, table))


def tool_failures(failures: pl.DataFrame) -> alt.HConcatChart:
    """Failed logical tool calls per tool (``Explorer.failures``, kind ``tool_call``), split into recovered
    by a retry or not; clicking a tool shows its failure categories (error type, or ``error payload``) on
    the right, for all tools when nothing is selected."""
    df = failures.filter(pl.col("kind") == "tool_call") if "kind" in failures.columns else failures
    if df.is_empty():
        raise ValueError("no failed tool calls to draw")
    df = df.select(
        pl.col("name").alias("tool"),
        pl.col("category").fill_null("(none)"),
        pl.when(pl.col("recovered"))
        .then(pl.lit("recovered by a retry"))
        .otherwise(pl.lit("failed after retries"))
        .alias("result"),
        "session_id",
    )
    click = alt.selection_point(fields=["tool"], name="tool_pick", empty=True)
    result_scale = alt.Scale(domain=["failed after retries", "recovered by a retry"], range=["#c0392b", "#f0b27a"])
    tools = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("tool:N", title=None, sort="-x"),
            x=alt.X("count():Q", title="failed logical calls"),
            color=alt.Color("result:N", title=None, scale=result_scale, legend=alt.Legend(orient="bottom")),
            opacity=alt.condition(click, alt.value(1.0), alt.value(0.35)),
            tooltip=[alt.Tooltip("tool:N"), alt.Tooltip("result:N"), alt.Tooltip("count():Q", title="calls")],
        )
        .add_params(click)
        .properties(width=300, title="Failed tool calls: click a tool")
    )
    categories = (
        alt.Chart(df)
        .transform_filter(click)
        .mark_bar()
        .encode(
            y=alt.Y("category:N", title=None, sort="-x"),
            x=alt.X("count():Q", title="failed logical calls"),
            color=alt.Color("result:N", title=None, scale=result_scale),
            tooltip=[alt.Tooltip("tool:N"), alt.Tooltip("category:N"), alt.Tooltip("count():Q", title="calls")],
        )
        .properties(width=300, title="Failure categories of the selected tool")
    )
    return _config(alt.hconcat(tools, categories))
