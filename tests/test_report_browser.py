"""The report in a real browser: Debian's headless Chromium, driven by Playwright (``executable_path``).

Playwright's own browser download is not used. Pages open with ``bypass_csp=True``, so what is checked is
the markup itself, not the Content-Security-Policy hiding a load or a script. The tests skip, with the
reason, when Chromium or the ``playwright`` package is missing.

Set ``AGENTOPS_UPDATE_SCREENSHOT=1`` to refresh ``docs/report.png`` (the README's picture) from the
multi-week demo that ``make audit`` writes.
"""

from __future__ import annotations

import html as htmllib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from report_samples import XSS, hostile_doc, with_dashboards

from agentops_audit import cli, report
from agentops_audit.report import pdf

DOCS_PNG = Path(__file__).resolve().parents[1] / "docs" / "report.png"
FIRST_SCREEN = {"width": 1200, "height": 1000}
SCREENSHOT = {"width": 1280, "height": 1000}  # docs/report.png: the first screen of `make audit`'s report
# a phone held upright (390 CSS px, e.g. iPhone 12-15) and a laptop
SCREENS = {"phone-390": {"width": 390, "height": 844}, "laptop-1280": {"width": 1280, "height": 800}}
# printable width in CSS px (96 px per inch) at 12 mm margins: A4 is 210 mm wide, Letter 8.5 in
PRINT_WIDTHS = {"A4": round((210 - 24) / 25.4 * 96), "Letter": round((8.5 * 25.4 - 24) / 25.4 * 96)}


def _chromium() -> str | None:
    try:
        return pdf.find_chromium()
    except pdf.PdfError:
        return None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    exe = _chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=list(pdf.FLAGS))
        yield b
        b.close()


@dataclass
class Opened:
    page: object
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


@pytest.fixture()
def open_report(browser):
    contexts = []

    def _open(path: Path, viewport: dict | None = None, media: str = "screen") -> Opened:
        ctx = browser.new_context(viewport=viewport or FIRST_SCREEN, bypass_csp=True)
        contexts.append(ctx)
        page = ctx.new_page()
        opened = Opened(page)
        page.on("request", lambda r: opened.requests.append(r.url))
        page.on("console", lambda m: opened.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: opened.console.append(f"pageerror: {e}"))
        page.emulate_media(media=media)
        page.goto(path.resolve().as_uri(), wait_until="load")
        return opened

    yield _open
    for ctx in contexts:
        ctx.close()


def _write(doc: dict, tmp_path: Path, name: str) -> Path:
    return report.write(doc, tmp_path / name)


def _assert_offline(opened: Opened, path: Path):
    """The page made exactly one request, for itself, and printed nothing to the console."""
    assert all(url.startswith("file://") for url in opened.requests), opened.requests
    assert opened.requests == [path.resolve().as_uri()], opened.requests
    assert opened.console == []


def _assert_charts_drawn(page, expected: set[str]):
    boxes = page.eval_on_selector_all(
        ".chart",
        """els => els.map(el => {
        const svg = el.querySelector('svg'); const r = svg ? svg.getBoundingClientRect() : null;
        return {id: el.id, w: r ? r.width : 0, h: r ? r.height : 0,
                marks: svg ? svg.querySelectorAll('path, rect, line, circle, text').length : 0}; })""",
    )
    assert {b["id"] for b in boxes} == {f"chart-{k}" for k in expected}
    for b in boxes:
        assert b["w"] > 100 and b["h"] > 40 and b["marks"] > 5, b


def _assert_inert(page):
    """No injected code ran and no injected element or link exists in the DOM."""
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("document.scripts.length") == 0
    found = page.evaluate("""() => {
        const bad = [];
        for (const el of document.querySelectorAll('*')) {
            const tag = el.tagName.toLowerCase();
            if (['script', 'img', 'iframe', 'object', 'embed'].includes(tag)) bad.push(tag);
            for (const a of el.attributes) {
                if (a.name.startsWith('on') || a.value.trim().toLowerCase().startsWith('javascript:'))
                    bad.push(tag + '[' + a.name + '=' + a.value + ']');
            }
        }
        return bad; }""")
    assert found == []
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0


