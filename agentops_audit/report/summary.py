"""The report's first screen, in one scope: what was audited (the week or window, its sessions, the
workflows in it), what changed since the week before, and the items that hold back the next phase.

Everything here describes the audited window only; the audit database's inputs (which, for a weekly audit,
hold every week) are accounted for in the provenance part, and say so.
"""

from __future__ import annotations

from datetime import datetime

from agentops_audit.report.fmt import _window


def synthetic_note(traces: int, doc: dict) -> str | None:
    """What a synthetic clock means for the window, when some traces run on one."""
    if not traces:
        return None
    of = int((doc.get("metrics") or {}).get("traces") or 0)
    share = "all" if of and traces >= of else f"{traces:,} of {of:,}" if of else f"{traces:,}"
    return (
        f"the times of {share} traces are synthetic: they come from transcripts without timestamps, whose "
        "messages the ingest placed one second apart (from 2000-01-01, or from the transcript's start), so "
        "the window and the latencies say nothing about when or how long those sessions ran"
    )


def _week_days(week: dict) -> str:
    """``Mon 9 – Sun 15 Nov 2026`` for the ISO week of a weekly audit."""
    try:
        start, end = datetime.fromisoformat(week["start"]), datetime.fromisoformat(week["end"])
    except (KeyError, TypeError, ValueError):
        return ""
    last = end.fromordinal(end.toordinal() - 1)
    left = (
        f"Mon {start.day}"
        + (f" {start:%b}" if start.month != last.month else "")
        + (f" {start.year}" if start.year != last.year else "")
    )
    return f"{left} – Sun {last.day} {last:%b} {last.year}"


def workflows(doc: dict) -> list[tuple[str, int]]:
    """(workflow, sessions) in the audited window, most sessions first (from the cost-per-task table,
    which has one row per workflow over every task)."""
    rows = ((doc.get("metrics") or {}).get("dashboards") or {}).get("cost_per_task") or []
    found = [
        (str(r.get("workflow") if r.get("workflow") is not None else "(no workflow label)"), int(r.get("tasks") or 0))
        for r in rows
    ]
    return sorted(found, key=lambda wf: (-wf[1], wf[0]))


def workflow_line(doc: dict) -> str | None:
    """``Declared workflow refund_eligibility: 210 of 400 sessions; 190 belong to other workflows
    (ticket_triage 190)``, or the workflows found when none is declared."""
    declared = (doc.get("manifest") or {}).get("workflow")
    found = workflows(doc)
    total = sum(n for _, n in found) or int((doc.get("metrics") or {}).get("sessions") or 0)
    if declared:
        mine = dict(found).get(declared, 0)
        others = [(w, n) for w, n in found if w != declared]
        line = f"Declared workflow {declared}: {mine:,} of {total:,} sessions"
        if others:
            rest = sum(n for _, n in others)
            line += (
                f"; {rest:,} belong to other workflow{'s' if len(others) > 1 else ''} ("
                + ", ".join(f"{w} {n:,}" for w, n in others[:4])
                + (", ..." if len(others) > 4 else "")
                + ")"
            )
        return line
    if len(found) == 1:
        return f"Workflow {found[0][0]}"
    if found:
        return "Workflows: " + ", ".join(f"{w} {n:,}" for w, n in found[:5]) + (", ..." if len(found) > 5 else "")
    return None


def scope(doc: dict) -> dict:
    """The audited window in words: ``label`` (ISO week or "Window"), ``days``, ``window`` text, whether
    its clock is synthetic, and the workflow line."""
    week = doc.get("week") or {}
    window = doc.get("window") or {}
    return {
        "week": week.get("label"),
        "days": _week_days(week) if week else "",
        "window": _window(doc),
        "synthetic": synthetic_note(window.get("synthetic_clock_traces") or 0, doc),
        "workflows": workflow_line(doc),
    }


def next_step(doc: dict) -> list[dict]:
    """The items that must pass before the next phase, with their titles (``next_phase_blockers``)."""
    titles = {it["id"]: it["title"] for s in doc.get("sections", []) for it in s["items"]}
    return [{"id": i, "title": titles.get(i, i)} for i in doc.get("next_phase_blockers") or []]


def changes(doc: dict) -> dict | None:
    """What changed since the week before, for a weekly audit (None otherwise): the alerts, the changes
    past their level that the interval could not tell from noise, and why there can be no alert yet."""
    week = doc.get("week")
    if not week:
        return None
    noise = [c["text"] for c in doc.get("changes") or [] if c.get("past_level") and not c.get("alert")]
    return {
        "week": week.get("label"),
        "alerts": [a["message"] for a in doc.get("alerts") or []],
        "noise": noise,
        "reason": week.get("no_alerts_reason"),
        "confidence": next((c["confidence"] for c in doc.get("changes") or []), None),
    }
