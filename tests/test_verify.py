"""Verifiable results: audit.json's integrity block and digest, `verify`, Ed25519 and HMAC signatures (the real
`cryptography` library), and the digest in the report. Built on the demo audit (tests/conftest.py)."""

from __future__ import annotations

import hashlib
import json
import shutil

import jsonschema
import pytest

from agentops_audit import cli
from agentops_audit.integrations import verify
from agentops_audit.paths import PACKAGE_DIR, checks_dir


@pytest.fixture()
def audit_dir(demo, tmp_path):
    """A copy of the demo's output and its inputs (the ledger's paths are absolute, so the inputs are checked
    where the demo wrote them; the copy protects the shared demo from the edits below)."""
    out = tmp_path / "out"
    shutil.copytree(demo["out"], out, ignore=shutil.ignore_patterns("audit.duckdb*", "data", "notebooks"))
    return out


def test_audit_json_records_every_hash_and_its_own_digest(demo):
    doc = demo["audit"]
    integrity = doc["integrity"]
    schema = json.loads((PACKAGE_DIR / "audit.schema.json").read_text())
    jsonschema.validate(doc, schema)
    ledger = {i["sha256"] for i in doc["provenance"]["inputs"]}
    assert {i["sha256"] for i in integrity["inputs"]} == ledger and len(ledger) == 2  # traces and eval results
    for entry in integrity["inputs"]:
        assert verify.sha256_of(entry["path"]) == entry["sha256"]
    files = integrity["files"]
    assert files["catalog"]["sha256"] == hashlib.sha256((checks_dir() / "catalog.yml").read_bytes()).hexdigest()
    assert files["manifest"]["sha256"] == doc["manifest"]["sha256"]  # the demo's readiness.yml
    assert files["policy"]["sha256"] == doc["manifest"]["policy_file"]["sha256"]
    assert files["config"] is None  # the demo runs without a config file
    assert {"suites", "prices", "regulation"} <= set(files)
    # the digest is the sha256 of the canonical document without the digest itself
    plain = json.loads((demo["out"] / "audit.json").read_text())
    plain["integrity"].pop("document_sha256")
    expected = hashlib.sha256(
        json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert integrity["document_sha256"] == expected


def test_the_report_shows_the_digest_a_reviewer_quotes(demo):
    short = demo["audit"]["integrity"]["document_sha256"][:16]
    assert f'<code id="result-digest">{short}</code>' in demo["html"]
    assert short in demo["html"].split('id="provenance"', 1)[1]


def test_verify_passes_then_names_what_changed(audit_dir, demo, capsys):
    assert cli.main(["verify", str(audit_dir), "--db", str(demo["db"])]) == 0
    out = capsys.readouterr().out
    assert "verified" in out and "ledger of" in out and "not signed" in out

    doc = json.loads((audit_dir / "audit.json").read_text())
    doc["verdict"] = "GO"  # an edit after the fact
    (audit_dir / "audit.json").write_text(json.dumps(doc, indent=2))
    assert cli.main(["verify", str(audit_dir)]) == verify_failed()
    out = capsys.readouterr().out
    assert "CHANGED    audit.json: its content no longer matches its digest" in out and "FAILED: 1 check" in out


def verify_failed() -> int:
    from agentops_audit.integrations.commands import EXIT_VERIFY_FAILED

    return EXIT_VERIFY_FAILED


def test_verify_detects_a_changed_input_and_config(tmp_path, capsys):
    from agentops_audit.demo import synth

    synth.generate(tmp_path / "gen", sessions=30, seed=5)
    config = tmp_path / "audit.yml"
    config.write_text("thresholds: {cost.per-successful-task: 0.5}\n")
    code = cli.main(["run", str(tmp_path / "gen"), "--out", str(tmp_path / "out"), "--config", str(config)])
    assert code in (3, 4, 5)
    doc = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert doc["integrity"]["files"]["config"]["sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()
    assert cli.main(["verify", str(tmp_path / "out")]) == 0
    capsys.readouterr()

    export = tmp_path / "gen" / "traces.otlp.jsonl"
    export.write_bytes(export.read_bytes().replace(b'"lookup_order"', b'"lookup_0rder"', 1))
    config.write_text("thresholds: {cost.per-successful-task: 5}\n")
    assert cli.main(["verify", str(tmp_path / "out")]) == verify_failed()
    out = capsys.readouterr().out
    assert f"CHANGED    input {export}" in out and f"CHANGED    config {config}" in out
    assert "FAILED: 2 checks failed" in out

    export.unlink()  # an input the reviewer does not have: not checked, not a failure
    config.write_text("thresholds: {cost.per-successful-task: 0.5}\n")
    assert cli.main(["verify", str(tmp_path / "out")]) == 0
    assert "unchecked  input" in capsys.readouterr().out


def test_ed25519_signature_is_checked_against_the_signers_key(audit_dir, tmp_path, capsys):
    assert cli.main(["keygen", "--out", str(tmp_path / "signer.pem")]) == 0
    assert cli.main(["keygen", "--out", str(tmp_path / "other.pem")]) == 0
    assert (tmp_path / "signer.pem").stat().st_mode & 0o777 == 0o600
    assert cli.main(["keygen", "--out", str(tmp_path / "signer.pem")]) == 2  # never overwritten
    sig_path = verify.sign(audit_dir / "audit.json", tmp_path / "signer.pem")
    sig = json.loads(sig_path.read_text())
    assert (
        sig["algorithm"] == "ed25519"
        and sig["file_sha256"] == hashlib.sha256((audit_dir / "audit.json").read_bytes()).hexdigest()
    )
    capsys.readouterr()

    assert cli.main(["verify", str(audit_dir), "--key", str(tmp_path / "signer.pem.pub")]) == 0
    assert f"ok         signature Ed25519, key {sig['key_id']}" in capsys.readouterr().out
    assert cli.main(["verify", str(audit_dir), "--key", str(tmp_path / "other.pem.pub")]) == verify_failed()
    assert "not by the key given" in capsys.readouterr().out

    data = (audit_dir / "audit.json").read_bytes()
    (audit_dir / "audit.json").write_bytes(data + b" ")  # same document, other bytes: the signature breaks
    assert cli.main(["verify", str(audit_dir), "--key", str(tmp_path / "signer.pem.pub")]) == verify_failed()
    out = capsys.readouterr().out
    assert "signature Ed25519: does not match this file" in out and "ok         audit.json, digest" in out


def test_hmac_signature_and_bad_keys(audit_dir, tmp_path, capsys):
    secret = tmp_path / "secret"
    secret.write_text("correct horse battery staple, long enough to sign\n")
    verify.sign(audit_dir / "audit.json", secret)
    assert cli.main(["verify", str(audit_dir), "--key", str(secret)]) == 0
    capsys.readouterr()
    assert cli.main(["verify", str(audit_dir)]) == 0  # an HMAC needs the secret: reported as not checked
    assert "unchecked  signature (HMAC-SHA256)" in capsys.readouterr().out
    wrong = tmp_path / "wrong"
    wrong.write_text("x" * 40)
    assert cli.main(["verify", str(audit_dir), "--key", str(wrong)]) == verify_failed()
    short = tmp_path / "short"
    short.write_text("too short")
    with pytest.raises(SystemExit) as exc:  # argparse refuses it before any work
        cli.main(["audit", "--db", "x.duckdb", "--out", str(tmp_path), "--sign", str(short)])
    assert exc.value.code == 2
    assert "at least 32 bytes" in capsys.readouterr().err


def test_verify_of_a_directory_without_an_audit_is_one_line(tmp_path, capsys):
    assert cli.main(["verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("agentops-audit: error: cannot read") and err.count("\n") == 1