# ---- the demo report -------------------------------------------------------------------------------------


@pytest.fixture()
def demo_page(demo, open_report):
    path = demo["out"] / "readiness-report.html"
    return path, open_report(path)


def test_demo_report_makes_no_request(demo_page):
    path, opened = demo_page
    opened.page.wait_for_timeout(300)  # anything lazy would have started by now
    _assert_offline(opened, path)


def test_demo_first_screen(demo, demo_page):
    _, opened = demo_page
    page, doc = opened.page, demo["audit"]
    banner = page.locator("#verdict-banner")
    assert banner.is_visible() and banner.inner_text() == doc["verdict"]
    box = banner.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= FIRST_SCREEN["height"] and box["height"] > 40
    recommended = page.locator("#recommended-phase").inner_text()
    assert f"Phase {doc['recommended_phase'] or 0}" in recommended
    declared = page.locator("#declared-phase").inner_text()
    assert (f"Phase {doc['declared_phase']}" if doc["declared_phase"] else "Not declared") in declared
    rows = page.locator("#top-blockers tr")
    assert rows.count() == 1 + min(5, len(doc["blockers"]))
    for i, b in enumerate(doc["blockers"][:5], start=1):
        text = rows.nth(i).inner_text()
        assert b["title"] in text and f"Section {b['section']}, {b['section_title']}" in text
        assert b["display"] in text and (b["owner"] or "not assigned") in text
    assert page.locator("#scorecard .card").count() == len(doc["sections"]) == 7
    for element in ("#window", "#top-blockers", "#scorecard"):
        assert page.locator(element).bounding_box()["y"] < FIRST_SCREEN["height"], element
    window = page.locator("#window").inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d – \d{4}-\d\d-\d\d \d\d:\d\d UTC", window)
    assert f"{doc['metrics']['sessions']:,} sessions" in window


def test_demo_charts_render_and_missing_data_is_a_panel(demo, demo_page):
    _, opened = demo_page
    page = opened.page
    drawn = {d.key for d in report.DASHBOARDS if page.locator(f"#chart-{d.key}").count()}
    assert {"tool_success", "pii_by_field"} <= drawn
    _assert_charts_drawn(page, drawn | ({"trends"} if demo["audit"].get("trends") else set()))
    for d in report.DASHBOARDS:
        if d.key not in drawn:
            panel = page.locator(f"#nodata-{d.key}")
            assert panel.is_visible() and panel.inner_text().startswith("No data:")


def test_demo_screenshot(weekly_demo, open_report):
    opened = open_report(weekly_demo["out"] / "readiness-report.html", viewport=SCREENSHOT)
    shot = weekly_demo["out"] / "report.png"
    opened.page.screenshot(path=str(shot), clip={"x": 0, "y": 0, **SCREENSHOT})
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and 20_000 < len(data) < 500_000
    # the first screen holds the verdict, the next step and what changed this week
    for element in ("#verdict", "#next-step", "#alert-list"):
        box = opened.page.locator(element).bounding_box()
        assert box["y"] + box["height"] <= SCREENSHOT["height"], element
    if os.environ.get("AGENTOPS_UPDATE_SCREENSHOT") == "1":
        DOCS_PNG.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS_PNG)


# ---- a phone and a laptop ----------------------------------------------------------------------------------

_OUTSIDE = """(sel) => {
    // text of the element (and its descendants) drawn outside the element's box, with what sticks out
    const root = document.querySelector(sel), box = root.getBoundingClientRect(), bad = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const r of range.getClientRects()) {
            if (r.left < box.left - 0.5 || r.right > box.right + 0.5
                || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
                bad.push(node.textContent.trim().slice(0, 40) + ' @' + Math.round(r.left) + '..' + Math.round(r.right));
        }
    }
    return bad; }"""
_WIDER = """(width) => {
    // elements (outside charts) whose box reaches past the page width, and the page's scroll width
    const bad = [];
    for (const el of document.querySelectorAll('body *')) {
        if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.right > width + 1 || r.left < -1))
            bad.push(el.tagName + '#' + el.id + '.' + el.className + ':' + Math.round(r.right));
    }
    return {scroll: document.documentElement.scrollWidth, bad: bad.slice(0, 10)}; }"""


