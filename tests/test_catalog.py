"""Completeness and consistency of checks/catalog.yml against the two seed checklists.

Self-contained on purpose: it reads the YAML and the seed texts directly and does not import
agentops_audit.
"""

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

CHECKS = Path(__file__).resolve().parents[1] / "checks"
SEEDS = CHECKS / "seeds"
CATALOG = CHECKS / "catalog.yml"

EXPECTED_BULLETS = {"000": 31, "002": 24}
EVIDENCE = {"measured", "artifact", "attested"}
SEVERITY = {"blocker", "major", "minor"}
OPS = {">=", "<=", ">", "<", "=="}
UNITS = {"ratio", "count", "usd", "ms", "percent_change", "weeks", "minutes", "days"}
ID_RE = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+$")
SECTION_SLUGS = {
    1: "workflow",
    2: "eval",
    3: "observe",
    4: "security",
    5: "cost",
    6: "rollout",
    7: "ops",
}
SECTION_TITLES_000 = {
    1: "Define the workflow and success criteria",
    2: "Build an evaluation suite before scaling",
    3: "Instrumentation and observability (non-negotiable)",
    4: "Security and permissions",
    5: "Cost controls and unit economics",
    6: "Rollout plan (progressive autonomy)",
    7: "Operational process",
}


def norm(text: str) -> str:
    return " ".join(str(text).split())


def parse_seed(path: Path) -> list[tuple[int, str]]:
    """Return (section number, bullet text) pairs of one seed checklist.

    The file is a single line: an intro, then numbered sections "N) Title - bullet - bullet ...",
    then a closing sentence glued to the last bullet. The text of a section before its first
    " - " is its title (plus any lead-in such as "You're ready ... when:"), not a bullet.
    """
    text = norm(path.read_text(encoding="utf-8"))
    parts = re.split(r"(?:^|\s)(\d)\)\s", text)
    bullets: list[tuple[int, str]] = []
    for number, body in zip(parts[1::2], parts[2::2], strict=True):
        for bullet in body.split(" - ")[1:]:
            bullets.append((int(number), bullet.strip()))
    # Drop the closing sentence(s) after the last bullet: keep its first sentence only.
    section, last = bullets[-1]
    first_sentence = re.match(r"^(.*?[.!?])\s+(?=[A-Z“])", last)
    if first_sentence:
        bullets[-1] = (section, first_sentence.group(1))
    return bullets


def seed_section_titles(path: Path) -> dict[int, str]:
    text = norm(path.read_text(encoding="utf-8"))
    parts = re.split(r"(?:^|\s)(\d)\)\s", text)
    return {int(number): body.split(" - ")[0].strip() for number, body in zip(parts[1::2], parts[2::2], strict=True)}


@pytest.fixture(scope="module")
def catalog() -> dict:
    with CATALOG.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def items(catalog: dict) -> list[dict]:
    return catalog["items"]


@pytest.fixture(scope="module")
def seeds(catalog: dict) -> dict[str, list[tuple[int, str]]]:
    return {doc: parse_seed(SEEDS / meta["file"]) for doc, meta in catalog["documents"].items()}


def test_top_level(catalog: dict) -> None:
    assert catalog["schema_version"] == 1
    assert set(catalog["documents"]) == {"000", "002"}
    for meta in catalog["documents"].values():
        assert (SEEDS / meta["file"]).is_file()
        assert meta["title"]
    assert set(catalog["phases"]) == {1, 2, 3, 4}
    assert [s["id"] for s in catalog["sections"]] == list(range(1, 8))


def test_section_titles_are_those_of_document_000(catalog: dict) -> None:
    from_seed = seed_section_titles(SEEDS / catalog["documents"]["000"]["file"])
    assert from_seed == SECTION_TITLES_000
    assert {s["id"]: s["title"] for s in catalog["sections"]} == SECTION_TITLES_000


def test_seed_bullet_counts(seeds: dict) -> None:
    assert {doc: len(bullets) for doc, bullets in seeds.items()} == EXPECTED_BULLETS
    for bullets in seeds.values():
        for _, bullet in bullets:
            assert bullet and " - " not in bullet
            assert not bullet.startswith(("If you can", "If any item", "You’re ready"))


def test_every_seed_bullet_has_exactly_one_entry(seeds: dict, items: list[dict]) -> None:
    for doc, bullets in seeds.items():
        texts = Counter(norm(i["source_text"]) for i in items if i["source"] == doc)
        for _, bullet in bullets:
            assert texts[bullet] == 1, f"{doc}: {texts[bullet]} entries for bullet {bullet!r}"


def test_no_entry_without_a_seed_bullet(seeds: dict, items: list[dict]) -> None:
    known = {(doc, bullet) for doc, bullets in seeds.items() for _, bullet in bullets}
    for item in items:
        assert (item["source"], norm(item["source_text"])) in known, f"{item['id']} quotes no seed bullet"
    assert len(items) == sum(EXPECTED_BULLETS.values())


