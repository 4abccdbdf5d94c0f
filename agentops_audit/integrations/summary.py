"""``--summary-md FILE``: a short Markdown verdict for a CI job summary (``$GITHUB_STEP_SUMMARY``) or a
pull-request comment: the banner line, the blockers, the week's alerts and the regression gate's table.

Writing to the file named by ``$GITHUB_STEP_SUMMARY`` appends (several steps share it); any other file is
replaced. Every value from the traces is escaped, so a tool name cannot break the table or inject markup.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

TOP_BLOCKERS = 10
ICON = {
    "GO": "🟢",
    "GO WITH CONDITIONS": "🟡",
    "INCONCLUSIVE": "⚪",
    "NO-GO": "🔴",
    "PASS": "🟢",
    "FAIL": "🔴",
    "WARN": "🟡",
    "NO_DATA": "⚪",
    "ERROR": "🟠",
}
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def esc(value) -> str:
    """A value as Markdown text: special characters escaped, one line."""
    text = "" if value is None else str(value)
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _pct(x) -> str:
    return "–" if x is None else f"{x:.1%}"


def gate_table(gate: dict) -> list[str]:
    lines = [
        f"**Regression gate: {ICON.get(gate['decision'], '')} {esc(gate['decision'])}** — "
        f"{esc(gate['candidate'])} against baseline {esc(gate['baseline'])} (drop allowed "
        f"{_pct(gate['threshold'])}, {gate['confidence']:.0%} confidence)",
        "",
        "| Metric | Baseline | Candidate | Difference | Interval | Cases | Decision |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for c in gate.get("comparisons") or []:
        interval = f"[{c['ci_low']:+.1%}, {c['ci_high']:+.1%}]" if c.get("ci_low") is not None else "–"
        diff = "–" if c.get("difference") is None else f"{c['difference']:+.1%}"
        decision = esc(c["decision"]) + (f" (needs {c['n_needed']:,} cases)" if c.get("n_needed") else "")
        lines.append(
            f"| {esc(c['metric'])} | {_pct(c.get('baseline'))} | {_pct(c.get('candidate'))} | {diff} | "
            f"{interval} | {min(c['n_baseline'], c['n_candidate']):,} | {decision} |"
        )
    return lines


def audit_markdown(doc: dict, report: str | Path | None = None) -> str:
    """The summary of one audit document."""
    from agentops_audit.integrations.verify import digest

    phase = f"recommended phase {doc.get('recommended_phase', 0)}"
    if doc.get("declared_phase"):
        phase += f", declared {doc['declared_phase']}"
    week = f" — {esc(doc['week']['label'])}" if doc.get("week") else ""
    lines = [f"## {ICON.get(doc['verdict'], '')} agentops-audit: **{esc(doc['verdict'])}**{week} ({phase})", ""]
    m = doc.get("metrics") or {}
    facts = [
        f"{m.get('sessions', 0):,} sessions",
        f"{m.get('spans', 0):,} spans",
        f"window {esc((doc.get('window') or {}).get('start'))} to {esc((doc.get('window') or {}).get('end'))}",
    ]
    if digest(doc):
        facts.append(f"result digest `{digest(doc)}`")
    lines += [" · ".join(facts), ""]
    if doc.get("phase_advice"):
        lines += [f"> {esc(doc['phase_advice'])}", ""]
    blockers = doc.get("blockers") or []
    if blockers:
        lines += [
            f"### Blockers ({len(blockers)})",
            "",
            "| | Item | Section | Found | Threshold | Owner |",
            "|---|---|---|---|---|---|",
        ]
        for b in blockers[:TOP_BLOCKERS]:
            lines.append(
                f"| {ICON.get(b['status'], '')} {esc(b['status'])} | {esc(b['title'])} (`{esc(b['item'])}`) | "
                f"{b['section']}. {esc(b['section_title'])} | {esc(b.get('display'))} | "
                f"{esc(b.get('threshold') or '–')} | {esc(b.get('owner') or '–')} |"
            )
        if len(blockers) > TOP_BLOCKERS:
            lines.append(f"\n…and {len(blockers) - TOP_BLOCKERS} more in the report.")
        lines.append("")
    else:
        lines += ["No blocker: every item passes.", ""]
    if "alerts" in doc:
        alerts = doc.get("alerts") or []
        lines += ["### Week-over-week alerts", ""]
        lines += [f"- ⚠️ {esc(a['message'])}" for a in alerts] or ["No alert this week."]
        lines.append("")
    gate = (m.get("evals") or {}).get("gate")
    if gate:
        lines += gate_table(gate) + [""]
    if report:
        lines += [f"Report: `{esc(report)}`", ""]
    return "\n".join(lines)


def gate_markdown(gate: dict) -> str:
    return "\n".join(["## agentops-audit gate", ""] + gate_table(gate) + [""])


def write(path: str | Path, text: str) -> Path:
    """Write ``text``; append when ``path`` is the file named by $GITHUB_STEP_SUMMARY."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    append = bool(step) and path.resolve() == Path(step).resolve()
    with open(path, "a" if append else "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return path