def _assert_readable(page, width: int) -> None:
    """Nothing scrolls sideways, the banner's text lies inside the red box, and neither phase card is clipped."""
    over = page.evaluate(_WIDER, width)
    assert over["scroll"] <= width and over["bad"] == [], over
    assert page.evaluate(_OUTSIDE, "#verdict") == []
    banner = page.locator("#verdict").bounding_box()
    for card in ("#recommended-phase", "#declared-phase"):
        box = page.locator(card).bounding_box()
        assert banner["x"] <= box["x"] and box["x"] + box["width"] <= banner["x"] + banner["width"] + 0.5, card
        assert box["y"] + box["height"] <= banner["y"] + banner["height"] + 0.5, card
        assert page.evaluate(_OUTSIDE, card) == [], card  # its words inside the card, none cut off
        assert page.locator(card).evaluate("el => el.scrollWidth <= el.clientWidth"), card


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_weekly_report_reads_on_a_phone_and_a_laptop(weekly_demo, open_report, screen):
    size = SCREENS[screen]
    path = weekly_demo["out"] / "readiness-report.html"
    opened = open_report(path, viewport=size)
    page, doc = opened.page, weekly_demo["audit"]
    _assert_readable(page, size["width"])
    text = page.locator("#verdict-text").inner_text()
    assert text == "At least one blocking or major item fails: do not expand the agent's autonomy."
    # what changed comes right after the verdict and the next step, before the blockers
    order = [page.locator(s).bounding_box()["y"] for s in ("#verdict", "#next-step", "#changes", "#top-blockers")]
    assert order == sorted(order)
    alerts = page.locator("#alert-list li")
    assert alerts.count() == len(doc["alerts"]) == 2
    assert "cost per task rose" in alerts.nth(0).inner_text() and "tokens per task rose" in alerts.nth(1).inner_text()
    next_step = page.locator("#next-step li")
    assert [next_step.nth(i).inner_text() for i in range(next_step.count())] == [
        next(it["title"] for s in doc["sections"] for it in s["items"] if it["id"] == i)
        for i in doc["next_phase_blockers"]
    ]
    # the trend charts are one small chart per metric, laid out to the screen
    panels = page.locator("#chart-trends > div")
    assert panels.count() == len({r["key"] for r in doc["trends"]})
    for i in range(panels.count()):
        box = panels.nth(i).locator("svg").bounding_box()
        assert box["width"] > 200 and box["x"] + box["width"] <= size["width"]
    _assert_offline(opened, path)


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_hostile_and_full_documents_do_not_scroll_sideways(demo, open_report, tmp_path, screen):
    size = SCREENS[screen]
    for name, doc in (("full", with_dashboards(demo["audit"])), ("hostile", hostile_doc())):
        opened = open_report(_write(doc, tmp_path, f"{name}.html"), viewport=size)
        _assert_readable(opened.page, size["width"])
        _assert_inert(opened.page)


def test_demo_hostile_trace_is_inert_text(demo, demo_page):
    _, opened = demo_page
    page = opened.page
    assert demo["truth"]["hostile_span"]
    first = page.locator(".example").first
    assert first.get_attribute("id") == "example-1"
    assert "<script>window.__xss=1</script>" in first.inner_text()  # visible, as text
    assert '<img src=x onerror=\\"window.__xss=2\\">' in first.inner_text()
    _assert_inert(page)


def test_demo_report_leaks_no_injected_pii(demo, demo_page):
    """Extends test_pipeline's raw-text check: also the decoded HTML and the text the browser shows."""
    _, opened = demo_page
    shown = opened.page.inner_text("body") + opened.page.eval_on_selector_all(
        "svg text", "els => els.map(e => e.textContent).join(' ')"
    )
    decoded = htmllib.unescape(demo["html"])
    values = demo["truth"]["pii_values"]
    assert values
    for value in values:
        assert value not in shown and value not in decoded


def test_demo_items_explain_no_data(demo, demo_page):
    _, opened = demo_page
    page = opened.page
    for section in demo["audit"]["sections"]:
        for it in section["items"]:
            row = page.locator(f'[id="item-{it["id"]}"]')
            text = row.inner_text()
            assert report.STATUS_TEXT[it["status"]] in text and it["source"]["text"] in text
            if it["status"] == "NO_DATA":
                assert f"No data: {it['reason']}" in text


