"""The verdict is a pure, monotone function: worse evidence never gives a better decision.

Property tests run on random catalogs (any mix of sections, severities and gated phases) and on the real
catalog with random statuses.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentops_audit import catalog as catalog_mod
from agentops_audit.catalog import Catalog, Item
from agentops_audit.results import ERROR, FAIL, NO_DATA, NOT_APPLICABLE, PASS, STATUSES, WARN
from agentops_audit.verdict import (
    GO,
    GO_WITH_CONDITIONS,
    INCONCLUSIVE,
    NO_GO,
    RANK,
    SEVERITY_RANK,
    VERDICTS,
    decide,
)

REAL = catalog_mod.load()
SEVERITIES = ("blocker", "major", "minor")


def _item(n: int, section: int, severity: str, phase: int) -> Item:
    return Item(
        id=f"s{section}.item-{n}",
        section=section,
        source="000",
        source_text="x",
        title=f"item {n}",
        evidence="measured",
        severity=severity,
        phase=phase,
        check=None,
        explain="",
    )


@st.composite
def catalogs(draw) -> tuple[Catalog, dict[str, str]]:
    """A random catalog over the seven sections and a status for each item."""
    specs = draw(
        st.lists(st.tuples(st.integers(1, 7), st.sampled_from(SEVERITIES), st.integers(1, 4)), min_size=1, max_size=25)
    )
    items = tuple(_item(n, *spec) for n, spec in enumerate(specs))
    cat = Catalog(
        sections={i: f"Section {i}" for i in range(1, 8)}, phases=REAL.phases, documents=REAL.documents, items=items
    )
    statuses = {i.id: draw(st.sampled_from(STATUSES)) for i in items}
    return cat, statuses


real_statuses = st.fixed_dictionaries({i.id: st.sampled_from(STATUSES) for i in REAL.items})


def worse(a: str, b: str) -> bool:
    return VERDICTS.index(a) > VERDICTS.index(b)


@settings(max_examples=300, deadline=None)
@given(catalogs(), st.data())
def test_a_failing_blocker_never_improves_the_verdict(case, data):
    cat, statuses = case
    before = decide(cat, statuses)
    target = data.draw(st.sampled_from([i.id for i in cat.items]))
    items = tuple(replace(i, severity="blocker") if i.id == target else i for i in cat.items)
    after = decide(replace(cat, items=items), {**statuses, target: FAIL})
    assert not worse(before.overall, after.overall)
    assert after.overall == NO_GO
    assert after.recommended_phase <= before.recommended_phase
    assert after.recommended_phase < cat.item(target).phase
    assert target in after.blockers and after.blockers[0] in {i.id for i in items if i.severity == "blocker"} | {target}


@settings(max_examples=300, deadline=None)
@given(catalogs(), st.data())
def test_a_worse_item_never_improves_verdict_or_phase(case, data):
    cat, statuses = case
    target = data.draw(st.sampled_from([i.id for i in cat.items]))
    worse_statuses = [s for s in STATUSES if RANK[s] > RANK[statuses[target]]]
    if not worse_statuses:
        return
    new = data.draw(st.sampled_from(worse_statuses))
    before, after = decide(cat, statuses), decide(cat, {**statuses, target: new})
    assert not worse(before.overall, after.overall)
    assert after.recommended_phase <= before.recommended_phase
    section = cat.item(target).section
    assert RANK[after.sections[section]] >= RANK[before.sections[section]]


@settings(max_examples=200, deadline=None)
@given(catalogs(), st.data())
def test_a_more_severe_item_never_improves_the_verdict(case, data):
    cat, statuses = case
    target = cat.item(data.draw(st.sampled_from([i.id for i in cat.items])))
    harsher = [s for s in SEVERITIES if SEVERITY_RANK[s] < SEVERITY_RANK[target.severity]]
    if not harsher:
        return
    items = tuple(replace(i, severity=harsher[0]) if i.id == target.id else i for i in cat.items)
    assert not worse(decide(cat, statuses).overall, decide(replace(cat, items=items), statuses).overall)


@settings(max_examples=300, deadline=None)
@given(catalogs(), st.data())
def test_no_data_never_turns_into_a_pass(case, data):
    cat, statuses = case
    target = cat.item(data.draw(st.sampled_from([i.id for i in cat.items])))
    missing = data.draw(st.booleans())  # an item without a status counts as NO_DATA
    statuses = {k: v for k, v in statuses.items() if k != target.id} if missing else {**statuses, target.id: NO_DATA}
    v = decide(cat, statuses)
    assert target.id in v.blockers  # item level: reported, short of a pass
    assert v.sections[target.section] not in (PASS, NOT_APPLICABLE)  # section level
    assert v.overall != GO  # overall
    assert v.recommended_phase < target.phase  # and it gates its phase
    if target.severity != "minor":
        assert v.overall in (INCONCLUSIVE, NO_GO)


@settings(max_examples=200, deadline=None)
@given(real_statuses)
def test_real_catalog_rules(statuses):
    v = decide(REAL, statuses)
    serious = [statuses[i.id] for i in REAL.items if i.severity != "minor"]
    if FAIL in serious:
        assert v.overall == NO_GO
    elif NO_DATA in serious or ERROR in serious:
        assert v.overall == INCONCLUSIVE
    elif any(s not in (PASS, NOT_APPLICABLE) for s in statuses.values()):
        assert v.overall == GO_WITH_CONDITIONS
    else:
        assert v.overall == GO
    # the recommended phase: every item gating a phase <= N passes, and N + 1 is blocked
    ok = {i.id for i in REAL.items if statuses[i.id] in (PASS, NOT_APPLICABLE)}
    assert all(i.id in ok for i in REAL.items if i.phase <= v.recommended_phase)
    if v.recommended_phase < 4:
        assert v.next_phase_blockers
        assert all(REAL.item(b).phase <= v.recommended_phase + 1 and b not in ok for b in v.next_phase_blockers)
    assert set(v.blockers) == {i.id for i in REAL.items} - ok


def _all(status: str) -> dict[str, str]:
    return {i.id: status for i in REAL.items}


def test_weighting_by_severity():
    minor = next(i for i in REAL.items if i.severity == "minor")
    major = next(i for i in REAL.items if i.severity == "major")
    v = decide(REAL, {**_all(PASS), minor.id: FAIL})
    assert (v.overall, v.sections[minor.section]) == (GO_WITH_CONDITIONS, WARN)
    assert v.recommended_phase == minor.phase - 1  # a minor failure still holds its phase back
    assert decide(REAL, {**_all(PASS), major.id: NO_DATA}).overall == INCONCLUSIVE
    assert decide(REAL, {**_all(PASS), major.id: FAIL, minor.id: NO_DATA}).overall == NO_GO
    assert decide(REAL, _all(PASS)).overall == GO and decide(REAL, _all(PASS)).recommended_phase == 4
    assert decide(REAL, {}).overall == INCONCLUSIVE  # nothing evaluated: every item is NO_DATA


def test_not_applicable_counts_as_a_pass_for_the_phase():
    top = [i for i in REAL.items if i.phase == 4]
    v = decide(REAL, {**_all(PASS), **{i.id: NOT_APPLICABLE for i in top}})
    assert (v.overall, v.recommended_phase, v.blockers) == (GO, 4, [])


def test_declared_phase_is_compared_with_the_recommendation():
    phase_2_item = next(i for i in REAL.items if i.phase == 2)
    statuses = {**_all(PASS), phase_2_item.id: FAIL}
    above = decide(REAL, statuses, declared_phase=3)
    assert (above.recommended_phase, above.declared_phase, above.phase_gap) == (1, 3, 2)
    assert "above what the evidence supports" in above.phase_advice
    assert phase_2_item.id in above.next_phase_blockers
    assert decide(REAL, statuses, declared_phase=1).phase_gap == 0
    assert "may expand" in decide(REAL, _all(PASS), declared_phase=2).phase_advice
    assert decide(REAL, statuses).phase_gap is None


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="MAYBE"):
        decide(REAL, {**_all(PASS), REAL.items[0].id: "MAYBE"})
