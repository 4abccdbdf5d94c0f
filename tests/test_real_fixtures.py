"""Exports written by real instrumentation libraries and platforms are read as a person reads them.

Each ``tests/fixtures/real/<group>/<name>.expect.json`` holds the ground truth of one scenario, written from
the scenario (or, for published exports, read by hand), never from this reader: the LLM calls (model,
tokens), the tool calls (name, arguments, result, call id, failure), the sessions and the roots. It applies
to every data file of the group named ``<name>.*`` (one scenario exported in several shapes), or to the
files it lists under ``files`` (with what differs per file, such as a shape that carries no session).
Each is ingested with no ``--format`` and no mapping, into a fresh database.
Provenance and versions: ``tests/fixtures/real/PROVENANCE.md``.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import pytest

from agentops_audit import db, ingest
from agentops_audit.db import scalar

REAL = Path(__file__).parent / "fixtures" / "real"
DATA = (".jsonl", ".json", ".parquet", ".csv", ".gz")
LOGS = ".logs.jsonl"  # OTLP log records beside a trace export: ingested with it, as a user ingests the folder


def _with_logs(path: Path) -> list[str]:
    """A trace export and, when the scenario also wrote one, its log records."""
    logs = path.with_name(path.name.split(".")[0] + LOGS)
    return [str(path)] + ([str(logs)] if logs.exists() and logs != path and path.name.endswith(".otlp.jsonl") else [])


def _cases():
    for expect in sorted(REAL.glob("*/*.expect.json")):
        spec = json.loads(expect.read_text())
        stem = expect.name.removesuffix(".expect.json")
        files = spec.get("files") or {
            p.name: {}
            for p in sorted(expect.parent.iterdir())
            if p.name.startswith(stem + ".") and p.name.endswith(DATA) and not p.name.endswith((".expect.json", LOGS))
        }
        if isinstance(files, list):
            files = dict.fromkeys(files, {})
        for name, override in files.items():  # a file may differ from the scenario's truth (say, no session)
            merged = {**spec, **{k: v for k, v in override.items() if k not in ("note", "format")}}
            yield pytest.param(expect.parent / name, merged, id=f"{expect.parent.name}/{name}")


CASES = list(_cases())


def _value(text):
    """A tool call's arguments or result as data: JSON, a Python literal (LangChain writes str(dict)), or text."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _rows(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _match(expected: dict, call: dict) -> bool:
    if call["tool_name"] != expected["name"]:
        return False
    if "arguments" in expected and _value(call["tool_args"]) != expected["arguments"]:
        return False
    wanted = expected.get("result_contains")
    if wanted is not None and wanted not in (call["tool_result"] or ""):
        return False
    if expected.get("call_id") is not None and call["tool_call_id"] != expected["call_id"]:
        return False
    if "agent" in expected and call["agent_name"] != expected["agent"]:  # the agent it ran for (ingest/tree.py)
        return False
    return "error" not in expected or bool(call["failed"]) == bool(expected["error"])


@pytest.mark.parametrize(("path", "spec"), CASES)
def test_real_export_is_read_as_written(path: Path, spec: dict, tmp_path):
    con = db.connect(tmp_path / "real.duckdb")
    summary, *logs = ingest.ingest(con, _with_logs(path))
    assert summary.error is None and all(s.error is None and not s.rows_quarantined for s in logs), summary.line()
    assert summary.rows_loaded > 0 and summary.rows_quarantined == spec.get("quarantined", 0), summary.line()
    real = "derived_from IS NULL"
    assert scalar(con, f"SELECT count(DISTINCT trace_id) FROM spans WHERE {real}") == spec["traces"]
    roots = [r["span_type"] for r in _rows(con, "SELECT span_type FROM spans WHERE parent_span_id IS NULL")]
    assert Counter(roots) == Counter(r["type"] for r in spec["roots"])
    sessions = {r["session_id"] for r in _rows(con, "SELECT DISTINCT session_id FROM spans")} - {None}
    assert set(spec["sessions"]) <= sessions  # and the ids a library makes up when the app sets none:
    assert len(sessions - set(spec["sessions"])) == spec.get("library_generated_sessions", 0), sessions

    llm = _rows(
        con,
        "SELECT request_model, response_model, input_tokens, output_tokens FROM spans "
        "WHERE span_type = 'llm' ORDER BY start_time",
    )
    assert len(llm) == len(spec["llm_calls"]), [(c["response_model"], c["input_tokens"]) for c in llm]
    assert Counter((c["input_tokens"], c["output_tokens"]) for c in llm) == Counter(
        (c["input_tokens"], c["output_tokens"]) for c in spec["llm_calls"]
    )
    models = {m for c in llm for m in (c["request_model"], c["response_model"])}
    assert {c["model"] for c in spec["llm_calls"] if c.get("model")} <= models

    calls = _rows(
        con,
        "SELECT tool_name, tool_args, tool_result, tool_call_id, agent_name, failed_status OR failed_payload "
        "AS failed FROM tool_calls ORDER BY start_time",
    )
    assert len(calls) == len(spec["tool_calls"]), [(c["tool_name"], c["tool_args"]) for c in calls]
    left = list(calls)
    for expected in spec["tool_calls"]:
        found = next((c for c in left if _match(expected, c)), None)
        assert found is not None, (expected, [c for c in calls if c["tool_name"] == expected["name"]])
        left.remove(found)

    agents = {
        r["n"]
        for r in _rows(con, "SELECT agent_name AS n FROM spans UNION SELECT name FROM spans WHERE span_type = 'agent'")
    }
    assert set(spec.get("agents") or ()) <= agents
    _governance(con, spec)
    con.close()


