"""End to end: the CLI runs both notebooks under papermill and writes audit.json and the report."""

from __future__ import annotations

import json
import subprocess
import sys

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
    reasons = audit["provenance"]["quarantine_by_reason"]  # in one order every run (ties by reason)
    assert reasons == sorted(reasons, key=lambda r: (-r["rows"], r["reason"]))
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


def test_notebook_runs_print_no_kernel_warning(demo, tmp_path):
    """The kernel talks to papermill over IPC: ipykernel's TCP warning never reaches a cron log. (A process
    of its own, so that only its kernel's output is read.)"""
    code = (
        "import sys; from pathlib import Path; from agentops_audit import pipeline; "
        "pipeline.run_notebook('report.ipynb', Path(sys.argv[1]), "
        "{'audit_json': sys.argv[2], 'out_html': sys.argv[1] + '/r.html'})"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), str(demo["out"] / "audit.json")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "r.html").exists()
    assert "without encryption" not in run.stdout + run.stderr and "IPKernelApp" not in run.stderr, run.stderr


def test_a_database_file_that_is_not_duckdb_is_one_line(tmp_path, capsys):
    text = tmp_path / "audit.duckdb"
    text.write_text("hello\n")
    for args in (
        ["audit", "--db", str(text), "--out", str(tmp_path / "o")],
        ["gate", "--db", str(text), "--baseline", "a", "--candidate", "b"],
        ["ingest", str(text), "--db", str(text)],
        ["audit", "--db", str(tmp_path), "--out", str(tmp_path / "o")],
    ):
        assert cli.main(args) == cli.EXIT_USAGE, args
        err = capsys.readouterr().err
        assert err.startswith("agentops-audit: error: ") and err.count("\n") == 1 and "Traceback" not in err, args


def test_declared_facts_live_in_the_manifest(demo, tmp_path, capsys):
    """The manifest wins over the config's old keys, which still work where the manifest is silent and are
    named, one line each, as deprecated."""
    from agentops_audit import audit, config
    from agentops_audit import manifest as readiness
    from agentops_audit.metrics import params

    path = tmp_path / "audit.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "success_predicate": "outcome IN ('success', 'escalated')",
                "slo": {"session_p95_ms": 1, "step_p95_ms": {"llm": 1}},
                "tool_allowlist": {"lookup_order": {"access": "read"}},
                "thresholds": {"ops.weekly-review": 9},
            }
        )
    )
    loaded = config.load(path)
    lines = config.deprecations(loaded, path)
    assert [line.split(": ")[3].split()[0] for line in lines] == ["success_predicate", "slo", "tool_allowlist"]
    declared = readiness.load(checks_dir() / "demo" / "readiness.yml")
    assert params.success_predicate(loaded, declared)[0] == declared.success_predicate
    assert params.slo_of(loaded, declared)["session_p95_ms"] == declared.slos["session_p95_ms"]
    assert params.allowlist_of(loaded, declared)[1].startswith("manifest tools")
    assert params.success_predicate(loaded, None)[1] == "config success_predicate"  # still read without a manifest
    doc = audit.run(demo["db"], loaded, manifest=declared)
    items = {it["id"]: it for s in doc["sections"] for it in s["items"]}
    assert "manifest" in doc["metrics"]["task_success_source"]
    assert "manifest" in items["workflow.slos"]["threshold"]["note"]
    capsys.readouterr()
    assert (
        cli.main(["audit", "--db", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path), "--config", str(path)])
        == cli.EXIT_USAGE
    )
    err = capsys.readouterr().err.splitlines()
    assert [e for e in err if "deprecated" in e] == lines and err[-1].startswith("agentops-audit: error:")
