"""The operator explorer: frames, evidence rows, charts and the explore notebook, on the real demo database.

Known answers come from the generator's tally (truth.json) or, where truth.json holds only a count, from
the generated OTLP export itself, read here in plain Python (never typed in from a run's output).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import nbformat
import papermill as pm
import polars as pl
import pytest
import vl_convert as vlc

from agentops_audit import db, metrics, pii
from agentops_audit.catalog import load as load_catalog
from agentops_audit.evidence import EVIDENCE
from agentops_audit.explore import DatabaseBusy, Explorer, charts, mask_frame, week_range
from agentops_audit.metrics import params as metric_params
from agentops_audit.paths import notebooks_dir

HOSTILE_MARKUP = ("<script>window.__xss", "<img src=x", 'href="javascript:', "</script><img")
TAXONOMY = {"tool_error", "missing_context", "ambiguity", "model_refusal", "policy_block"}


# -- the generated export, read in plain Python ------------------------------------------------------


def _value(tagged: dict):
    return next(iter(tagged.values())) if tagged else None


def _export_spans(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    attrs = {a["key"]: _value(a["value"]) for a in s.get("attributes", [])}
                    rows.append(
                        {
                            "trace": s["traceId"],
                            "span": s["spanId"],
                            "parent": s.get("parentSpanId") or None,
                            "start_ns": int(s["startTimeUnixNano"]),
                            "status": s.get("status", {}).get("code", 0),
                            "session": attrs.get("gen_ai.conversation.id"),
                            "attrs": attrs,
                        }
                    )
    return rows


def _failed_attempt(span: dict) -> bool:
    """A tool attempt failed: error status or error.type, or an error in its JSON result."""
    if span["status"] == 2 or span["attrs"].get("error.type"):
        return True
    try:
        result = json.loads(span["attrs"].get("gen_ai.tool.call.result") or "null")
    except ValueError:
        return False
    return isinstance(result, dict) and result.get("error") not in (None, False, "")


@pytest.fixture(scope="module")
def export(demo) -> list[dict]:
    return _export_spans(demo["out"] / "data" / "traces" / "traces.otlp.jsonl")


@pytest.fixture(scope="module")
def ex(demo) -> Explorer:
    return Explorer(demo["db"])


def _tool_attempts(export: list[dict]) -> list[dict]:
    return [s for s in export if s["attrs"].get("gen_ai.operation.name") == "execute_tool"]


def _session_of_span(export: list[dict]) -> dict[str, str]:
    return {s["span"]: s["session"] for s in export}


# -- frames ----------------------------------------------------------------------------------------------


def test_sessions_per_workflow_and_outcome_equal_truth(ex, demo):
    truth = demo["truth"]
    sessions = ex.sessions()
    assert sessions.height == truth["sessions"]
    assert dict(sessions.group_by("workflow").len().iter_rows()) == truth["workflows"]
    assert dict(sessions.group_by("outcome").len().iter_rows()) == truth["outcomes"]
    for workflow, outcomes in truth["outcomes_by_workflow"].items():
        for outcome, n in outcomes.items():
            picked = ex.sessions(workflow=workflow, outcome=outcome)
            assert picked.height == n
            assert set(picked["workflow"]) == {workflow} and set(picked["outcome"]) == {outcome}
    assert ex.sessions(workflow="no such workflow").is_empty()
    with pytest.raises(TypeError, match="unknown filter workflw .filters: workflow, tool, week, outcome"):
        ex.sessions(workflw="refund_eligibility")


def test_week_filter_matches_session_starts_in_the_export(ex, export):
    starts: dict[str, int] = {}
    for s in export:
        starts[s["session"]] = min(starts.get(s["session"], s["start_ns"]), s["start_ns"])
    weeks = Counter(
        "{}-W{:02d}".format(*datetime.fromtimestamp(ns / 1e9, UTC).isocalendar()[:2]) for ns in starts.values()
    )
    assert sum(weeks.values()) == ex.sessions().height
    for week, n in weeks.items():
        picked = ex.sessions(week=week)
        assert picked.height == n
        lo, hi = week_range(week)
        assert picked["started_at"].min() >= lo and picked["started_at"].max() < hi
        assert set(picked["week"]) == {week}
    assert ex.sessions(week="2031-W01").is_empty()
    with pytest.raises(ValueError, match="ISO week"):
        ex.sessions(week="2026-46")
    with pytest.raises(ValueError, match="has no ISO week"):
        ex.sessions(week="2026-W54")


def test_tool_calls_and_failures_per_tool_equal_truth(ex, demo, export):
    truth = demo["truth"]["tool_success"]
    for tool, t in truth.items():
        calls = ex.tool_calls(tool=tool)
        assert calls.height == t["attempts"] and set(calls["tool"]) == {tool}
        assert calls["failed"].sum() == t["failed_attempts"]
        failed = ex.failures(tool=tool, kind="tool_call")
        assert failed.filter(~pl.col("recovered")).height == t["logical_failed"]
        assert failed["failed_attempts"].sum() == t["failed_attempts"]
    # tool= on sessions keeps the sessions that called it (from the export)
    called = {s["session"] for s in _tool_attempts(export) if s["attrs"]["gen_ai.tool.name"] == "lookup_order"}
    assert set(ex.sessions(tool="lookup_order")["session_id"]) == called
    # the other filters combine: failures of lookup_order in failed refund sessions only
    combined = ex.failures(tool="lookup_order", workflow="refund_eligibility", outcome="failure", kind="tool_call")
    assert set(combined["outcome"]) <= {"failure"} and set(combined["name"]) <= {"lookup_order"}


def test_failed_sessions_and_llm_calls_equal_truth(ex, demo):
    truth = demo["truth"]
    failed = ex.failures(kind="session")
    assert failed.height == truth["outcomes"]["failure"]
    categories = Counter(c or "uncategorised" for c in failed["category"])
    assert categories == Counter(truth["failure_taxonomy"]["by_category"])
    llm = ex.llm_calls(text=True)
    assert llm.height == truth["cache"]["llm_calls"]
    assert {"prompt", "completion"} <= set(llm.columns) and "prompt" not in ex.llm_calls(limit=3).columns
    assert ex.llm_calls(limit=3).height == 3
    with pytest.raises(ValueError, match="kind"):
        ex.failures(kind="span")


def test_trace_is_the_span_tree_of_the_export(ex, demo, export):
    session = _session_of_span(export)[demo["truth"]["orphan_span_ids"][0]]
    mine = {s["span"]: s for s in export if s["session"] == session}
    depth = {}

    def depth_of(span_id: str) -> int:
        parent = mine[span_id]["parent"]
        if span_id not in depth:
            depth[span_id] = 0 if parent is None or parent not in mine else depth_of(parent) + 1
        return depth[span_id]

    spans = ex.trace(session_id=session)
    assert sorted(spans["span_id"]) == sorted(mine)
    assert {r["span_id"]: r["depth"] for r in spans.iter_rows(named=True)} == {s: depth_of(s) for s in mine}
    orphans = set(demo["truth"]["orphan_span_ids"]) & set(mine)
    assert orphans and set(spans.filter(pl.col("orphan"))["span_id"]) == orphans
    assert spans["order"].to_list() == list(range(spans.height))
    assert spans["start_ms"][0] == 0 and spans["depth"][0] == 0 and spans["parent_span_id"][0] is None
    tool_failed = {s["span"]: _failed_attempt(s) for s in _tool_attempts(export) if s["span"] in mine}
    flagged = {r["span_id"]: r["failed"] for r in spans.iter_rows(named=True) if r["span_id"] in tool_failed}
    assert flagged == tool_failed
    by_trace = ex.trace(trace_id=spans["trace_id"][0])
    assert by_trace["span_id"].to_list() == spans["span_id"].to_list()
    with pytest.raises(ValueError, match="exactly one"):
        ex.trace()


def test_frames_mask_text_and_keep_hostile_markup_as_data(ex, demo):
    truth = demo["truth"]
    frames = [ex.tool_calls(), ex.failures(), ex.llm_calls(text=True), ex.evidence("observe.pii-redaction").rows]
    for frame in frames:
        text = frame.select(pl.col(pl.String)).write_csv()
        for value in truth["pii_values"]:
            assert value not in text
    hostile = ex.tool_calls().filter(pl.col("span_id") == truth["hostile_span"]).row(0, named=True)
    assert "<script>window.__xss=1</script>" in hostile["arguments"]  # shown as data, escaped by the display
    html = ex.tool_calls().filter(pl.col("span_id") == truth["hostile_span"])._repr_html_()
    assert "&lt;script&gt;window.__xss" in html and not any(m in html for m in HOSTILE_MARKUP)


def test_mask_frame_agrees_with_pii_mask_on_the_corpus():
    corpus = [
        json.loads(line)["text"]
        for line in (Path(__file__).parent / "data" / "pii_corpus.jsonl").read_text().splitlines()
        if line.strip()
    ]
    df = pl.DataFrame({"a": corpus, "b": list(reversed(corpus)), "n": list(range(len(corpus)))})
    con = duckdb.connect()
    try:
        masked = mask_frame(con, df)
        extra = {"order_no": "ORD-[0-9]{8}"}
        masked_extra = mask_frame(con, df, extra)
    finally:
        con.close()
    assert masked["a"].to_list() == [pii.mask(t) for t in corpus]
    assert masked["b"].to_list() == [pii.mask(t) for t in reversed(corpus)]
    assert masked["n"].to_list() == df["n"].to_list()
    assert masked_extra["a"].to_list() == [pii.mask(t, extra) for t in corpus]


# -- evidence -------------------------------------------------------------------------------------------


def test_evidence_for_tool_success_is_the_failed_logical_calls(ex, demo, export):
    attempts = defaultdict(list)
    for s in _tool_attempts(export):
        key = (s["session"], s["attrs"]["gen_ai.tool.name"], s["attrs"].get("gen_ai.tool.call.arguments") or "")
        attempts[key].append(_failed_attempt(s))
    failed = [k for k, v in attempts.items() if all(v)]
    # the plain-Python reading agrees with the generator's tally...
    assert Counter(t for _, t, _ in failed) == Counter(
        {t: v["logical_failed"] for t, v in demo["truth"]["tool_success"].items() if v["logical_failed"]}
    )
    # ...and the evidence rows are exactly those calls
    ev = ex.evidence("workflow.tool-success-per-tool")
    assert ev.status == "FAIL" and ev.total_rows == len(failed) == ev.rows.height
    rows = Counter((r["session_id"], r["tool"], r["arguments"]) for r in ev.rows.iter_rows(named=True))
    assert rows == Counter((s, t, pii.mask(a)) for s, t, a in failed)
    lookup = {s for s, t, _ in failed if t == "lookup_order"}
    assert (
        set(
            ex.evidence("workflow.tool-success-per-tool", tool="lookup_order").rows.filter(
                pl.col("tool") == "lookup_order"
            )["session_id"]
        )
        == lookup
    )


def test_evidence_for_trace_propagation_is_the_orphan_spans(ex, demo, export):
    ev = ex.evidence("observe.trace-id-propagation")
    orphans = ev.rows.filter(pl.col("defect") == "orphan_span")
    assert sorted(orphans["span_id"]) == sorted(demo["truth"]["orphan_span_ids"])
    sessions = _session_of_span(export)
    assert orphans["session_id"].to_list() == [sessions[s] for s in orphans["span_id"]]
    con = db.connect(demo["db"], read_only=True)
    try:
        metric_params.install(con, {})
        counted = {r["defect"]: r["count"] for r in metrics.run(con, "trace_propagation").iter_rows(named=True)}
    finally:
        con.close()
    kinds = Counter(ev.rows["defect"])
    assert kinds["orphan_span"] == counted["orphan_spans"]
    assert kinds["trace_with_several_roots"] == counted["traces_with_several_roots"]
    assert kinds["tool_call_without_call_id"] == counted["tool_calls_without_call_id"]
    assert kinds["tool_call_without_result"] == counted["tool_calls_without_result"]
    assert kinds["session_split_across_traces"] == counted["sessions_split_across_traces"]
    # coverage: the incomplete sessions are the orphans' sessions (no session registry in the demo)
    coverage = ex.evidence("observe.trace-coverage")
    assert set(coverage.sessions) == {sessions[s] for s in demo["truth"]["orphan_span_ids"]}


def test_evidence_for_pii_is_every_finding_masked(demo):
    truth = demo["truth"]
    org = truth["org_pii"]
    ex = Explorer(demo["db"], config={"pii_patterns": {org["entity"]: org["pattern"]}})
    ev = ex.evidence("observe.pii-redaction")
    found = Counter((r["field"], r["entity"]) for r in ev.rows.iter_rows(named=True))
    expected = Counter({(f, e): n for f, ents in truth["pii_leaks"].items() for e, n in ents.items()})
    expected[("tool_result", org["entity"])] = org["spans"]
    assert found == expected
    text = ev.rows.select(pl.col(pl.String)).write_csv()
    for value in truth["pii_values"] + org["values"]:
        assert value not in text


def test_evidence_for_security_checks_is_the_injected_writes(ex, demo):
    truth = demo["truth"]
    risky = ex.evidence("security.risky-approvals")
    assert sorted(risky.sessions) == sorted(truth["unapproved_risky_writes"])
    gateway = ex.evidence("security.tool-gateway")
    assert gateway.total_rows == truth["gateway"]["without_decision"]
    assert dict(Counter(gateway.rows["tool"])) == truth["gateway"]["by_tool"]
    assert ex.evidence("security.policy-outside-model").rows.equals(gateway.rows)
    untrusted = ex.evidence("security.untrusted-input")
    assert untrusted.total_rows == truth["untrusted_writes"]["unapproved"]
    assert untrusted.rows["after_untrusted"].is_not_null().all()
    reasons = ex.evidence("security.decision-audit-log")
    kinds = Counter(reasons.rows["defect"])
    assert kinds["decision without a reason"] == sum(truth["deny_reasons"]["without_reason"].values())
    assert kinds["approval without an approver"] == truth["deny_reasons"]["approvals_without_approver"]


def test_evidence_for_audit_trail_retries_taxonomy_and_budgets(ex, demo):
    truth = demo["truth"]
    trail = ex.evidence("observe.write-audit-trail")
    kinds = Counter(trail.rows["defect"])
    assert kinds["write_without_record"] == truth["audit_trail"]["writes_without_record"]
    assert sorted(trail.rows.filter(pl.col("defect") == "hash_mismatch")["record_id"]) == sorted(
        truth["audit_trail"]["hash_mismatches"]
    )
    retries = ex.evidence("cost.retry-caps")
    over = retries.rows.filter(pl.col("reason") == "retries over the cap")
    assert over.height == truth["retries"]["calls_over_cap"]
    assert sorted(set(over["tool"])) == truth["retries"]["tools_over_cap"]
    assert (over["retries"] > load_catalog().item("cost.retry-caps").threshold.value).all()
    kept = retries.rows.filter(pl.col("reason").str.starts_with("kept calling"))
    assert sorted(kept["session_id"]) == truth["sessions_kept_calling"]
    taxonomy = ex.evidence("observe.failure-taxonomy")
    failed = truth["failure_taxonomy"]
    assert taxonomy.total_rows == failed["failed"] - failed["categorised"]
    assert set(taxonomy.sessions) <= set(ex.failures(kind="session")["session_id"])
    budgets = ex.evidence("cost.task-budgets")
    got = defaultdict(list)
    for r in budgets.rows.iter_rows(named=True):
        got[r["budget"]].append(r["session_id"])
    want = truth["budgets"]["over"]
    assert {k: sorted(v) for k, v in got.items()} == {
        {"tokens": "tokens", "tool_calls": "tool_calls", "latency": "latency_ms"}[k]: sorted(v)
        for k, v in want.items()
        if v
    }


def test_evidence_counts_what_the_metrics_count(ex, demo):
    con = db.connect(demo["db"], read_only=True)
    try:
        metric_params.install(con, {})
        m = {
            name: metrics.run(con, name)
            for name in ("gateway_decisions", "risky_writes", "untrusted_writes", "audit_trail", "failure_taxonomy")
        }
    finally:
        con.close()
    assert ex.evidence("security.tool-gateway").total_rows == m["gateway_decisions"]["without_decision"].sum()
    assert ex.evidence("security.risky-approvals").total_rows == m["risky_writes"]["without_approval"].sum()
    assert ex.evidence("security.untrusted-input").total_rows == m["untrusted_writes"]["without_approval"].sum()
    trail = Counter(ex.evidence("observe.write-audit-trail").rows["defect"])
    metric_names = {
        "writes_without_record": "write_without_record",
        "records_without_actor": "record_without_actor",
        "records_without_change": "record_without_change",
        "hash_mismatches": "hash_mismatch",
        "dangling_links": "dangling_link",
        "forks": "fork",
        "extra_chain_starts": "extra_chain_start",
    }
    for r in m["audit_trail"].iter_rows(named=True):
        assert trail[metric_names[r["defect"]]] == r["count"], r["defect"]
    uncategorised = m["failure_taxonomy"].filter(pl.col("category") == "uncategorised")["sessions"].sum()
    assert Counter(ex.evidence("observe.failure-taxonomy").rows["reason"])["no failure category"] == uncategorised


def test_every_evidence_query_runs_and_names_its_sessions(ex):
    cat = load_catalog()
    checks = {i.check for i in cat.items}
    assert set(EVIDENCE) <= checks, "an evidence file names no catalog check"
    sessions = set(ex.sessions()["session_id"])
    for item in cat.items:
        if item.check not in EVIDENCE:
            continue
        ev = ex.evidence(item.id)
        assert {"session_id", "at"} <= set(ev.rows.columns), item.id
        assert set(ev.rows["session_id"]) <= sessions, item.id
        assert ev.rows["at"].is_sorted(nulls_last=True), item.id
        assert ev.total_rows >= ev.rows.height and not ev.message
        assert item.id in repr(ev) and item.id in ev._repr_html_()


def test_evidence_filters_limit_and_items_without_a_query(ex):
    whole = ex.evidence("workflow.tool-success-per-tool")
    parts = [
        ex.evidence("workflow.tool-success-per-tool", workflow=w).total_rows for w in ex.sessions()["workflow"].unique()
    ]
    assert sum(parts) == whole.total_rows
    first = ex.evidence("workflow.tool-success-per-tool", limit=2)
    assert first.rows.height == 2 and first.total_rows == whole.total_rows
    assert first.rows.equals(whole.rows.head(2))
    attested = ex.evidence("ops.owner")
    assert attested.rows.is_empty() and attested.total_rows == 0
    assert "No evidence query for check 'manifest.owner'" in attested.message
    assert "no evidence query" in repr(attested)
    with pytest.raises(KeyError, match="unknown checklist item"):
        ex.evidence("workflow.no-such-item")


def test_verdict_from_audit_json_and_none_without_it(ex, demo, tmp_path):
    verdict = ex.verdict()
    audit = demo["audit"]
    assert verdict.verdict == audit["verdict"] and verdict.recommended_phase == audit["recommended_phase"]
    assert verdict.blockers["item"].to_list() == [b["item"] for b in audit["blockers"]]
    worst = [b for b in audit["blockers"] if b["status"] == "FAIL" and ex.catalog.item(b["item"]).check in EVIDENCE]
    assert verdict.worst == worst[0]["item"]
    # without audit.json beside it: no verdict and no blockers (nothing judged), and the command to run
    bare = tmp_path / "bare.duckdb"
    shutil.copy(demo["db"], bare)
    fallback = Explorer(bare).verdict()
    assert fallback.verdict is None and fallback.blockers.is_empty() and fallback.worst is None
    assert "no audit.json" in fallback.message
    assert f"agentops-audit audit --db {bare} --out {bare.parent}" in fallback.message  # a command that works
    assert repr(fallback).startswith("No verdict: no audit.json")
    assert ex.example_session(ex.evidence(verdict.worst)) == ex.evidence(verdict.worst).sessions[0]
    assert ex.example_session() in set(ex.failures(kind="tool_call")["session_id"])


# -- read-only and concurrent use --------------------------------------------------------------------


def _hold(path: Path, read_only: bool) -> subprocess.Popen:
    """Another process holding ``path`` open (writable like an ingest, or read-only) until stdin closes."""
    code = (
        "import sys; from agentops_audit import db; "
        f"con = db.connect(sys.argv[1], read_only={read_only}); print('ready', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _release(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0


def test_read_only_beside_readers_and_writers(demo, tmp_path):
    path = tmp_path / "audit.duckdb"
    shutil.copy(demo["db"], path)
    ex = Explorer(path)
    n = ex.sessions().height
    # several readers at once: another process holds it read-only, the explorer still reads
    reader = _hold(path, read_only=True)
    try:
        assert ex.sessions().height == n
    finally:
        _release(reader)
    # a writer elsewhere (an ingest): DuckDB refuses the read-only open; the explorer says so in one line
    writer = _hold(path, read_only=False)
    try:
        with pytest.raises(DatabaseBusy, match="open for writing"):
            ex.sessions()
    finally:
        _release(writer)
    assert ex.sessions().height == n
    # the explorer holds no lock between calls: a writer can open the file right after a call
    ex.evidence("workflow.tool-success-per-tool")
    _release(_hold(path, read_only=False))
    # in one process, a writable connection and a read-only one cannot coexist either
    con = db.connect(path)
    try:
        with pytest.raises(DatabaseBusy):
            ex.sessions()
    finally:
        con.close()
    assert ex.sessions().height == n


# -- charts ---------------------------------------------------------------------------------------------


def _dataset(spec: dict) -> list[dict]:
    (values,) = spec["datasets"].values()
    return values


def _walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def test_waterfall_nests_spans_and_carries_tokens_and_cost(ex, demo, export):
    session = _session_of_span(export)[demo["truth"]["hostile_span"]]
    spans = ex.trace(session_id=session)
    spec = charts.waterfall(spans).to_dict()
    rows = _dataset(spec)
    assert len(rows) == spans.height
    assert [r["order"] for r in rows] == list(range(spans.height))
    assert spec["encoding"]["y"]["sort"] == {"field": "order", "order": "ascending"}
    assert spec["encoding"]["x"]["field"] == "start_ms" and spec["encoding"]["x2"]["field"] == "end_ms"
    tooltips = {t["field"] for t in spec["encoding"]["tooltip"]}
    assert {"input_tokens", "output_tokens", "cost_usd", "duration_ms", "error_type", "arguments"} <= tooltips
    states = {r["span_id"]: r["state"] for r in rows}
    for r in spans.iter_rows(named=True):
        assert states[r["span_id"]] == ("failed" if r["failed"] else "orphan" if r["orphan"] else "ok")
        label = next(x["label"] for x in rows if x["span_id"] == r["span_id"])
        assert label.count("\u00b7 ") == r["depth"] and label.endswith(r["name"])
    assert "failed" in states.values()
    svg = vlc.vegalite_to_svg(spec)
    assert session in svg
    with pytest.raises(ValueError):
        charts.waterfall(spans.head(0))


def test_latency_brush_filters_the_session_table(ex):
    sessions = ex.sessions()
    spec = charts.latency_sessions(sessions).to_dict()
    params = [p for node in _walk(spec) for p in node.get("params", []) if isinstance(p, dict)]
    (brush,) = [p for p in params if p.get("select", {}).get("type") == "interval"]
    filters = [t["filter"] for node in _walk(spec) for t in node.get("transform", []) if "filter" in t]
    assert brush["name"] in [f.get("param") for f in filters if isinstance(f, dict)]
    texts = [n for n in _walk(spec) if isinstance(n.get("mark"), dict) and n["mark"].get("type") == "text"]
    assert len(texts) >= 5 and all(n["encoding"]["y"]["field"] == "rank" for n in texts)
    assert len(_dataset(spec)) == sessions.height
    vlc.vegalite_to_svg(spec)
    small = charts.latency_sessions(sessions, max_rows=50).to_dict()
    assert len(_dataset(small)) == 50 and f"sample of 50 of {sessions.height}" in json.dumps(small)


def test_tool_click_shows_its_failure_categories(ex, demo):
    failures = ex.failures()
    spec = charts.tool_failures(failures).to_dict()
    params = [p for node in _walk(spec) for p in node.get("params", []) if isinstance(p, dict)]
    (click,) = [p for p in params if p.get("select", {}).get("type") == "point"]
    assert click["select"]["fields"] == ["tool"]
    filters = [t["filter"] for node in _walk(spec) for t in node.get("transform", []) if "filter" in t]
    assert click["name"] in [f.get("param") for f in filters if isinstance(f, dict)]
    rows = _dataset(spec)
    tool_rows = failures.filter(pl.col("kind") == "tool_call")
    assert len(rows) == tool_rows.height
    assert Counter(r["tool"] for r in rows) == Counter(tool_rows["name"])
    assert {r["category"] for r in rows} >= {"error payload"}
    vlc.vegalite_to_svg(spec)


def test_safe_rendering_keeps_chart_data_inside_its_script(ex, demo, export):
    import altair as alt

    session = _session_of_span(export)[demo["truth"]["hostile_span"]]
    chart = charts.waterfall(ex.trace(session_id=session))
    previous = alt.renderers.active
    charts.enable_safe_rendering()
    try:
        bundle = chart._repr_mimebundle_()
        html = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]
    finally:
        alt.renderers.enable(previous)
    assert not any(m in html for m in HOSTILE_MARKUP)
    assert "\\u003cscript\\u003ewindow.__xss=1" in html
    assert json.loads(json.dumps({"a": "<b>&"}, cls=charts.HtmlSafeJSON)) == {"a": "<b>&"}


# -- the notebook ---------------------------------------------------------------------------------------


def test_committed_explore_notebook_is_stripped_and_parameterised(monkeypatch, tmp_path):
    nb = nbformat.read(notebooks_dir() / "explore.ipynb", as_version=4)
    nbformat.validate(nb)
    assert all(c.get("id") for c in nb.cells)
    (params,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    monkeypatch.setenv("AGENTOPS_AUDIT_DB", str(tmp_path / "x.duckdb"))
    scope: dict = {}
    exec(params.source, scope)  # the default honours AGENTOPS_AUDIT_DB, as `make lab` sets it
    assert scope["db"] == str(tmp_path / "x.duckdb")
    monkeypatch.delenv("AGENTOPS_AUDIT_DB")
    scope = {}
    exec(params.source, scope)
    assert scope["db"] == "../reports/demo/audit.duckdb"
    assert os.path.normpath(notebooks_dir() / scope["db"]).endswith(os.path.join("reports", "demo", "audit.duckdb"))


def test_explore_notebook_runs_under_papermill(demo, export, tmp_path):
    session = _session_of_span(export)[demo["truth"]["hostile_span"]]
    out = tmp_path / "explore.ipynb"
    pm.execute_notebook(
        str(notebooks_dir() / "explore.ipynb"),
        str(out),
        parameters={"db": str(demo["db"]), "session": session},
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        cwd=str(tmp_path),
    )
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    plain = "\n".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in outputs)
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    worst = Explorer(demo["db"]).verdict().worst
    assert f"Verdict: {demo['audit']['verdict']}" in plain
    assert f"{worst} (" in plain  # the evidence of the worst blocker
    assert sum("vega-embed" in h for h in html) == 3  # waterfall, latency, tool failures
    assert any(f"Session {session}" in h for h in html)
    for h in html:
        assert not any(m in h for m in HOSTILE_MARKUP)
    assert any("\\u003cscript\\u003ewindow.__xss=1" in h for h in html)  # the hostile text, shown escaped
    raw = out.read_text()
    for value in demo["truth"]["pii_values"]:
        assert value not in raw
