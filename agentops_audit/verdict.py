"""The verdict: a pure function from item statuses to section statuses, the overall decision and the
recommended autonomy phase.

Rules (the weakest part decides, as in the ML Test Score):
- an item's weight follows its severity: a minor item that fails, errors or has no data counts as WARN
  in its section; NOT_APPLICABLE items are left out;
- a section takes the worst weighted status of its items (FAIL > ERROR > NO_DATA > WARN > PASS);
- overall: NO-GO when a blocker or major item fails; otherwise INCONCLUSIVE when a blocker or major item
  has NO_DATA or ERROR; otherwise GO WITH CONDITIONS when anything is short of PASS; otherwise GO;
- the recommended phase is the highest N (1-4) for which every item gating a phase <= N passes, and 0
  ("keep the agent in assist mode") when phase 1's items do not all pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentops_audit.catalog import Catalog
from agentops_audit.results import ERROR, FAIL, NO_DATA, NOT_APPLICABLE, PASS, WARN

GO, GO_WITH_CONDITIONS, NO_GO, INCONCLUSIVE = "GO", "GO WITH CONDITIONS", "NO-GO", "INCONCLUSIVE"
VERDICTS = (GO, GO_WITH_CONDITIONS, INCONCLUSIVE, NO_GO)  # best first
RANK = {PASS: 0, NOT_APPLICABLE: 0, WARN: 1, NO_DATA: 2, ERROR: 3, FAIL: 4}
SEVERITY_RANK = {"blocker": 0, "major": 1, "minor": 2}
TOP_PHASE = 4


@dataclass
class Verdict:
    overall: str
    sections: dict[int, str]
    recommended_phase: int
    next_phase_blockers: list[str]
    blockers: list[str] = field(default_factory=list)  # every item short of PASS, most serious first


def weighted(status: str, severity: str) -> str:
    if severity == "minor" and status in (FAIL, ERROR, NO_DATA):
        return WARN
    return status


def section_status(pairs: list[tuple[str, str]]) -> str:
    """Worst weighted status of (status, severity) pairs; NOT_APPLICABLE when nothing applies."""
    relevant = [weighted(s, sev) for s, sev in pairs if s != NOT_APPLICABLE]
    if not relevant:
        return NOT_APPLICABLE
    return max(relevant, key=lambda s: RANK[s])


def overall(pairs: list[tuple[str, str]]) -> str:
    serious = [s for s, sev in pairs if sev in ("blocker", "major")]
    if FAIL in serious:
        return NO_GO
    if NO_DATA in serious or ERROR in serious:
        return INCONCLUSIVE
    if any(s not in (PASS, NOT_APPLICABLE) for s, _ in pairs):
        return GO_WITH_CONDITIONS
    return GO


def decide(catalog: Catalog, statuses: dict[str, str]) -> Verdict:
    """``statuses`` maps every catalog item id to its status; a missing item counts as NO_DATA."""
    status = {i.id: statuses.get(i.id, NO_DATA) for i in catalog.items}
    sections = {
        sid: section_status([(status[i.id], i.severity) for i in catalog.by_section(sid)])
        for sid in catalog.sections
    }
    passing = {i.id for i in catalog.items if status[i.id] in (PASS, NOT_APPLICABLE)}
    phase = 0
    for candidate in range(1, TOP_PHASE + 1):
        if all(i.id in passing for i in catalog.items if i.phase <= candidate):
            phase = candidate
        else:
            break
    next_blockers = [] if phase == TOP_PHASE else [
        i.id for i in catalog.items if i.phase <= phase + 1 and i.id not in passing]
    ordered = sorted(
        (i for i in catalog.items if i.id not in passing),
        key=lambda i: (-RANK[status[i.id]], SEVERITY_RANK[i.severity], i.phase, i.section, i.id),
    )
    return Verdict(
        overall=overall([(status[i.id], i.severity) for i in catalog.items]),
        sections=sections,
        recommended_phase=phase,
        next_phase_blockers=next_blockers,
        blockers=[i.id for i in ordered],
    )
