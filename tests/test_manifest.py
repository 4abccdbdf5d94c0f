"""The readiness manifest: validation with file/line/field errors, staleness with an injected reference
date, the policy file against the tools seen in the demo traces, and the declared phase against behaviour.
Real DuckDB, real GX; the demo database comes from the session fixture, ground truth from truth.json."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from agentops_audit import audit, cli, db
from agentops_audit import catalog as catalog_mod
from agentops_audit import manifest as readiness
from agentops_audit.evaluators import AuditContext, evaluate
from agentops_audit.evaluators.attested import NO_MANIFEST
from agentops_audit.expectations import Validator
from agentops_audit.paths import checks_dir

DEMO = checks_dir() / "demo"
REF = date(2026, 11, 15)
CATALOG = catalog_mod.load()
ATTESTED = [i for i in CATALOG.items if i.check and i.check.startswith("manifest.")]
PHASE_ITEMS = {i.phase: i.id for i in CATALOG.items if i.check == "declared_phase_behaviour"}


def days(n: int) -> str:
    return (REF - timedelta(days=n)).isoformat()


def write(tmp_path: Path, text: str, policy: str | None = None, name: str = "readiness.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    if policy is not None:
        (tmp_path / "policy.yml").write_text(policy)
    return path


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("empty") / "audit.duckdb"
    db.connect(path).close()
    return path


@pytest.fixture()
def judge(validator, empty_db):
    """judge(item_id, manifest_path, db=..., as_of=..., config=...) -> ItemResult, on a real connection."""
    opened = []

    def run(
        item_id: str,
        manifest: Path | None,
        database: Path | None = None,
        as_of: date | None = REF,
        config: dict | None = None,
    ):
        con = db.connect(database or empty_db, read_only=True)
        opened.append(con)
        ctx = AuditContext(
            con=con,
            catalog=CATALOG,
            validator=validator,
            config=config or {},
            manifest=readiness.load(manifest) if manifest else None,
            as_of=as_of,
        )
        return evaluate(ctx, CATALOG.item(item_id))

    yield run
    for con in opened:
        con.close()


# ---------------------------------------------------------------- staleness, one fixture per rule


def test_weekly_review_goes_stale_after_7_days(tmp_path, judge):
    def review(age: int) -> Path:
        return write(
            tmp_path, f"manifest_version: 1\nweekly_review: {{date: {days(age)}, owner: dana, link: https://wiki/r}}\n"
        )

    fresh = judge("ops.weekly-review", review(7))
    assert (fresh.status, fresh.value) == ("PASS", 7)
    stale = judge("ops.weekly-review", review(8))
    assert stale.status == "FAIL" and stale.at_fault == ["weekly_review.date"]
    assert "older than 7 days" in stale.display and stale.evidence["manifest"] == "readiness.yml:2"
    assert stale.evidence["owner"] == "dana"
    relaxed = judge("ops.weekly-review", review(8), config={"stale_after_days": {"ops.weekly-review": 14}})
    assert relaxed.status == "PASS" and relaxed.evidence["stale_after_days"] == 14


def _kill_switches(ages: dict[str, int | None]) -> str:
    lines = ["manifest_version: 1", "kill_switches:"]
    for name, age in ages.items():
        tested = "null" if age is None else days(age)
        lines.append(f"  {name}: {{owner: oncall, last_tested: {tested}, link: https://runbooks/{name}}}")
    return "\n".join(lines) + "\n"


def test_kill_switch_tests_go_stale_after_90_days(tmp_path, judge):
    fresh = judge("ops.kill-switches", write(tmp_path, _kill_switches(dict.fromkeys(readiness.KILL_SWITCHES, 90))))
    assert (fresh.status, fresh.value) == ("PASS", 90)
    stale = judge(
        "ops.kill-switches",
        write(tmp_path, _kill_switches({"disable_writes": 10, "force_human_approval": 10, "rollback_version": 91})),
    )
    assert stale.status == "FAIL" and stale.at_fault == ["kill_switches.rollback_version"]
    never = judge(
        "ops.kill-switches", write(tmp_path, _kill_switches({"disable_writes": 10, "force_human_approval": None}))
    )
    assert never.status == "FAIL"
    assert never.at_fault == ["kill_switches.force_human_approval", "kill_switches.rollback_version"]
    assert "never tested" in never.display and "rollback_version not declared" in never.display


def _drills(*drills: tuple[int, int]) -> str:
    text = "manifest_version: 1\nfire_drills:\n"
    for age, explain in drills:
        text += (
            f"  - {{date: {days(age)}, minutes: {{detect: 5, rollback: 20, explain: {explain}}}, "
            f"owner: dana, link: https://wiki/drill-{age}}}\n"
        )
    return text


def test_fire_drill_goes_stale_after_90_days_and_must_finish_within_60_minutes(tmp_path, judge):
    fresh = judge("ops.fire-drill", write(tmp_path, _drills((200, 30), (90, 60))))  # the latest drill counts
    assert (fresh.status, fresh.value) == ("PASS", 60)
    stale = judge("ops.fire-drill", write(tmp_path, _drills((91, 30))))
    assert stale.status == "FAIL" and stale.at_fault == ["fire_drills[0].date"]
    slow = judge("ops.fire-drill", write(tmp_path, _drills((10, 61))))
    assert slow.status == "FAIL" and slow.at_fault == ["fire_drills[0].minutes.explain"] and slow.value == 61


def _credentials(age: int, schedule: int | None = None, split: bool = True) -> str:
    return (
        "manifest_version: 1\ncredentials:\n"
        f"  separate_read_write: {'true' if split else 'false'}\n"
        + (f"  rotation_days: {schedule}\n" if schedule else "")
        + f"  last_rotated: {days(age)}\n  owner: sec\n  link: https://vault/policy\n"
    )


def test_secret_rotation_goes_stale_after_its_schedule(tmp_path, judge):
    item = "security.credentials-split"
    assert judge(item, write(tmp_path, _credentials(30, schedule=30))).status == "PASS"
    missed = judge(item, write(tmp_path, _credentials(31, schedule=30)))
    assert missed.status == "FAIL" and missed.at_fault == ["credentials.last_rotated"]
    assert "30-day schedule" in missed.display
    # without a schedule the catalog's 90 days apply, and a longer schedule cannot relax them
    assert judge(item, write(tmp_path, _credentials(90))).status == "PASS"
    assert judge(item, write(tmp_path, _credentials(91))).status == "FAIL"
    assert judge(item, write(tmp_path, _credentials(100, schedule=365))).status == "FAIL"
    shared = judge(item, write(tmp_path, _credentials(1, split=False)))
    assert shared.status == "FAIL" and shared.at_fault == ["credentials.separate_read_write"]


def test_reference_date_defaults_to_the_end_of_the_audited_window(demo, judge):
    window_end = date.fromisoformat(demo["audit"]["window"]["end"][:10])
    assert demo["audit"]["as_of"] == window_end.isoformat()
    review = judge("ops.weekly-review", DEMO / "readiness.yml", database=demo["db"], as_of=None)
    assert review.evidence["as_of"] == window_end.isoformat()


# ---------------------------------------------------------------- the demo manifest in the demo audit


def _items(doc: dict) -> dict:
    return {it["id"]: it for s in doc["sections"] for it in s["items"]}


def test_demo_report_shows_the_rules_working(demo):
    doc, items = demo["audit"], _items(demo["audit"])
    declared = readiness.load(DEMO / "readiness.yml")
    assert doc["declared_phase"] == declared.declared_phase == 3
    assert doc["manifest"]["sha256"] == declared.sha256 and doc["manifest"]["owner"] == declared.owner_name
    assert items["ops.weekly-review"]["status"] == "FAIL"  # stale on purpose
    assert items["ops.weekly-review"]["at_fault"] == ["weekly_review.date"]
    for passing in (
        "ops.owner",
        "ops.kill-switches",
        "ops.fire-drill",
        "ops.three-playbooks",
        "security.credentials-split",
        "cost.backpressure",
        "rollout.capability-tiers",
    ):
        assert items[passing]["status"] == "PASS", passing
    assert doc["verdict"] == "NO-GO"
    assert all(b["owner"] for b in doc["blockers"])  # every blocker names an owner from the manifest
    assert "weekly review" in demo["html"].lower()


def test_declared_phase_against_the_demo_traces(demo):
    items, truth = _items(demo["audit"]), demo["truth"]
    phase3 = items[PHASE_ITEMS[3]]
    assert truth["unapproved_risky_writes"]
    assert phase3["status"] == "FAIL"
    assert phase3["evidence"]["sessions_beyond_phase"] == sorted(truth["unapproved_risky_writes"])
    assert phase3["value"] == len(truth["unapproved_risky_writes"])
    assert [a.split("/")[1] for a in phase3["at_fault"]] == ["issue_refund"]
    assert {items[PHASE_ITEMS[p]]["status"] for p in (1, 2, 4)} == {"NOT_APPLICABLE"}
    assert demo["audit"]["recommended_phase"] < 3


def _demo_copy(tmp_path: Path, declared: int | None, policy: str | None = None) -> Path:
    text = (DEMO / "readiness.yml").read_text()
    text = re.sub(
        r"^declared_phase: \d\n", "" if declared is None else f"declared_phase: {declared}\n", text, flags=re.M
    )
    return write(tmp_path, text, policy if policy is not None else (DEMO / "policy.yml").read_text())


def test_each_declared_phase_has_its_rule(demo, tmp_path, judge):
    declared = readiness.load(DEMO / "readiness.yml")
    writes = sorted(t for t, access in demo["truth"]["tools_seen"].items() if access == "write")
    low = {t.name for t in declared.tools if t.risk == "low"}  # drafts and internal notes: phase 2
    risky = [t for t in writes if t not in low]
    assert writes and risky and low

    one = judge(PHASE_ITEMS[1], _demo_copy(tmp_path, 1), database=demo["db"])
    assert one.status == "FAIL" and sorted(a.split("/")[1] for a in one.at_fault) == writes
    two = judge(PHASE_ITEMS[2], _demo_copy(tmp_path, 2), database=demo["db"])
    assert two.status == "FAIL" and sorted(a.split("/")[1] for a in two.at_fault) == risky
    assert judge(PHASE_ITEMS[3], _demo_copy(tmp_path, 2), database=demo["db"]).status == "NOT_APPLICABLE"
    assert judge(PHASE_ITEMS[1], _demo_copy(tmp_path, 2), database=demo["db"]).status == "NOT_APPLICABLE"

    # phase 4: the unapproved refund is allowed only within scope; the demo policy demands approval always
    strict = judge(PHASE_ITEMS[4], _demo_copy(tmp_path, 4), database=demo["db"])
    assert strict.status == "FAIL"
    scoped_policy = (DEMO / "policy.yml").read_text().replace("issue_refund: always", "issue_refund: {over_usd: 100}")
    scoped = judge(PHASE_ITEMS[4], _demo_copy(tmp_path, 4, scoped_policy), database=demo["db"])
    assert scoped.status == "PASS" and scoped.evidence["calls_beyond_phase"] == 0

    undeclared = _demo_copy(tmp_path, None)
    assert judge(PHASE_ITEMS[1], undeclared, database=demo["db"]).status == "NO_DATA"
    from_config = judge(PHASE_ITEMS[1], undeclared, database=demo["db"], config={"declared_phase": 1})
    assert from_config.status == "FAIL" and from_config.evidence["declared_in"] == "config"


# ---------------------------------------------------------------- policy-as-code against the traces


def _allowed_by(policy_path: Path) -> set[str]:
    return {t for tools in readiness.load_policy(policy_path).allowed_tools.values() for t in tools}


def test_demo_policy_reports_the_tools_it_does_not_cover(demo):
    truth, items = demo["truth"], _items(demo["audit"])
    uncovered = set(truth["tools_seen"]) - _allowed_by(DEMO / "policy.yml")
    assert uncovered  # the generator's generic http tool is in no policy
    item = items["security.policy-as-code"]
    assert item["status"] == "FAIL"
    assert {a.split("/")[1] for a in item["at_fault"]} == uncovered
    assert all("/" in a for a in item["at_fault"])  # every write tool of the demo has a rule


def _policy_for(tools: list[str], writes: list[str], rules: bool = True) -> str:
    text = f"allowed_tools:\n  '*': [{', '.join(tools)}]\n"
    if rules:
        text += "max_spend_per_action:\n" + "".join(f"  {t}: 100\n" for t in writes)
    return text


def test_policy_coverage_against_the_tools_seen(demo, tmp_path, judge):
    seen = demo["truth"]["tools_seen"]  # tool -> access, tallied by the generator
    tools, writes = sorted(seen), sorted(t for t, access in seen.items() if access == "write")
    assert writes
    covered = judge("security.policy-as-code", _demo_copy(tmp_path, 3, _policy_for(tools, writes)), database=demo["db"])
    assert covered.status == "PASS" and covered.at_fault == []
    assert covered.evidence["write_tools"] == ", ".join(writes)

    dropped = tools[0]
    partial = judge(
        "security.policy-as-code", _demo_copy(tmp_path, 3, _policy_for(tools[1:], writes)), database=demo["db"]
    )
    assert partial.status == "FAIL"
    assert [a.split("/")[1] for a in partial.at_fault] == [dropped]
    assert "does not allow it" in partial.display

    no_rules = judge(
        "security.policy-as-code", _demo_copy(tmp_path, 3, _policy_for(tools, writes, rules=False)), database=demo["db"]
    )
    assert no_rules.status == "FAIL" and no_rules.at_fault == writes


# ---------------------------------------------------------------- validation errors: file, line, field

BASE = """manifest_version: 1
owner: {name: Dana, contact: dana@example.com}
"""

BAD = [
    ("declared_phase: 7\n", "declared_phase", "out of range"),
    ("weekly_review: {date: last week, owner: a, link: https://w}\n", "weekly_review.date", "expected a date"),
    ("kill_switch:\n  disable_writes: {}\n", "kill_switch", "unknown field"),
    (
        "workflow:\n  name: w\n  success_predicate: \"outcome = 'x'; DROP TABLE spans\"\n",
        "workflow.success_predicate",
        "unexpected character ';'",
    ),
    (
        "workflow:\n  name: w\n  success_predicate: \"outcom = 'success'\"\n",
        "workflow.success_predicate",
        "unknown column 'outcom'",
    ),
    (
        "kill_switches:\n  disable_writes: {last_tested: 2026-11-01, link: https://k}\n",
        "kill_switches.disable_writes.owner",
        "required",
    ),
    ("tools:\n  - {name: a, access: read}\n  - {name: b, access: execute}\n", "tools[1].access", "expected one of"),
    ("owner: {name: Other, contact: o@example.com}\n", "owner", "duplicate key"),
    ("policy_file: missing.yml\n", "policy_file", "file not found"),
]


@pytest.mark.parametrize(("snippet", "field", "problem"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_validation_error_names_file_line_and_field(tmp_path, snippet, field, problem):
    path = write(tmp_path, BASE + snippet)
    with pytest.raises(readiness.ManifestError) as err:
        readiness.load(path)
    message = str(err.value)
    assert "\n" not in message
    top = field.split(".")[0].split("[")[0]
    first_line = next(
        n
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if line.startswith(top) and n > (2 if top == "owner" else 0)
    )
    m = re.match(rf"^{re.escape(str(path))}:(\d+): {re.escape(field)}: (.*)$", message)
    assert m, message
    assert problem in m.group(2)
    assert first_line <= int(m.group(1)) <= first_line + snippet.count("\n") - 1


def test_yaml_syntax_and_policy_errors_name_their_file_and_line(tmp_path):
    broken = write(tmp_path, "manifest_version: 1\nowner: {name: a\n")
    with pytest.raises(readiness.ManifestError, match=rf"^{re.escape(str(broken))}:\d+: invalid YAML"):
        readiness.load(broken)
    policy = "allowed_tools:\n  agent-a: [t1]\napprovals:\n  t1: sometimes\n"
    path = write(tmp_path, BASE + "policy_file: policy.yml\n", policy)
    with pytest.raises(readiness.ManifestError) as err:
        readiness.load(path)
    assert str(err.value) == (
        f"{tmp_path / 'policy.yml'}:4: approvals.t1: expected one of always, never, got 'sometimes'"
    )


def test_cli_reports_a_bad_manifest_in_one_line(tmp_path, capsys):
    bad = write(tmp_path, BASE + "declared_phase: 9\n")
    code = cli.main(
        ["audit", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "out"), "--manifest", str(bad)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"agentops-audit: error: {bad}:3: declared_phase: 9 is out of range (1..4)\n"


# ---------------------------------------------------------------- no manifest, and `init`


def test_missing_manifest_gives_no_data_and_the_audit_completes(demo):
    doc = audit.run(demo["db"])
    items = _items(doc)
    assert doc["manifest"] is None and doc["declared_phase"] is None
    for item in ATTESTED:
        assert items[item.id]["status"] == "NO_DATA", item.id
        assert items[item.id]["reason"] == NO_MANIFEST
    assert {items[i]["status"] for i in PHASE_ITEMS.values()} == {"NO_DATA"}
    assert doc["verdict"] in ("NO-GO", "INCONCLUSIVE")
    assert doc["config_hash"] != demo["audit"]["config_hash"]  # the demo's hash covers its manifest


def test_init_writes_a_template_and_never_overwrites(tmp_path, capsys, judge):
    out = tmp_path / "readiness.yml"
    assert cli.main(["init", "--out", str(out)]) == 0
    text = out.read_text()
    assert text == readiness.TEMPLATE_PATH.read_text()  # agentops_audit/manifest/template.yml, as it is
    assert cli.main(["init", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err
    assert out.read_text() == text
    # as written, every section is commented out: the items FAIL as "not declared", never pass
    for item in ATTESTED:
        assert judge(item.id, out).status == "FAIL", item.id
    # uncommented, the examples form a valid manifest
    example = "\n".join(
        line[2:] if line.startswith("# ") else line for line in text.splitlines() if not line.startswith("##")
    )
    shutil.copy(DEMO / "policy.yml", tmp_path / "policy.yml")
    filled = write(tmp_path, example, name="filled.yml")
    declared = readiness.load(filled)
    assert declared.workflow and declared.success_predicate and declared.policy is not None
    assert set(declared.kill_switches) == set(readiness.KILL_SWITCHES)
    assert set(declared.playbooks) == {"incident", *readiness.PLAYBOOKS}