def test_doc_000_bullets_stay_in_their_own_section(seeds: dict, items: list[dict]) -> None:
    by_text = {norm(i["source_text"]): i for i in items if i["source"] == "000"}
    for section, bullet in seeds["000"]:
        assert by_text[bullet]["section"] == section, by_text[bullet]["id"]


def test_ids(items: list[dict]) -> None:
    ids = [i["id"] for i in items]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates
    for item in items:
        assert ID_RE.match(item["id"]), item["id"]
        assert item["id"].split(".")[0] == SECTION_SLUGS[item["section"]], item["id"]


def test_item_fields(items: list[dict]) -> None:
    for item in items:
        where = item["id"]
        assert item["section"] in range(1, 8), where
        assert item["source"] in EXPECTED_BULLETS, where
        assert item["evidence"] in EVIDENCE, where
        assert item["severity"] in SEVERITY, where
        assert item["phase"] in range(1, 5), where
        assert isinstance(item["title"], str) and item["title"].strip(), where
        assert isinstance(item["explain"], str) and item["explain"].strip(), where
        assert "threshold" in item and "check" in item, where
        check = item["check"]
        assert check is None or (isinstance(check, str) and check.strip()), where
        if item["evidence"] == "measured":
            assert check and not check.startswith("manifest."), where
        if item["evidence"] == "attested":
            assert check is None or check.startswith("manifest."), where
        if "stale_after_days" in item:
            assert isinstance(item["stale_after_days"], int) and item["stale_after_days"] > 0, where


def test_thresholds(items: list[dict]) -> None:
    for item in items:
        threshold = item["threshold"]
        if threshold is None:
            continue
        where = item["id"]
        assert {"metric", "op", "value", "unit"} <= set(threshold), where
        assert threshold["op"] in OPS, where
        assert threshold["unit"] in UNITS, where
        assert isinstance(threshold["value"], int | float) and not isinstance(threshold["value"], bool), where
        if threshold["unit"] == "ratio":
            assert 0 <= threshold["value"] <= 1, where


def test_every_section_has_items(items: list[dict]) -> None:
    assert {i["section"] for i in items} == set(range(1, 8))


def test_002_items_land_in_the_designed_sections(items: list[dict]) -> None:
    """Where the items of document 002 go: the section of the first checklist each one belongs to."""
    by_start = {
        "Assign a trace_id": 3,
        "Log: model name": 3,
        "PII handling": 3,
        "Build 3 dashboards": 3,
        "Create an initial eval set": 2,
        "Define 5–10 rubric": 2,
        "Set a regression gate": 2,
        "Calibrate graders": 2,
        "Put a centralized tool gateway": 4,
        "Encode constraints": 4,
        "Implement capability tiers": 6,
        "Audit logs": 4,
        "Establish budgets": 5,
        "Add model routing": 5,
        "Track token growth": 5,
        "Add backpressure": 5,
        "Define “kill switches”": 7,
        "Write 3 incident playbooks": 7,
        "Run a fire drill": 7,
        "Trace coverage": 3,
        "Tool success rate": 1,
        "Policy violations": 4,
        "Eval suite is stable": 2,
        "Cost budgets are enforced": 5,
    }
    seen = 0
    for item in items:
        if item["source"] != "002":
            continue
        starts = [s for s in by_start if item["source_text"].startswith(s)]
        assert len(starts) == 1, item["id"]
        assert item["section"] == by_start[starts[0]], item["id"]
        seen += 1
    assert seen == len(by_start)


def _thresholds_for(items: list[dict], source_start: str) -> list[dict]:
    found = [i["threshold"] for i in items if i["source_text"].startswith(source_start)]
    assert found, source_start
    return found


@pytest.mark.parametrize(
    ("source_start", "value"),
    [
        ("Establish release gates", 0.01),  # 000 says 2%, 002 says 1%: the stricter wins
        ("Set a regression gate", 0.01),
        ("Calibrate graders", 0.10),  # "~10–15%"
        ("Tool success rate is above", 0.995),
        ("Trace coverage is above", 0.95),
        ("Policy violations are below", 0.001),
        ("Expand scope only after", 4),  # "2–4 consecutive weeks"
        ("Collect 200–1,000", 200),
        ("Create an initial eval set", 200),
        ("Add loop/retry caps", 3),
        ("Define a cost-per-successful-task", 0.25),
        ("Run a fire drill", 60),
    ],
)
def test_stricter_number_rule(items: list[dict], source_start: str, value: float) -> None:
    for threshold in _thresholds_for(items, source_start):
        assert threshold is not None, source_start
        assert threshold["value"] == pytest.approx(value), source_start


def test_stale_after_days_on_recurring_attestations(items: list[dict]) -> None:
    by_check = {i["check"]: i for i in items if i["check"] in {"manifest.weekly_review", "manifest.fire_drill"}}
    assert by_check["manifest.weekly_review"]["stale_after_days"] == 7
    assert by_check["manifest.fire_drill"]["stale_after_days"] == 90
    kill = [i for i in items if i["check"] == "manifest.kill_switches"]
    assert kill and all(i.get("stale_after_days") == 90 for i in kill)
