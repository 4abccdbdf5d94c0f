"""``agentops-audit weekly``: audit ISO weeks one by one and record each into the history store.

For each week, oldest first: audit the sessions that started in it (``windows``) against the history
recorded before it (``trends``), write ``<out_root>/<week>/audit.json`` (and, when the week is rendered,
``readiness-report.html`` and the executed notebooks, through papermill), then record the week into
the history in one transaction (``history.record``). The history lock is held for the whole run, so a
second run on the same history waits (``lock_timeout`` seconds at most) and never interleaves with it.

A backfill renders the last week with data only (``render="last"``); past weeks get ``audit.json``
alone, which is all the history needs. A week without sessions is skipped and not recorded (so it ends
every streak); a single week without sessions is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from agentops_audit import db
from agentops_audit.trends import store
from agentops_audit.trends.windows import Week, sessions_in
from agentops_audit.weekly import history

RENDER = ("last", "all", "none")


class NoSessions(ValueError):
    """No week asked for has a session in the audit database."""


@dataclass
class WeekResult:
    week: Week
    out_dir: Path
    doc: dict
    run_id: int
    rendered: bool


def session_counts(db_path: str | Path, weeks: list[Week]) -> dict[Week, int]:
    con = db.connect(db_path, read_only=True)
    try:
        return {w: sessions_in(con, w) for w in weeks}
    finally:
        con.close()


def weeks_with_data(db_path: str | Path) -> str:
    """Which ISO weeks hold sessions, as the end of an error message: ``weeks with sessions: 2026-W41 (400),
    ...; pass one with --week or --from/--to``."""
    con = db.connect(db_path, read_only=True)
    try:
        rows = con.execute(
            "SELECT week, count(*) FROM (SELECT strftime(min(start_time), '%G-W%V') AS week "
            "FROM span_sessions GROUP BY session_key HAVING min(start_time) IS NOT NULL) "
            "GROUP BY week ORDER BY week"
        ).fetchall()
    finally:
        con.close()
    if not rows:
        return "the database holds no session with a start time: ingest traces first"
    shown = [f"{w} ({n:,})" for w, n in rows]
    if len(shown) > 8:
        shown = [*shown[:3], f"... {len(shown) - 6} more ...", *shown[-3:]]
    return f"weeks with sessions: {', '.join(shown)}; pass one with --week, or a range with --from/--to"


def run(
    db_path: str | Path,
    history_path: str | Path,
    weeks: list[Week],
    out_root: str | Path,
    *,
    config_path: str | Path | None = None,
    manifest_path: str | Path | None = None,
    as_of: date | None = None,
    render: str = "last",
    lock_timeout: float = 300.0,
    last_out: str | Path | None = None,
    echo: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
    before_week: Callable[[Week], None] | None = None,
) -> list[WeekResult]:
    """Audit and record ``weeks`` (oldest first); see the module docstring. ``last_out`` replaces
    ``<out_root>/<week>`` for the last week audited (the demo writes it to its own folder); ``before_week``
    is called with each week before it is audited (``--engine spark`` runs its metrics there). Raises
    ``history.HistoryBusy`` when the lock stays taken, ``store.HistoryError`` when ``history_path`` is
    not a history store, ``NoSessions`` when no week has data."""
    if render not in RENDER:
        raise ValueError(f"render must be one of {', '.join(RENDER)}")
    weeks = sorted(set(weeks))
    note = f"weekly {weeks[0]}" + (f"..{weeks[-1]}" if len(weeks) > 1 else "")
    with history.locked(history_path, lock_timeout, note=note, echo=warn) as lock:
        echo(
            f"History {history_path}: lock held for {note}"
            + (f" after waiting {lock.waited_s:.1f} s" if lock.waited_s >= 1 else "")
        )
        store.connect(history_path).close()  # create the store, or refuse a file that is not one, up front
        counts = session_counts(db_path, weeks)
        todo = [w for w in weeks if counts[w]]
        if not todo:
            raise NoSessions(
                f"no session in the audit database started in {note.split(' ', 1)[1]}; " + weeks_with_data(db_path)
            )
        for w in weeks:
            if not counts[w]:
                warn(f"{w}: no sessions, skipped (not recorded)")
        plan = [
            (
                w,
                render == "all" or (render == "last" and w == todo[-1]),
                Path(last_out) if last_out and w == todo[-1] else Path(out_root) / w.label,
            )
            for w in todo
        ]
        validator = None
        if not all(rendered for _, rendered, _ in plan):  # one GX context for the in-process audits
            from agentops_audit.expectations import Validator

            validator = Validator()
        done = []
        for w, rendered, out in plan:
            if before_week is not None:
                before_week(w)
            done.append(
                _one(db_path, history_path, w, out, config_path, manifest_path, as_of, lock, rendered, validator, echo)
            )
        return done


def audit_and_record(
    db_path: str | Path,
    history_path: str | Path,
    week: str,
    out_dir: str | Path,
    config_path: str | Path | None = None,
    manifest_path: str | Path | None = None,
    as_of: date | str | None = None,
    lock_timeout: float = 300.0,
) -> dict:
    """Audit ``week`` in this process, write ``out_dir/audit.json`` and record the week into the history,
    all under the history lock; return the audit document. This is what ``notebooks/audit.ipynb`` does
    when an orchestrator runs it with ``record_history`` (``agentops-audit weekly`` records by itself)."""
    as_of = date.fromisoformat(as_of) if isinstance(as_of, str) and as_of else as_of or None
    return run(
        db_path,
        history_path,
        [Week.parse(week)],
        out_dir,
        config_path=config_path or None,
        manifest_path=manifest_path or None,
        as_of=as_of,
        render="none",
        lock_timeout=lock_timeout,
        last_out=out_dir,
    )[-1].doc


def _one(
    db_path,
    history_path,
    week: Week,
    out: Path,
    config_path,
    manifest_path,
    as_of,
    lock,
    rendered: bool,
    validator,
    echo,
) -> WeekResult:
    if rendered:
        from agentops_audit.pipeline import audit_and_report

        doc = audit_and_report(db_path, out, config_path, manifest_path, as_of, week=week.label, history=history_path)
    else:
        from agentops_audit import audit
        from agentops_audit import config as audit_config

        doc = audit.run(
            db_path,
            audit_config.load(config_path),
            validator=validator,
            manifest=manifest_path,
            as_of=as_of,
            week=week.label,
            history=history_path,
            config_path=config_path,
        )
        audit.write(doc, out)
    run_id = history.record(history_path, doc, lock)
    alerts = doc.get("alerts") or []
    echo(
        f"{week}: {doc['verdict']} (recommended phase {doc['recommended_phase']}), "
        f"{doc['weekly_metrics']['sessions']:.0f} sessions, {len(alerts)} alert{'s' if len(alerts) != 1 else ''}; "
        f"{out / ('readiness-report.html' if rendered else 'audit.json')} (history run {run_id})"
    )
    for a in alerts:
        echo(f"  ALERT {a['message']}")
    for c in doc.get("changes") or []:
        if c["past_level"] and not c["alert"]:
            echo(f"  {c['text']}")
    if doc["week"].get("no_alerts_reason"):
        echo(f"  {doc['week']['no_alerts_reason']}")
    return WeekResult(week, out, doc, run_id, rendered)
