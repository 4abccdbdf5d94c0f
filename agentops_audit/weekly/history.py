"""The weekly history store, write side: the lock every writer holds, and recording one audited week.
The store's schema and reads are in ``trends/store.py``; ``HistoryError``, raised there for a file that
is not a history store, is raised here too.

Re-recording a week replaces that week's rows of ``weeks``, ``week_metrics`` and ``week_items`` and adds
one ledger row (``runs``), in one transaction: a week is never duplicated and never half-written.

DuckDB lets one process at a time open a file for writing, so every writer holds ``locked(path)``, an
exclusive ``fcntl.flock`` on ``<history>.lock`` (left in place: deleting a lock file races), taken
with a bounded wait; the weekly command holds it for the whole run, reads included, so the weeks of
two concurrent runs can neither interleave nor compare against a half-recorded week.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from agentops_audit.db import scalar
from agentops_audit.trends.store import HistoryError, connect, stable

__all__ = ["HistoryBusy", "HistoryError", "Lock", "inputs_of", "lock_path", "locked", "record"]

LOCK_POLL_S = 0.2


class HistoryBusy(RuntimeError):
    """Another run holds the history's lock past the allowed wait."""


@dataclass
class Lock:
    """A held history lock: when it was taken and how long the run waited for it."""

    path: Path
    acquired_at: datetime
    waited_s: float
    _fd: int = field(repr=False, default=-1)


def lock_path(history: str | Path) -> Path:
    return Path(str(history) + ".lock")


@contextmanager
def locked(
    history: str | Path, timeout: float = 60.0, note: str = "", echo: Callable[[str], None] | None = None
) -> Iterator[Lock]:
    """Hold the exclusive lock of ``history`` (waiting at most ``timeout`` seconds, then HistoryBusy).

    ``note`` (e.g. the weeks being audited) is written into the lock file with the pid, so a run that
    has to wait, or gives up, can say who holds the lock; ``echo`` is told once when the wait starts.
    """
    path = lock_path(history)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    began = time.monotonic()
    told = held = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(path)
                if time.monotonic() - began >= timeout:
                    raise HistoryBusy(
                        f"history {history} is in use by another run ({holder}); gave up after "
                        f"{timeout:g} s (raise --lock-timeout to wait longer)"
                    ) from None
                if echo and not told:
                    echo(f"waiting up to {timeout:g} s for the history lock held by {holder}")
                    told = True
                time.sleep(LOCK_POLL_S)
        held = True
        acquired = datetime.now(UTC).replace(tzinfo=None)
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            f"pid {os.getpid()} on {socket.gethostname()} since {acquired:%Y-%m-%d %H:%M:%S} UTC"
            f"{' (' + note + ')' if note else ''}\n".encode(),
            0,
        )
        yield Lock(path, acquired, round(time.monotonic() - began, 3), fd)
    finally:
        if held:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)  # closing also releases the lock if the process dies: it never outlives its holder


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        text = ""
    return text or "holder unknown"


def inputs_of(doc: dict) -> list[dict]:
    """The input files of an audit document (path and sha256), the ledger's record of what was read."""
    return [{"path": i.get("path"), "sha256": i.get("sha256")} for i in doc.get("provenance", {}).get("inputs", [])]


def record(history: str | Path, doc: dict, lock: Lock) -> int:
    """Record the weekly audit ``doc`` (an audit document with a ``week``) into ``history`` in one
    transaction: its week's rows replace any earlier ones, and one ledger row is appended. Returns the
    ledger's run id. ``lock`` proves the caller holds the history lock."""
    if lock.path != lock_path(history):
        raise ValueError(f"record() needs the lock of {history}, not {lock.path}")
    week = doc["week"]
    inputs = inputs_of(doc)
    digest = hashlib.sha256("\n".join(sorted(str(i["sha256"]) for i in inputs)).encode()).hexdigest()
    items = [
        (week["label"], it["id"], it["status"], stable(it.get("value")), it.get("display") or it.get("reason"))
        for s in doc["sections"]
        for it in s["items"]
    ]
    metrics = [(week["label"], k, stable(v)) for k, v in sorted(doc["weekly_metrics"].items())]
    con = connect(history)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            run_id = scalar(
                con,
                """
                INSERT INTO runs (week, started_at, recorded_at, waited_s, database, inputs, inputs_sha256,
                                  config_hash, toolkit_version, verdict, alerts, host, pid)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING run_id""",
                [
                    week["label"],
                    lock.acquired_at,
                    datetime.now(UTC).replace(tzinfo=None),
                    lock.waited_s,
                    doc.get("database"),
                    json.dumps(inputs),
                    digest,
                    doc.get("config_hash"),
                    doc.get("toolkit_version"),
                    doc["verdict"],
                    len(doc.get("alerts") or []),
                    socket.gethostname(),
                    os.getpid(),
                ],
            )
            for table in ("weeks", "week_metrics", "week_items"):
                con.execute(f"DELETE FROM {table} WHERE week = ?", [week["label"]])
            con.execute(
                "INSERT INTO weeks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    week["label"],
                    week["start"],
                    week["end"],
                    doc["verdict"],
                    doc.get("recommended_phase"),
                    doc["weekly_metrics"].get("sessions"),
                    doc.get("config_hash"),
                    run_id,
                ],
            )
            if metrics:
                con.executemany("INSERT INTO week_metrics VALUES (?, ?, ?)", metrics)
            if items:
                con.executemany("INSERT INTO week_items VALUES (?, ?, ?, ?, ?)", items)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return run_id
    finally:
        con.close()
