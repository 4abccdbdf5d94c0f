"""The explore notebook's charts in a real browser, offline: Debian's headless Chromium (see
``test_report_browser``). The charts' HTML outputs, as JupyterLab receives them with
``enable_safe_rendering``, are opened from a file, alone and together in one page (as a notebook shows them,
one chart twice as when a cell runs again): each must draw, the page must request nothing beyond the file
itself, and the hostile trace text must stay inert. A request would fail on a machine without internet,
which is where operators often run."""

from __future__ import annotations

import altair as alt
import pytest
from test_report_browser import browser, open_report  # noqa: F401  (fixtures)

from agentops_audit.explore import Explorer, charts


@pytest.fixture(scope="module")
def outputs(demo) -> dict[str, str]:
    """The text/html output of each notebook chart for the demo database (the waterfall twice)."""
    ex = Explorer(demo["db"])
    hostile = demo["truth"]["hostile_span"]
    session = ex.tool_calls().filter(ex.tool_calls()["span_id"] == hostile)["session_id"][0]
    made = {
        "waterfall": charts.waterfall(ex.trace(session_id=session)),
        "latency_sessions": charts.latency_sessions(ex.sessions()),
        "tool_failures": charts.tool_failures(ex.failures()),
    }
    made["waterfall_again"] = made["waterfall"]
    previous = alt.renderers.active
    charts.enable_safe_rendering()
    try:
        bundles = {name: chart._repr_mimebundle_() for name, chart in made.items()}
    finally:
        alt.renderers.enable(previous)
    return {name: (b[0] if isinstance(b, tuple) else b)["text/html"] for name, b in bundles.items()}


def _assert_offline_page(opened, path, charts_expected: int) -> None:
    page = opened.page
    page.wait_for_function(
        f"document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= {charts_expected}", timeout=30_000
    )
    sizes = page.evaluate("""() => [...document.querySelectorAll('.agentops-chart')].map(div => {
        const el = div.querySelector('canvas, svg'); const r = el ? el.getBoundingClientRect() : null;
        return r ? [r.width, r.height] : [0, 0]; })""")
    assert len(sizes) == charts_expected
    assert all(w > 200 and h > 100 for w, h in sizes), sizes
    assert opened.requests == [path.resolve().as_uri()], opened.requests
    assert [m for m in opened.console if m.startswith(("error", "pageerror"))] == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0


@pytest.mark.parametrize("name", ["waterfall", "latency_sessions", "tool_failures"])
def test_chart_draws_offline(outputs, open_report, tmp_path, name):  # noqa: F811
    path = tmp_path / f"{name}.html"
    path.write_text(outputs[name], encoding="utf-8")
    _assert_offline_page(open_report(path), path, 1)


def test_charts_draw_together_in_one_page(outputs, open_report, tmp_path):  # noqa: F811
    """Every chart output in one page, in notebook order and with the waterfall again at the end."""
    path = tmp_path / "notebook.html"
    path.write_text("\n".join(outputs.values()), encoding="utf-8")
    _assert_offline_page(open_report(path), path, len(outputs))
