"""Verifiable results: what ``audit.json`` is built from, hashed; the document's own digest; signatures;
and ``agentops-audit verify DIR``.

``audit.json`` carries ``integrity``: the sha256 of every input file (from the ``sources`` ledger), of the
config file, the readiness manifest and policy file, the catalog, suites, price table and regulation
mapping in force, and ``document_sha256``, the sha256 of the document itself: canonical JSON (keys sorted,
no whitespace, UTF-8) of the document as written, with ``integrity.document_sha256`` left out. Its first
16 hex digits are the digest the report shows and a reviewer quotes.

``--sign KEY`` writes ``audit.json.sig`` beside it: a detached signature of the exact bytes of
``audit.json``, either Ed25519 (KEY a PEM private key, see ``keygen``; the ``cryptography`` package) or
HMAC-SHA256 (KEY a file holding a shared secret of at least 32 bytes). ``verify`` recomputes every hash it
can reach and checks the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from agentops_audit.errors import InputError
from agentops_audit.results import plain

SIGNATURE_SUFFIX = ".sig"
DIGEST_CHARS = 16
MIN_SECRET_BYTES = 32
BUNDLED = {"catalog": "catalog.yml", "suites": "suites.yml", "prices": "prices.yml", "regulation": "regulation.yml"}


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class FileHash:
    path: str
    sha256: str


@dataclass
class InputHash:
    """An input file of the audit, from the ``sources`` ledger."""

    path: str
    format: str
    sha256: str
    size_bytes: int


@dataclass
class Integrity:
    """``integrity`` of audit.json; ``document_sha256`` is set by ``seal``, on the document."""

    algorithm: str
    inputs: list[InputHash]
    files: dict[str, FileHash | None]  # config, manifest, policy, catalog, suites, prices, regulation
    document_sha256: str | None = None

    def to_dict(self) -> dict:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


def _entry(path: str | Path | None) -> FileHash | None:
    if not path:
        return None
    path = Path(path).resolve()
    return FileHash(str(path), sha256_of(path))


def block(con, config_path: str | Path | None, config: dict, manifest) -> Integrity:
    """The ``integrity`` block of an audit document (``document_sha256`` is set by ``seal``)."""
    from agentops_audit.paths import checks_dir

    ledger = con.execute("SELECT path, format, sha256, size_bytes FROM sources ORDER BY source_id").fetchall()
    policy = manifest.policy if manifest else None
    files = {
        "config": _entry(config_path),
        "manifest": FileHash(str(manifest.path), manifest.sha256) if manifest else None,
        "policy": FileHash(str(policy.path), policy.sha256) if policy else None,
    }
    for key, name in BUNDLED.items():
        files[key] = _entry(checks_dir() / name)
    if config.get("price_table"):
        files["prices"] = _entry(config["price_table"])
    return Integrity("sha256", [InputHash(*row) for row in ledger], files)


def canonical(doc: dict) -> bytes:
    """The bytes ``document_sha256`` is the hash of: the document as JSON would give it back, without the
    digest itself, keys sorted, no whitespace."""
    plain = json.loads(json.dumps(doc, default=str))
    plain.get("integrity", {}).pop("document_sha256", None)
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def seal(doc: dict) -> dict:
    """Set ``integrity.document_sha256`` (creating ``integrity`` for a document without one); in place."""
    doc.setdefault("integrity", {"algorithm": "sha256", "inputs": [], "files": {}})
    doc["integrity"]["document_sha256"] = hashlib.sha256(canonical(doc)).hexdigest()
    return doc


def digest(doc: dict) -> str | None:
    full = (doc.get("integrity") or {}).get("document_sha256")
    return full[:DIGEST_CHARS] if full else None


# ---------------------------------------------------------------- keys and signatures


def _load_key(path: str | Path):
    """(algorithm, key): an Ed25519 private or public key from PEM, or an HMAC secret."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read key {path}: {exc.strerror or exc}") from exc
    if raw.lstrip().startswith(b"-----BEGIN"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        try:
            key = (
                serialization.load_pem_private_key(raw, password=None)
                if b"PRIVATE KEY" in raw
                else serialization.load_pem_public_key(raw)
            )
        except (ValueError, TypeError) as exc:
            raise InputError(f"{path}: not a readable unencrypted PEM key: {exc}") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
            raise InputError(f"{path}: only Ed25519 keys are supported (make one with `agentops-audit keygen`)")
        return "ed25519", key
    secret = raw.strip()
    if len(secret) < MIN_SECRET_BYTES:
        raise InputError(f"{path}: an HMAC secret needs at least {MIN_SECRET_BYTES} bytes, this has {len(secret)}")
    return "hmac-sha256", secret


def _raw_public(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(material: bytes) -> str:
    return hashlib.sha256(material).hexdigest()[:DIGEST_CHARS]


def sign(audit_json: str | Path, key_path: str | Path) -> Path:
    """Write ``audit.json.sig`` beside ``audit_json``; return its path."""
    audit_json = Path(audit_json)
    data = audit_json.read_bytes()
    algorithm, key = _load_key(key_path)
    doc_digest = (json.loads(data).get("integrity") or {}).get("document_sha256")
    sig = {
        "algorithm": algorithm,
        "file": audit_json.name,
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "document_sha256": doc_digest,
    }
    if algorithm == "ed25519":
        if not hasattr(key, "sign"):
            raise InputError(f"{key_path}: signing needs the private key, not the public one")
        public = _raw_public(key.public_key())
        sig.update(
            key_id=key_id(public),
            public_key=base64.b64encode(public).decode(),
            signature=base64.b64encode(key.sign(data)).decode(),
        )
    else:
        sig.update(key_id=key_id(key), signature=hmac.new(key, data, hashlib.sha256).hexdigest())
    out = audit_json.with_name(audit_json.name + SIGNATURE_SUFFIX)
    out.write_text(json.dumps(sig, indent=2) + "\n")
    return out


def keygen(out: str | Path) -> tuple[Path, Path]:
    """An Ed25519 key pair: OUT (PKCS#8 PEM, mode 0600) and OUT.pub; never overwrites."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private, public = Path(out), Path(f"{out}.pub")
    for path in (private, public):
        if path.exists():
            raise InputError(f"{path} already exists: not overwritten")
    key = ed25519.Ed25519PrivateKey.generate()
    private.touch(mode=0o600)
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


# ---------------------------------------------------------------- verify


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    changed: int = 0
    unchecked: int = 0

    def ok(self, text: str) -> None:
        self.lines.append(f"  ok         {text}")

    def bad(self, text: str) -> None:
        self.changed += 1
        self.lines.append(f"  CHANGED    {text}")

    def skip(self, text: str) -> None:
        self.unchecked += 1
        self.lines.append(f"  unchecked  {text}")


def _check_file(report: Report, label: str, entry: dict | None, root: Path, fallback: Path | None = None) -> None:
    if not entry:
        return
    path = Path(entry["path"])
    path = path if path.is_absolute() else root / path
    if not path.is_file() and fallback is not None and fallback.is_file():
        path, label = fallback, f"{label} (this toolkit's copy)"
    if not path.is_file():
        report.skip(f"{label} {entry['path']}: not found here")
    elif sha256_of(path) == entry["sha256"]:
        report.ok(f"{label} {path}")
    else:
        report.bad(f"{label} {path}: sha256 {sha256_of(path)[:12]}, the audit recorded {entry['sha256'][:12]}")


def verify(
    target: str | Path,
    key_path: str | Path | None = None,
    root: str | Path | None = None,
    db_path: str | Path | None = None,
) -> Report:
    """Recompute what ``target`` (an audit directory or its audit.json) records; see the module docstring."""
    from agentops_audit.paths import checks_dir

    target = Path(target)
    path = target / "audit.json" if target.is_dir() else target
    try:
        data = path.read_bytes()
        doc = json.loads(data)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from exc
    integrity = doc.get("integrity") if isinstance(doc, dict) else None
    if not integrity or not integrity.get("document_sha256"):
        raise InputError(f"{path} has no integrity block: it was written by a toolkit without `verify`")
    report, root = Report(), Path(root or Path.cwd())
    recomputed = hashlib.sha256(canonical(doc)).hexdigest()
    if recomputed == integrity["document_sha256"]:
        report.ok(f"audit.json, digest {recomputed[:DIGEST_CHARS]}")
    else:
        report.bad(
            f"audit.json: its content no longer matches its digest {integrity['document_sha256'][:DIGEST_CHARS]}"
            f" (now {recomputed[:DIGEST_CHARS]}): edited after it was written"
        )
    for entry in integrity.get("inputs") or []:
        _check_file(report, "input", entry, root)
    for key, entry in (integrity.get("files") or {}).items():
        _check_file(report, key, entry, root, checks_dir() / BUNDLED[key] if key in BUNDLED else None)
    if db_path:
        _check_ledger(report, integrity, db_path)
    _check_signature(report, path, data, key_path)
    return report


def _check_ledger(report: Report, integrity: dict, db_path: str | Path) -> None:
    from agentops_audit import db

    con = db.connect(db_path, read_only=True)
    try:
        stored = {s for (s,) in con.execute("SELECT sha256 FROM sources").fetchall()}
    finally:
        con.close()
    recorded = {e["sha256"] for e in integrity.get("inputs") or []}
    if stored == recorded:
        report.ok(f"ledger of {db_path}: the same {len(stored)} inputs")
    else:
        report.bad(
            f"ledger of {db_path}: {len(stored - recorded)} inputs not in the audit, "
            f"{len(recorded - stored)} in the audit but not in the database"
        )


def _check_signature(report: Report, path: Path, data: bytes, key_path: str | Path | None) -> None:
    sig_path = path.with_name(path.name + SIGNATURE_SUFFIX)
    if not sig_path.exists():
        if key_path:
            report.bad(f"signature: {sig_path.name} not found, but a key was given")
        else:
            report.lines.append("  -          not signed")
        return
    try:
        sig = json.loads(sig_path.read_text())
        algorithm, signature = sig["algorithm"], sig["signature"]
    except (ValueError, KeyError, TypeError):
        report.bad(f"signature: {sig_path.name} is not a signature file")
        return
    key = _load_key(key_path) if key_path else None
    if key and key[0] != algorithm:
        report.bad(f"signature: {sig_path.name} is {algorithm}, the key given is {key[0]}")
        return
    if algorithm == "hmac-sha256":
        if key is None:
            report.skip("signature (HMAC-SHA256): pass --key SECRET to check it")
        elif hmac.compare_digest(hmac.new(key[1], data, hashlib.sha256).hexdigest(), signature):
            report.ok(f"signature HMAC-SHA256, key {key_id(key[1])}")
        else:
            report.bad("signature HMAC-SHA256: does not match this file and key")
        return
    if algorithm != "ed25519":
        report.bad(f"signature: unknown algorithm {algorithm!r}")
        return
    _check_ed25519(report, sig, data, key[1] if key else None)


def _check_ed25519(report: Report, sig: dict, data: bytes, key) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    embedded = base64.b64decode(sig.get("public_key", ""))
    if key is not None:
        public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
        if _raw_public(public) != embedded:
            report.bad(
                f"signature: signed by key {key_id(embedded)}, not by the key given ({key_id(_raw_public(public))})"
            )
            return
    else:
        public = ed25519.Ed25519PublicKey.from_public_bytes(embedded)
    try:
        public.verify(base64.b64decode(sig["signature"]), data)
    except (InvalidSignature, ValueError):
        report.bad("signature Ed25519: does not match this file")
        return
    pinned = "" if key is not None else " (the key in the signature file: pass --key KEY.pub to check who signed)"
    report.ok(f"signature Ed25519, key {key_id(embedded)}{pinned}")
