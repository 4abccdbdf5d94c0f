"""The report's HTML, rendered from real audit documents (the demo's) and hand-made ones; no browser here.

Browser checks (requests, rendered charts, XSS, print layout, screenshot) are in test_report_browser.py.
"""

from __future__ import annotations

import copy
import html as htmllib
import re
from html.parser import HTMLParser
from pathlib import Path

from report_samples import DASHBOARDS, hostile_doc, with_dashboards

from agentops_audit import audit, db, ingest, report, words
from agentops_audit.ingest import mapping
from agentops_audit.report import fmt

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
NEW_DASHBOARDS = list(DASHBOARDS)  # the panels that read metrics.dashboards


def test_window_is_readable():
    doc = {"window": {"start": "2026-11-08 23:59:59.999000", "end": "2026-11-15 23:34:53.781783"}}
    assert report._window(doc) == "2026-11-09 00:00 – 2026-11-15 23:35 UTC (7 days)"
    assert (
        report._window({"window": {"start": "2026-11-15 08:00:00", "end": "2026-11-15 14:00:10"}})
        == "2026-11-15 08:00 – 2026-11-15 14:00 UTC (6 hours)"
    )
    assert report._window({"window": {"start": "None", "end": "None"}}) == "no timestamped data"


def test_thresholds_read_as_a_person_says_them():
    f = report._fmt_threshold
    assert f({"op": ">", "value": 0.995, "unit": "ratio"}) == "> 99.5%"
    assert f({"op": "<", "value": 0.001, "unit": "ratio"}) == "< 0.1%"
    assert f({"op": "==", "value": 0, "unit": "ratio"}) == "= 0%"
    assert f({"op": "<=", "value": 0.25, "unit": "usd"}) == "≤ $0.25"
    assert f({"op": ">=", "value": 200, "unit": "count"}) == "≥ 200"
    assert f({"op": "<=", "value": 60, "unit": "minutes"}) == "≤ 60 minutes"
    assert f({"op": "<=", "value": 20, "unit": "percent_change"}) == "≤ +20% week over week"
    assert f(None) == "—"


def test_demo_report_first_screen(demo):
    doc, page = demo["audit"], demo["html"]
    assert f'id="verdict-banner">{doc["verdict"]}<' in page
    start, end = page.index('id="window"'), page.index('id="verdict"')
    header = htmllib.unescape(re.sub(r"<[^>]+>", "", page[start:end]))
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d – \d{4}-\d\d-\d\d \d\d:\d\d UTC", header)
    assert f"{demo['truth']['sessions']:,} sessions" in header
    blockers = page[page.index('id="top-blockers"') : page.index('id="scorecard"')]
    assert blockers.count("<tr") == 1 + min(5, len(doc["blockers"]))
    for b in doc["blockers"][:5]:
        assert f"Section {b['section']}, " in htmllib.unescape(blockers)
        assert htmllib.escape(b["display"], quote=False) in blockers
    assert page.count('class="card b-') == 7


def test_every_item_shows_status_threshold_evidence_and_source(demo):
    page = htmllib.unescape(demo["html"])
    for section in demo["audit"]["sections"]:
        for it in section["items"]:
            row = page[page.index(f'<tr id="item-{it["id"]}">') :]
            row = row[: row.index("</tr>")]
            assert report.STATUS_TEXT[it["status"]] in row
            assert it["source"]["text"] in row
            assert report._fmt_threshold(report.threshold_of(it)) in row
            if it["status"] == "NO_DATA":
                assert "No data:" in row and it["reason"] and it["reason"] in row  # explained, never a pass
            if it["evidence"].get("query"):
                assert f"query <code>{it['evidence']['query']}</code>" in row


def test_report_degrades_without_dashboard_data(demo):
    doc = copy.deepcopy(demo["audit"])
    doc["metrics"].pop("dashboards", None)
    doc.pop("trends", None)
    page = report.render(doc)
    for key in NEW_DASHBOARDS:
        assert f'id="nodata-{key}"><b>No data:</b> this audit did not compute it.' in page
        assert f'id="chart-{key}"' not in page
    assert 'id="chart-tool_success"' in page and 'id="chart-pii_by_field"' in page
    assert 'id="trends"' not in page  # no history: no section at all

    doc["metrics"]["dashboards"] = {key: [] for key in NEW_DASHBOARDS}
    doc["trends"] = []
    page = report.render(doc)
    for d in report.DASHBOARDS:
        if d.key in NEW_DASHBOARDS:
            assert f'id="nodata-{d.key}"><b>No data:</b> {htmllib.escape(d.no_data)}' in page
    assert 'id="trends"' not in page


