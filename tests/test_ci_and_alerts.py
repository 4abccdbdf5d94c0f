"""CI summaries (--summary-md), the CI files under docs/ci/, and pushed alerts (weekly --notify) posted to a
real HTTP server on 127.0.0.1 started by the test."""

from __future__ import annotations

import json
import shlex
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from agentops_audit import cli, db, ingest
from agentops_audit.demo import weeks as synth_weeks
from agentops_audit.integrations import notify, summary
from agentops_audit.trends.windows import Week

DOCS = Path(__file__).resolve().parent.parent / "docs" / "ci"


class Webhook:
    """A loopback webhook: records each POST; answers from `script` (status codes, then 200)."""

    def __init__(self, script: list[int] | None = None, delay: float = 0.0):
        self.bodies: list[dict] = []
        self.times: list[float] = []
        self.script = list(script or [])
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.times.append(time.monotonic())
                time.sleep(delay)
                status = hook.script.pop(0) if hook.script else 200
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/secret-token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- summaries


def test_audit_summary_has_banner_blockers_and_gate(demo):
    doc = demo["audit"]
    text = summary.audit_markdown(doc, "out/readiness-report.html")
    first = text.splitlines()[0]
    assert first.startswith("## ") and f"**{doc['verdict']}**" in first
    assert f"recommended phase {doc['recommended_phase']}" in first
    assert doc["integrity"]["document_sha256"][:16] in text
    assert f"### Blockers ({len(doc['blockers'])})" in text
    table = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(table) == min(len(doc["blockers"]), summary.TOP_BLOCKERS)
    assert all(line.count(" | ") == 5 for line in table)  # six columns: nothing in a cell broke the table
    gate = doc["metrics"]["evals"]["gate"]
    assert f"Regression gate: {summary.ICON[gate['decision']]} {gate['decision']}" in text
    assert len([line for line in text.splitlines() if line.startswith("| overall") or "rubric" in line]) >= 1


def test_summary_escapes_what_comes_from_traces():
    doc = {
        "verdict": "NO-GO",
        "recommended_phase": 0,
        "metrics": {"sessions": 1, "spans": 2},
        "window": {"start": "a", "end": "b"},
        "blockers": [
            {
                "status": "FAIL",
                "item": "workflow.tool-success-per-tool",
                "title": "Tools",
                "section": 1,
                "section_title": "Workflow",
                "owner": None,
                "threshold": None,
                "display": "worst tool `evil|tool` <img src=x onerror=alert(1)> **bold**",
            }
        ],
    }
    text = summary.audit_markdown(doc)
    row = next(line for line in text.splitlines() if "evil" in line)
    assert "\\|" in row and "\\<img" in row and "\\*\\*bold\\*\\*" in row and row.count(" | ") == 5


def test_summary_appends_to_the_github_step_summary(tmp_path, monkeypatch):
    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    summary.write(step, "## one")
    summary.write(step, "## two")
    assert step.read_text() == "earlier step\n## one\n## two\n"
    other = tmp_path / "comment.md"
    summary.write(other, "## one")
    summary.write(other, "## two")
    assert other.read_text() == "## two\n"  # any other file is replaced


def test_gate_command_writes_its_table(demo, tmp_path, capsys):
    releases = [r["release"] if isinstance(r, dict) else r for r in demo["audit"]["metrics"]["evals"]["releases"]]
    out = tmp_path / "gate.md"
    code = cli.main(
        [
            "gate",
            "--db",
            str(demo["db"]),
            "--baseline",
            releases[0],
            "--candidate",
            releases[-1],
            "--summary-md",
            str(out),
        ]
    )
    text = out.read_text()
    decision = {0: "PASS", 4: "FAIL", 5: "INCONCLUSIVE"}[code]
    assert text.startswith("## agentops-audit gate")
    assert f"**Regression gate: {summary.ICON[decision]} {decision}**" in text
    assert "| Metric | Baseline | Candidate |" in text and "| overall |" in text


# ---------------------------------------------------------------- the CI files


def _commands(script: str) -> list[list[str]]:
    """The agentops-audit invocations of a CI script, as argv (variables replaced by placeholders)."""
    found = []
    for line in script.splitlines():
        for part in line.replace("||", ";").replace("&&", ";").split(";"):
            words = shlex.split(part.strip().replace("$", "X"), posix=True) if "agentops-audit" in part else []
            if words and words[0] == "agentops-audit":
                found.append(words[1:])
    return found


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_files_are_valid_yaml_and_run_real_commands(name):
    doc = yaml.safe_load((DOCS / name).read_text())
    if name == "github-actions.yml":
        steps = doc["jobs"]["readiness"]["steps"]
        scripts = [s["run"] for s in steps if "run" in s]
        uses = [s["uses"] for s in steps if "uses" in s]
        assert "actions/upload-artifact@v4" in uses
        artifact = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
        assert artifact["if"] == "always()" and "report/" in artifact["with"]["path"]
        assert any("GITHUB_STEP_SUMMARY" in s for s in scripts)
    else:
        job = doc["agent-readiness"]
        scripts = job["script"]
        assert job["artifacts"]["when"] == "always" and "report/" in job["artifacts"]["paths"]
    commands = [c for script in scripts for c in _commands(script)]
    assert {c[0] for c in commands} == {"ingest", "gate", "audit"}
    parser = cli.build_parser()
    for argv in commands:
        args = parser.parse_args(argv)  # every flag exists (argparse exits 2 otherwise)
        if args.command in ("gate", "audit"):
            assert args.summary_md
        if args.command == "audit":
            assert args.out == "report"


