"""The OTLP receiver's spool: what was accepted, on disk, on its way into the audit database.

An accepted request is appended, as one OTLP/JSON line, to the open segment of the spool before the
receiver answers 200. The loader seals the open segment every ``interval`` seconds (or when it grows past
``max_segment_bytes``) and loads the sealed segments with ``ingest.ingest`` (format ``otlp``), so they go
through the same reader, ledger (one ``sources`` row per segment), de-duplication and quarantine as any
exported file; a segment already in the ledger is never loaded again. The body of a request that could not
be read is kept as it arrived under ``rejected/`` and loaded as one quarantined record (format
``otlp-http``), so the ledger counts it too.

Layout::

    SPOOL/segment-<utc>-<pid>-<seq>.jsonl.part   the open segment (one request per line)
    SPOOL/segment-<utc>-<pid>-<seq>.jsonl        sealed: loaded, or waiting to be
    SPOOL/rejected/<utc>-<pid>-<seq>.<json|pb|other>[.<gzip|deflate>]   unreadable bodies as they arrived

The database is opened for each load and closed after it, so an audit can read it between loads (DuckDB
lets one process write a file, or several read it). While the file is busy, segments wait in the spool and
are loaded at a later tick; at start-up, segments left by an earlier run (sealed, or still ``.part`` after
a crash) are loaded.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from agentops_audit.integrations import otlp_proto

REJECTED_FORMAT = "otlp-http"
KINDS = {"application/json": "json", "application/x-protobuf": "pb"}
MEDIA = {v: k for k, v in KINDS.items()}
EXCERPT_BYTES = 300


class Spool:
    """Segment files of accepted requests; thread-safe."""

    def __init__(self, directory: str | Path, max_segment_bytes: int = 8 << 20):
        self.dir = Path(directory).resolve()
        (self.dir / "rejected").mkdir(parents=True, exist_ok=True)
        self.max_segment_bytes = max_segment_bytes
        self._lock = threading.Lock()
        self._seq = 0
        self._open: Path | None = None
        self._fh = None
        for part in sorted(self.dir.glob("segment-*.jsonl.part")):  # left by a run that did not stop cleanly
            part.rename(part.with_suffix(""))

    def _name(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}-{self._seq:06d}"

    def append(self, line: bytes) -> None:
        """Write one request (a JSON document without newlines) to the open segment and flush it to the OS."""
        with self._lock:
            if self._fh is None:
                self._open = self.dir / (self._name("segment-") + ".jsonl.part")
                self._fh = open(self._open, "ab")  # noqa: SIM115 - kept open across requests, closed by seal
            self._fh.write(line + b"\n")
            self._fh.flush()
            if self._fh.tell() >= self.max_segment_bytes:
                self._seal()

    def reject(self, body: bytes, media_type: str | None, encoding: str | None) -> Path:
        """Keep an unreadable request body as it arrived; return its path."""
        suffix = KINDS.get(media_type or "", "other")
        encoding = (encoding or "").strip().lower()
        if encoding in ("gzip", "deflate"):
            suffix += f".{encoding}"
        with self._lock:
            path = self.dir / "rejected" / f"{self._name('')}.{suffix}"
        path.write_bytes(body)
        return path

    def _seal(self) -> Path | None:
        if self._fh is None:
            return None
        self._fh.close()
        sealed = self._open.with_suffix("")  # drop .part
        self._open.rename(sealed)
        self._fh = self._open = None
        return sealed

    def seal(self) -> Path | None:
        """Close the open segment (if any) so it can be loaded; return its path."""
        with self._lock:
            return self._seal()

    def ready(self) -> list[Path]:
        """Sealed segments and rejected bodies, oldest first."""
        return sorted(self.dir.glob("segment-*.jsonl")) + sorted((self.dir / "rejected").glob("*.*"))


def read_rejected(path: Path, data: bytes, options: dict):
    """The reader of a rejected body: one quarantined record saying why it could not be read."""
    from agentops_audit.ingest.canonical import Quarantined

    kind, _, encoding = path.name.split(".", 1)[1].partition(".")
    reason = "unsupported Content-Type"
    if kind in MEDIA:
        try:
            _, doc = otlp_proto.decode(data, MEDIA[kind], encoding or None, limit=options.get("limit", 64 << 20))
        except (otlp_proto.BadRequest, otlp_proto.TooLarge) as exc:
            reason = str(exc)
        else:
            from agentops_audit.ingest.otlp import NOT_OTLP, batches_of

            reason = NOT_OTLP if batches_of(doc) is None else "accepted on a second reading (see the segments)"
    shown = data[:EXCERPT_BYTES]
    excerpt = shown.decode("utf-8", errors="replace") if kind == "json" and not encoding else f"bytes {shown.hex()}"
    yield Quarantined(f"{path.name}:1", f"OTLP/HTTP request rejected: {reason}", excerpt)


class Loader:
    """Loads sealed segments into the audit database, on a timer and once more when stopped."""

    def __init__(
        self,
        spool: Spool,
        db_path: str | Path,
        interval: float = 1.0,
        echo: Callable[[str], None] = print,
        limit: int = 64 << 20,
    ):
        self.spool, self.db_path, self.interval, self.echo, self.limit = spool, Path(db_path), interval, echo, limit
        self.stats: Counter = Counter()
        self.failed: set[Path] = set()
        self.done: set[Path] = set()  # loaded, or already in the ledger by content (same sha256)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._busy_said = False
        self._thread = threading.Thread(target=self._run, name="agentops-spool-loader", daemon=True)

    def start(self) -> Loader:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception as exc:  # never let the loader die: the data stays in the spool
                self.echo(f"receive: loading the spool failed ({type(exc).__name__}: {exc}); will retry")

    def stop(self, attempts: int = 20, wait: float = 0.5) -> bool:
        """Stop the timer, seal the open segment and load everything left; True when nothing is left.
        While the database stays busy, retries ``attempts`` times; what is still left waits in the spool."""
        self._stop.set()
        self._thread.join()
        for _ in range(attempts):
            if self.flush():
                return True
            threading.Event().wait(wait)
        return False

    def pending(self) -> list[Path]:
        return [p for p in self.spool.ready() if p not in self.failed and p not in self.done]

    def flush(self) -> bool:
        """Seal and load; True when every ready file is in the ledger (or failed), False when the database
        was busy."""
        import duckdb

        from agentops_audit import db

        with self._lock:
            self.spool.seal()
            if not self.pending():
                return True
            try:
                con = db.connect(self.db_path)
            except duckdb.IOException as exc:
                if not self._busy_said:
                    self.echo(
                        f"receive: {self.db_path} is busy ({str(exc).splitlines()[0][:120]}); "
                        "requests wait in the spool"
                    )
                    self._busy_said = True
                return False
            self._busy_said = False
            try:
                loaded = {
                    row[0]
                    for row in con.execute(
                        "SELECT path FROM sources WHERE path LIKE ?", [f"{self.spool.dir}%"]
                    ).fetchall()
                }
                for path in self.pending():
                    if str(path) not in loaded:
                        self._load(con, path)
            finally:
                con.close()
            return True

    def _load(self, con, path: Path) -> None:
        from agentops_audit import ingest
        from agentops_audit.ingest.loader import load_file

        if path.parent.name == "rejected":
            summary = load_file(con, path, REJECTED_FORMAT, read_rejected, {"limit": self.limit})
        else:
            summary = ingest.ingest(con, [str(path)], fmt="otlp")[0]
        if summary.skipped:
            self.done.add(path)
            return
        if summary.error:
            self.failed.add(path)
            self.stats["files_failed"] += 1
        else:
            self.done.add(path)
            self.stats["files_loaded"] += 1
            for key in ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined"):
                self.stats[key] += getattr(summary, key)
        self.echo(summary.line())
