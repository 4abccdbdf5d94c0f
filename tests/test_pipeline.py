"""End to end: the CLI runs both notebooks under papermill and writes audit.json and the report."""

from __future__ import annotations

import json

import nbformat
import yaml
from markupsafe import escape  # the report template's own escaping

from agentops_audit import cli
from agentops_audit.paths import checks_dir, notebooks_dir


def test_audit_json_contract(demo):
    audit = demo["audit"]
    assert audit["schema_version"] == "1"
    assert audit["verdict"] == "NO-GO"  # the demo injects a failing blocker (tool success)
    assert [s["id"] for s in audit["sections"]] == [1, 2, 3, 4, 5, 6, 7]
    for section in audit["sections"]:
        assert section["items"]
        for item in section["items"]:
            assert item["status"] in ("PASS", "WARN", "FAIL", "NO_DATA", "ERROR", "NOT_APPLICABLE")
    for key in ("sessions", "spans", "tool_calls", "trace_coverage", "orphan_spans", "tool_success", "pii_leaks"):
        assert key in audit["metrics"]
    assert audit["metrics"]["sessions"] == demo["truth"]["sessions"]
    assert audit["provenance"]["inputs"][0]["sha256"] == demo["truth"]["sha256"]
    assert len(audit["config_hash"]) == 64
    assert audit["blockers"][0]["status"] == "FAIL"


def test_both_notebooks_ran_under_papermill(demo):
    for name in ("audit.ipynb", "report.ipynb"):
        nb = nbformat.read(demo["out"] / "notebooks" / name, as_version=4)
        assert nb.metadata["papermill"]["exception"] is None or nb.metadata["papermill"]["exception"] is False
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1
        assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert errors == []
    audit_nb = nbformat.read(demo["out"] / "notebooks" / "audit.ipynb", as_version=4)
    (run_cell,) = [c for c in audit_nb.cells if "audit.run(" in c.source]
    assert "Verdict: NO-GO" in json.dumps(run_cell.outputs)


def test_report_shows_verdict_and_seven_sections(demo):
    html = demo["html"]
    assert 'id="verdict-banner">NO-GO<' in html
    titles = [s["title"] for s in yaml.safe_load((checks_dir() / "catalog.yml").read_text())["sections"]]
    assert len(titles) == 7
    for i, title in enumerate(titles, start=1):
        assert f'id="section-{i}">{i}. {title}' in html.replace("&amp;", "&")
    no_data = [it for s in demo["audit"]["sections"] for it in s["items"] if it["status"] == "NO_DATA"]
    assert no_data  # e.g. the week-over-week items until history exists: shown with their reason, not as a pass
    assert all(str(escape(it["reason"])) in html for it in no_data)
    assert "<script" not in html.lower()
    assert "<svg" in html


def test_no_raw_pii_in_report_or_kept_notebooks(demo):
    kept = [demo["html"], (demo["out"] / "audit.json").read_text()]
    kept += [(demo["out"] / "notebooks" / n).read_text() for n in ("audit.ipynb", "report.ipynb")]
    for value in demo["truth"]["pii_values"]:
        for text in kept:
            assert value not in text


def test_hostile_trace_text_is_escaped(demo):
    html = demo["html"]
    assert demo["truth"]["hostile_span"]
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html  # shown, as text
    assert "<script>window.__xss" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html


def test_committed_notebooks_are_stripped_and_parameterised():
    for name in ("audit.ipynb", "report.ipynb"):
        nb = nbformat.read(notebooks_dir() / name, as_version=4)
        assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["audit", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("agentops-audit: error: audit database not found") and err.count("\n") == 1
    assert cli.main(["ingest", str(tmp_path / "nothing*.json"), "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "no such file" in capsys.readouterr().err