def _governance(con, spec: dict) -> None:
    """Approvals a person or a permission callback gave, and guardrail verdicts (ingest/governance.py)."""
    if "approvals" in spec:
        decided = _rows(
            con,
            "SELECT approval_status, approval_approver FROM spans WHERE approval_status IN ('approved', 'rejected')",
        )
        assert Counter((r["approval_status"], r["approval_approver"]) for r in decided) == Counter(
            (a["status"], a["approver"]) for a in spec["approvals"]
        )
    if "guardrails" in spec:
        verdicts = _rows(
            con,
            "SELECT name, policy_decision, policy_reason FROM spans WHERE span_type = 'policy' "
            "AND policy_decision IS NOT NULL",
        )
        assert Counter((r["name"], r["policy_decision"]) for r in verdicts) == Counter(
            (g["name"], "deny" if g.get("blocked") or g.get("triggered") else "allow") for g in spec["guardrails"]
        )
        reasons = {g["reason"] for g in spec["guardrails"] if g.get("reason")}
        assert reasons <= {r["policy_reason"] for r in verdicts}


def test_every_group_has_provenance():
    groups = {p.parent.name for p in REAL.glob("*/*.expect.json")}
    provenance = (REAL / "PROVENANCE.md").read_text()
    assert groups and all(f"`{group}`" in provenance or group in provenance for group in groups)


def _groups() -> dict[str, list[Path]]:
    """Every group's trace exports (one shape per scenario: several shapes of one run would repeat it)."""
    groups: dict[str, list[Path]] = {}
    for param in CASES:
        path, _ = param.values
        stems = {p.name.split(".")[0] for p in groups.get(path.parent.name, [])}
        if path.name.split(".")[0] not in stems:
            groups.setdefault(path.parent.name, []).append(path)
    return groups


GROUPS = _groups()


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_the_audit_of_each_library_runs_and_renders(group: str, tmp_path):
    """The whole audit of a library's fixtures, on real Great Expectations, and its report: every item is
    judged (no ERROR from an evaluator), and the document renders."""
    from agentops_audit import audit, report

    con = db.connect(tmp_path / "lib.duckdb")
    assert all(s.error is None for s in ingest.ingest(con, [f for p in GROUPS[group] for f in _with_logs(p)]))
    con.close()
    doc = audit.run(tmp_path / "lib.duckdb")
    errors = [(i["id"], i.get("reason")) for s in doc["sections"] for i in s["items"] if i["status"] == "ERROR"]
    assert not errors
    assert doc["metrics"]["sessions"] > 0 and doc["metrics"]["llm_calls"] > 0
    assert "<html" in report.render(doc)


OTLP = [p for p in sorted(REAL.glob("*/*.otlp.jsonl"))]


@pytest.mark.parametrize("path", OTLP, ids=[f"{p.parent.name}/{p.name}" for p in OTLP])
def test_the_otlp_fast_path_reads_real_exports_as_the_reference_reader(path: Path, tmp_path, monkeypatch):
    """Files of 1 MiB or more are parsed by DuckDB (otlp_sql); the spans of other conventions go to the
    reference reader. Forced onto these small files, the fast path must load exactly the same rows."""
    from agentops_audit.ingest import otlp_sql

    def spans(name: str) -> list:
        con = db.connect(tmp_path / f"{name}.duckdb")
        ingest.ingest(con, [str(path)])
        rows = con.execute("SELECT * EXCLUDE (source_id) FROM spans ORDER BY trace_id, span_id").fetchall()
        con.close()
        return rows

    reference = spans("reference")
    monkeypatch.setattr(otlp_sql, "FAST_PATH_MIN_BYTES", 0)
    assert spans("fast") == reference
