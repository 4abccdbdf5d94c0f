"""The verdict: a pure function from item statuses to section statuses, the overall decision and the
recommended autonomy phase. No I/O, no clock: the same statuses always give the same verdict.

Rules (the weakest part decides, as in the ML Test Score):
- an item's weight follows its severity: a minor item that fails, errors or has no data counts as WARN
  in its section; NOT_APPLICABLE items are left out;
- a section takes the worst weighted status of its items (FAIL > ERROR > NO_DATA > WARN > PASS), and is
  NOT_APPLICABLE when none of its items applies;
- overall, the weakest section decides: a FAIL section gives NO-GO (a blocker or major item fails);
  otherwise an ERROR or NO_DATA section gives INCONCLUSIVE (a blocker or major item could not be judged);
  otherwise a WARN section gives GO WITH CONDITIONS (warnings or minor items remain); otherwise GO;
- the recommended phase is the highest N (1-4) for which every item gating a phase <= N is PASS or
  NOT_APPLICABLE (a warning, even on a minor item, holds the phase back), and 0 ("keep the agent in
  assist mode") when phase 1's items do not all pass; the items short of a pass at phase N + 1 are what
  blocks the next phase;
- the declared phase (from the readiness manifest) is compared with the recommended one: declared above
  recommended means the agent runs with more autonomy than the evidence supports.

Worsening an item (PASS -> WARN -> NO_DATA -> ERROR -> FAIL, or raising its severity) never improves the
overall verdict or raises the recommended phase; tests/test_verdict.py checks this with hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentops_audit.catalog import Catalog
from agentops_audit.results import ERROR, FAIL, NO_DATA, NOT_APPLICABLE, PASS, STATUSES, WARN

GO, GO_WITH_CONDITIONS, NO_GO, INCONCLUSIVE = "GO", "GO WITH CONDITIONS", "NO-GO", "INCONCLUSIVE"
VERDICTS = (GO, GO_WITH_CONDITIONS, INCONCLUSIVE, NO_GO)  # best first
RANK = {PASS: 0, NOT_APPLICABLE: 0, WARN: 1, NO_DATA: 2, ERROR: 3, FAIL: 4}
SEVERITY_RANK = {"blocker": 0, "major": 1, "minor": 2}
OVERALL = {
    PASS: GO,
    NOT_APPLICABLE: GO,
    WARN: GO_WITH_CONDITIONS,
    NO_DATA: INCONCLUSIVE,
    ERROR: INCONCLUSIVE,
    FAIL: NO_GO,
}  # the weakest section's status -> the overall verdict
PASSING = (PASS, NOT_APPLICABLE)
TOP_PHASE = 4


@dataclass
class Verdict:
    overall: str
    sections: dict[int, str]
    recommended_phase: int
    next_phase_blockers: list[str]
    blockers: list[str] = field(default_factory=list)  # every item short of PASS, most serious first
    declared_phase: int | None = None
    phase_gap: int | None = None  # declared - recommended: > 0 means more autonomy than the evidence supports
    phase_advice: str = ""


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


def overall(section_statuses: list[str]) -> str:
    """The weakest section decides."""
    if not section_statuses:
        return GO
    return OVERALL[max(section_statuses, key=lambda s: RANK[s])]


def recommend(catalog: Catalog, status: dict[str, str]) -> tuple[int, list[str]]:
    """(highest phase whose gating items all pass, the items that block the phase after it)."""
    phase = 0
    for candidate in range(1, TOP_PHASE + 1):
        if all(status[i.id] in PASSING for i in catalog.items if i.phase <= candidate):
            phase = candidate
        else:
            break
    blocking = (
        []
        if phase == TOP_PHASE
        else [i.id for i in catalog.items if i.phase <= phase + 1 and status[i.id] not in PASSING]
    )
    return phase, blocking


def advice(declared: int | None, recommended: int) -> str:
    if declared is None:
        return (
            f"No rollout phase is declared; the evidence supports phase {recommended}."
            if recommended
            else "No rollout phase is declared, and the evidence supports none yet: keep the agent in assist mode."
        )
    if declared > recommended:
        target = f"phase {recommended}" if recommended else "assist mode"
        return (
            f"The agent runs at phase {declared}, above what the evidence supports ({target}): "
            f"clear the blockers or step back to {target}."
        )
    if declared == recommended:
        return f"The declared phase {declared} matches the evidence."
    return f"The evidence supports phase {recommended}; the agent runs at phase {declared} and may expand."


def decide(catalog: Catalog, statuses: dict[str, str], declared_phase: int | None = None) -> Verdict:
    """``statuses`` maps every catalog item id to its status; a missing item counts as NO_DATA."""
    status = {i.id: statuses.get(i.id, NO_DATA) for i in catalog.items}
    unknown = {s for s in status.values() if s not in STATUSES}
    if unknown:
        raise ValueError(f"unknown item status(es): {', '.join(sorted(unknown))}")
    sections = {
        sid: section_status([(status[i.id], i.severity) for i in catalog.by_section(sid)]) for sid in catalog.sections
    }
    phase, next_blockers = recommend(catalog, status)
    ordered = sorted(
        (i for i in catalog.items if status[i.id] not in PASSING),
        key=lambda i: (-RANK[status[i.id]], SEVERITY_RANK[i.severity], i.phase, i.section, i.id),
    )
    return Verdict(
        overall=overall(list(sections.values())),
        sections=sections,
        recommended_phase=phase,
        next_phase_blockers=next_blockers,
        blockers=[i.id for i in ordered],
        declared_phase=declared_phase,
        phase_gap=None if declared_phase is None else declared_phase - phase,
        phase_advice=advice(declared_phase, phase),
    )