# ---------------------------------------------------------------- pushed alerts


def test_post_retries_with_backoff_then_delivers():
    with Webhook(script=[503, 429]) as hook:
        outcome = notify.post(hook.url, {"hello": "world"}, timeout=5, retries=3, backoff=0.2)
    assert outcome.delivered and outcome.attempts == 3 and outcome.status == 200
    assert hook.bodies == [{"hello": "world"}] * 3
    assert hook.times[1] - hook.times[0] >= 0.2  # backed off after the 503; 429's Retry-After: 0 is honoured


def test_post_gives_up_on_a_client_error_and_on_a_dead_server():
    with Webhook(script=[400]) as hook:
        outcome = notify.post(hook.url, {}, timeout=5, retries=3, backoff=0.01)
    assert not outcome.delivered and outcome.attempts == 1 and outcome.status == 400
    with Webhook() as hook:
        dead = hook.url
    started = time.monotonic()
    outcome = notify.post(dead, {}, timeout=2, retries=2, backoff=0.05)
    assert not outcome.delivered and outcome.attempts == 3 and outcome.error
    assert time.monotonic() - started < 10
    with Webhook(delay=1.5) as hook:  # slower than the timeout: every attempt times out
        outcome = notify.post(hook.url, {}, timeout=0.3, retries=1, backoff=0.01)
    assert not outcome.delivered and outcome.attempts == 2


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory):
    root = tmp_path_factory.mktemp("notify")
    last = Week.parse("2026-W46")
    synth_weeks.generate(root / "traces", last, weeks=2, sessions=150, seed=3, scales=[1.0, 2.0])
    con = db.connect(root / "audit.duckdb")
    try:
        ingest.ingest(con, [str(root / "traces")])
    finally:
        con.close()
    return root


@pytest.mark.slow
def test_weekly_notifies_summarises_and_signs_without_failing_on_a_dead_webhook(two_weeks, tmp_path, capsys):
    secret = tmp_path / "secret"
    secret.write_text("s" * 40)
    base = [
        "weekly",
        "--db",
        str(two_weeks / "audit.duckdb"),
        "--from",
        "2026-W45",
        "--to",
        "2026-W46",
        "--no-report",
        "--sign",
        str(secret),
    ]
    with Webhook(script=[502]) as hook:
        code = cli.main(
            [
                *base,
                "--history",
                str(tmp_path / "h1.duckdb"),
                "--out-root",
                str(tmp_path / "r1"),
                "--notify",
                hook.url,
                "--notify-format",
                "slack",
                "--summary-md",
                str(tmp_path / "s.md"),
            ]
        )
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "r1" / "2026-W46" / "audit.json").read_text())
    assert code == cli.EXIT_CODES[doc["verdict"]]
    assert doc["alerts"], "the token doubling in the last week should raise alerts (significant at 150 sessions a week)"
    assert len(hook.bodies) == 2  # a 502, then delivered
    slack = hook.bodies[-1]
    assert slack["blocks"][0]["type"] == "header" and "2026-W46" in slack["blocks"][0]["text"]["text"]
    alerts_block = next(b for b in slack["blocks"] if b["type"] == "section" and "*Alerts*" in b["text"]["text"])
    for alert in doc["alerts"]:
        assert (
            alert["message"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            in alerts_block["text"]["text"]
        )
    assert "secret-token" not in out and "Notified http://127.0.0.1:" in out
    text = (tmp_path / "s.md").read_text()
    assert "2026-W46" in text.splitlines()[0] and "### Week-over-week alerts" in text
    for week in ("2026-W45", "2026-W46"):
        assert cli.main(["verify", str(tmp_path / "r1" / week), "--key", str(secret)]) == 0

    with Webhook() as hook:  # JSON format: the verdict and the alerts as they are in audit.json
        cli.main(
            [*base, "--history", str(tmp_path / "h2.duckdb"), "--out-root", str(tmp_path / "r2"), "--notify", hook.url]
        )
    body = hook.bodies[0]
    assert body["verdict"] == doc["verdict"] and body["week"] == "2026-W46"
    assert [a["message"] for a in body["alerts"]] == [a["message"] for a in doc["alerts"]]
    doc2 = json.loads((tmp_path / "r2" / "2026-W46" / "audit.json").read_text())  # this run's document
    assert body["digest"] == doc2["integrity"]["document_sha256"][:16]

    with Webhook() as hook:
        dead = hook.url
    code = cli.main(
        [
            *base,
            "--history",
            str(tmp_path / "h3.duckdb"),
            "--out-root",
            str(tmp_path / "r3"),
            "--notify",
            dead,
            "--notify-retries",
            "1",
            "--notify-timeout",
            "2",
        ]
    )
    captured = capsys.readouterr()
    assert code == cli.EXIT_CODES[doc["verdict"]]  # a failed post never fails the audit
    assert "warning: could not notify http://127.0.0.1:" in captured.err and "secret-token" not in captured.err
    assert (tmp_path / "r3" / "2026-W46" / "audit.json").exists()


def test_notify_refuses_a_url_that_is_not_http(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["weekly", "--db", "a.duckdb", "--history", "h.duckdb", "--notify", "file:///etc/passwd"])
    assert exc.value.code == 2 and "http:// or https://" in capsys.readouterr().err