def test_full_report_draws_every_dashboard_and_links_examples(demo):
    page = report.render(with_dashboards(demo["audit"]))
    for d in report.DASHBOARDS:
        assert re.search(f'id="chart-{d.key}"><svg', page), d.key
        assert f'id="nodata-{d.key}"' not in page
    assert re.search(r'id="chart-trends"><div id="trend-[\w ]+"><svg', page)
    reasons = page[page.index('id="failure-reasons"') :]
    assert "<td><b>tool_error</b></td>" in reasons and 'href="#example-1"' in reasons.split("</tr>")[1]
    assert "Example 1 · failure reason: tool_error" in page


def test_thresholds_appendix_marks_overrides(demo):
    overridden = "workflow.tool-success-per-tool"
    doc = audit.run(demo["db"], config={"thresholds": {overridden: 0.9}})
    page = report.render(doc)
    table = page[page.index('id="thresholds"') :]
    table = table[: table.index("</table>")]
    rows = table.split("</tr>")[1:-1]
    with_threshold = [it for s in doc["sections"] for it in s["items"] if report.threshold_of(it)]
    assert len(rows) == len(with_threshold) >= sum(1 for s in doc["sections"] for it in s["items"] if it["threshold"])
    for row, it in zip(rows, with_threshold, strict=True):
        assert f"<code>{it['id']}</code>" in row
        if it["id"] == overridden:
            assert "overridden by config" in row and "&gt; 90%" in row
        elif it["threshold"]:
            assert "catalog default" in row and "overridden" not in row
        else:
            assert "fixed by the check" in row
    assert doc["config_hash"] in page


def test_provenance_has_inputs_ledger_and_versions(demo):
    page, doc = demo["html"], demo["audit"]
    assert demo["truth"]["sha256"] in page  # the full input hash
    assert doc["config_hash"] in page and f"agentops-audit {doc['toolkit_version']}" in page
    assert "Every row read is accounted for" in page
    assert 'id="quarantine"' in page


def test_report_is_self_contained_and_small(demo):
    page = demo["html"]
    assert len(page.encode()) < 5 * 1024 * 1024
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "<script" not in page.lower() and _dangerous(page) == []
    loads = re.findall(r'\b(?:src|href|xlink:href)\s*=\s*"([^"]*)"', page)
    assert all(url.startswith("#") for url in loads), loads  # in-page links only
    assert "url(" not in page and "@import" not in page


