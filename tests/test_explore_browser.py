"""The explore notebook's charts in a real browser, offline: Debian's headless Chromium (see
``test_report_browser``). Each chart's HTML output, as JupyterLab receives it with ``enable_safe_rendering``,
is opened from a file; it must draw its chart, request nothing beyond the file itself and keep the hostile
trace text inert. A request would fail on a machine without internet, which is where operators often run."""

from __future__ import annotations

import altair as alt
import pytest
from test_report_browser import browser, open_report  # noqa: F401  (fixtures)

from agentops_audit import explore_charts as charts
from agentops_audit.explore import Explorer


@pytest.fixture(scope="module")
def outputs(demo) -> dict[str, str]:
    """The text/html output of each notebook chart for the demo database."""
    ex = Explorer(demo["db"])
    hostile = demo["truth"]["hostile_span"]
    session = ex.tool_calls().filter(ex.tool_calls()["span_id"] == hostile)["session_id"][0]
    made = {
        "waterfall": charts.waterfall(ex.trace(session_id=session)),
        "latency_sessions": charts.latency_sessions(ex.sessions()),
        "tool_failures": charts.tool_failures(ex.failures()),
    }
    previous = alt.renderers.active
    charts.enable_safe_rendering()
    try:
        bundles = {name: chart._repr_mimebundle_() for name, chart in made.items()}
    finally:
        alt.renderers.enable(previous)
    return {name: (b[0] if isinstance(b, tuple) else b)["text/html"] for name, b in bundles.items()}


@pytest.mark.parametrize("name", ["waterfall", "latency_sessions", "tool_failures"])
def test_chart_draws_offline(outputs, open_report, tmp_path, name):  # noqa: F811
    path = tmp_path / f"{name}.html"
    path.write_text(outputs[name], encoding="utf-8")
    opened = open_report(path)
    page = opened.page
    page.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=20_000)
    size = page.evaluate("""() => { const el = document.querySelector('.vega-embed canvas, .vega-embed svg');
        const r = el.getBoundingClientRect(); return [r.width, r.height]; }""")
    assert size[0] > 200 and size[1] > 100, size
    assert opened.requests == [path.resolve().as_uri()], opened.requests
    assert [m for m in opened.console if m.startswith(("error", "pageerror"))] == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