# ---- hand-made documents ---------------------------------------------------------------------------------


def test_every_dashboard_renders_with_data(demo, open_report, tmp_path):
    path = _write(with_dashboards(demo["audit"]), tmp_path, "full.html")
    opened = open_report(path)
    _assert_charts_drawn(opened.page, {d.key for d in report.DASHBOARDS} | {"trends"})
    assert opened.page.locator(".nodata").count() == 0
    opened.page.locator('#failure-reasons a[href="#example-1"]').click()
    assert opened.page.evaluate("location.hash") == "#example-1"
    _assert_offline(opened, path)


def test_hostile_document_renders_inert(open_report, tmp_path):
    path = _write(hostile_doc(), tmp_path, "hostile.html")
    opened = open_report(path)
    page = opened.page
    _assert_inert(page)
    _assert_offline(opened, path)
    script = "<script>window.__xss=1</script>"
    for where in (
        "#verdict",
        "#top-blockers",
        "#scorecard",
        '[id="item-x.item-1"]',
        "#tool-success",
        "#pii-entities",
        "#example-1",
        "#quarantine",
        "#thresholds",
        "#provenance-facts",
    ):
        assert script in page.locator(where).first.inner_text(), where
    chart_text = page.eval_on_selector_all("svg text", "els => els.map(e => e.textContent).join('\\n')")
    for label in ("rule <script>", "lookup <script>", "reason <script>", "wf <script>", "metric <script>"):
        assert label in chart_text, label  # chart labels are text too (long ones are cut with an ellipsis)
    assert page.locator("#example-1 h3").inner_text().startswith(f"Example 1 · failure reason: reason {XSS}")


@pytest.mark.parametrize("paper", sorted(PRINT_WIDTHS))
def test_prints_without_cut_off(demo, open_report, tmp_path, paper):
    path = _write(with_dashboards(demo["audit"]), tmp_path, "print.html")
    width = PRINT_WIDTHS[paper]
    opened = open_report(path, viewport={"width": width, "height": 1100}, media="print")
    over = opened.page.evaluate(
        """(width) => {
        const bad = [];
        for (const el of document.querySelectorAll('body *')) {
            if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
            const r = el.getBoundingClientRect();
            if (r.width > 0 && (r.right > width + 1 || r.left < -1)) bad.push(el.tagName + '#' + el.id + ':' + r.right);
        }
        return {scroll: document.documentElement.scrollWidth, bad: bad.slice(0, 10)}; }""",
        width,
    )
    assert over["bad"] == [] and over["scroll"] <= width, over
    _assert_charts_drawn(opened.page, {d.key for d in report.DASHBOARDS} | {"trends"})


# ---- PDF ---------------------------------------------------------------------------------------------------


def test_pdf_of_the_report(demo, browser, tmp_path):
    path = _write(with_dashboards(demo["audit"]), tmp_path, "report.html")
    out = pdf.write(path)
    data = out.read_bytes()
    assert out == path.with_suffix(".pdf") and data[:5] == b"%PDF-"
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) > 3


def test_cli_pdf_flag(demo, browser, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        cli.main(["audit", "--db", str(demo["db"]), "--out", str(out), "--pdf"])
        == cli.EXIT_CODES[demo["audit"]["verdict"]]
    )
    assert (out / "readiness-report.pdf").read_bytes()[:5] == b"%PDF-"
    assert f"PDF:     {out / 'readiness-report.pdf'}" in capsys.readouterr().out


def test_pdf_without_chromium_is_one_clear_line(demo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    monkeypatch.delenv(pdf.ENV_VAR, raising=False)
    with pytest.raises(pdf.PdfError, match="Chromium is not installed"):
        pdf.find_chromium()
    out = tmp_path / "out"
    assert cli.main(["audit", "--db", str(demo["db"]), "--out", str(out), "--pdf"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("agentops-audit: error: cannot write the PDF: Chromium is not installed")
    assert err.count("\n") == 1
    assert not out.exists()  # it failed before doing any work