class _Tags(HTMLParser):
    """Every element and attribute the HTML parser sees (inline SVG included)."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _dangerous(page: str) -> list:
    parser = _Tags()
    parser.feed(page)
    bad = []
    for tag, attrs in parser.tags:
        if tag in ("script", "img", "iframe", "object", "embed", "link", "base", "form"):
            bad.append(tag)
        for name, value in attrs.items():
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                bad.append((tag, name, value))
    return bad


def test_hostile_document_is_escaped_everywhere():
    page = report.render(hostile_doc())
    assert _dangerous(page) == []
    assert "<script" not in page.lower()
    # shown as text in the header, tables, charts and example traces
    assert page.count("&lt;script&gt;window.__xss=1&lt;/script&gt;") > 20


def test_example_text_is_masked_again_at_render():
    doc = hostile_doc()
    secrets = ["jane.doe@example.org", "+1 415 555 0199", "4111 1111 1111 1111"]
    doc["examples"][0]["spans"][1]["tool_args"] = f"contact {secrets[0]} or {secrets[1]}"
    doc["examples"][0]["spans"][1]["tool_result"] = f"card {secrets[2]}"
    page = report.render(doc)
    for value in secrets:
        assert value not in page
    assert "j***@e***.org" in page


# ---- plain words and one scope ----------------------------------------------------------------------------


def _text(page: str) -> str:
    """What the page says: tags dropped (chart text included), entities decoded."""
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", page[max(page.find("<body>"), 0) :]))
    return re.sub(r"\s+", " ", text).replace(" )", ")").replace(" :", ":")


def _first_screen(page: str) -> str:
    return _text(page[: page.index('id="scorecard"')])


def test_numbers_and_times_read_as_words():
    assert fmt.number(10590.52) == "10,591" and fmt.number(12.3456) == "12.35"
    assert fmt.number(0.00000123) == "0.00000123"
    assert report._fmt(1.059e4) == "10,590" and report._fmt(2.5e-07) == "0.00000025"
    assert fmt.stamp("2026-12-04T03:33:56+00:00") == "2026-12-04 03:34 UTC"
    assert fmt.stamp("lookup_order") == "lookup_order"
    assert report._fmt("2026-11-12T12:26:12") == "2026-11-12 12:26 UTC"


def test_reports_say_plain_words(demo, weekly_demo):
    for page in (demo["html"], weekly_demo["html"]):
        text = _text(page)
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), "a raw ISO timestamp"
        assert not re.search(r"\d(\.\d+)?e[+-]\d\d", text), "a number with an exponent"
        assert not re.search(r"(?<![\d.,])1 (writes|tasks|calls|prompts|spans|findings)\b", text), "1 writes"
        first = _first_screen(page)
        for raw in (
            "tool_result",
            "tool_args",
            "no_invented_facts",
            "escalates_appropriately",
            "writes_without_record",
        ):
            assert raw not in first, raw
        # the items' "at fault" lines name rubric items in words too, as their display lines do
        at_fault = " ".join(re.findall(r"at fault: [^<]*", page))
        assert "at fault" in at_fault and "no invented facts" in at_fault, at_fault[:300]
        assert "no_invented_facts" not in at_fault and "escalates_appropriately" not in at_fault


def test_pii_counts_add_up(weekly_demo):
    doc = weekly_demo["audit"]
    item = next(it for s in doc["sections"] for it in s["items"] if it["id"] == "observe.pii-redaction")
    ev = item["evidence"]
    shown = item["display"]
    assert shown.startswith(f"{ev['records_with_leak']} of {ev['records_scanned']:,} stored texts leak")
    assert f": {ev['findings']} findings (" in shown
    kinds = [int(n) for n in re.findall(r"(\d+) (?:phone numbers?|e-mail address(?:es)?)", shown)]
    assert sum(kinds) == ev["findings"] == sum(r["findings"] for r in doc["metrics"]["pii_leaks"]["by_field"])
    assert "in tool results" in shown and "tool_result" not in shown


def test_task_success_shows_the_judged_share_as_its_value(weekly_demo):
    doc = weekly_demo["audit"]
    item = next(it for s in doc["sections"] for it in s["items"] if it["id"] == "workflow.testable-success")
    sessions = doc["metrics"]["sessions"]
    judged = item["evidence"]["judged"]
    assert item["value"] == judged / sessions
    assert item["display"].startswith(
        f"{judged / sessions:.1%} of tasks judged pass or fail ({judged:,} of {sessions:,}"
    )
    assert f"of those, {item['evidence']['success_rate']:.1%} succeeded" in item["display"]


def test_first_screen_has_one_scope_the_next_step_and_what_changed(weekly_demo):
    doc, page = weekly_demo["audit"], weekly_demo["html"]
    header = _text(page[page.index('id="window"') : page.index('id="verdict"')])
    week = doc["week"]["label"]
    assert f"Week {week} (Mon 9 – Sun 15 Nov 2026)" in header and f"{doc['metrics']['sessions']:,} sessions" in header
    total_rows = sum(i["rows_read"] for i in doc["provenance"]["inputs"])
    assert f"{total_rows:,}" not in header  # every week's rows are in the provenance, not in the week's header
    tasks = {r["workflow"]: r["tasks"] for r in doc["metrics"]["dashboards"]["cost_per_task"]}
    declared = doc["manifest"]["workflow"]
    others = sum(n for w, n in tasks.items() if w != declared)
    assert (
        f"Declared workflow {declared}: {tasks[declared]:,} of {sum(tasks.values()):,} sessions; {others:,} belong"
    ) in header
    titles = {it["id"]: it["title"] for s in doc["sections"] for it in s["items"]}
    step = _text(page[page.index('id="next-step"') : page.index('id="changes"')])
    assert f"these {len(doc['next_phase_blockers'])} items must pass" in step
    for item_id in doc["next_phase_blockers"]:
        assert titles[item_id] in step and f'href="#item-{item_id}"' in page
    assert page.index('id="changes"') < page.index('id="top-blockers"')
    provenance = _text(page[page.index('id="inputs-scope"') : page.index('id="inputs"')])
    assert f"for all weeks: this report covers {week} only" in provenance and f"{total_rows:,} rows read" in provenance


def test_a_synthetic_clock_is_named(tmp_path):
    fixtures = Path(__file__).parent / "fixtures" / "ingest"
    spec = mapping.validate(
        __import__("yaml").safe_load((fixtures / "transcript-flat.yml").read_text()),
        str(fixtures / "transcript-flat.yml"),
    )
    con = db.connect(tmp_path / "t.duckdb")
    try:
        ingest.ingest(con, [str(fixtures / "transcript-flat.json")], options=spec)
    finally:
        con.close()
    doc = audit.run(tmp_path / "t.duckdb")
    assert doc["window"]["synthetic_clock_traces"] == doc["metrics"]["traces"] == 2
    header = _text(report.render(doc)[: report.render(doc).index('id="verdict"')])
    assert "(synthetic clock)" in header and "the times of all traces are synthetic" in header


def test_at_fault_names_rubric_items_in_words():
    gate = {"check": "regression_gate", "at_fault": ["overall", "no_invented_facts", "unsafe_write_attempts"]}
    assert words.at_fault(gate) == ["overall", "no invented facts", "unsafe-write attempts"]
    # elsewhere the team's own names (tools) stay as written, and known ids are named
    tool = {"check": "tool_success", "at_fault": ["lookup_order"]}
    assert words.at_fault(tool) == ["lookup_order"]
    assert words.at_fault({"check": "pii_leak_rate", "at_fault": ["tool_result"]}) == ["tool results"]
    assert words.at_fault({"check": "tool_success"}) == []
