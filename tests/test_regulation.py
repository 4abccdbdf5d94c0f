"""The regulation mapping (checks/regulation.yml): every item it names is in the catalog, control statuses
follow the items', and audit.json and the report carry it with its disclaimer."""

from __future__ import annotations

import re

import yaml

from agentops_audit import catalog
from agentops_audit.integrations import regulation
from agentops_audit.paths import checks_dir
from agentops_audit.verdict import RANK, weighted

RAW = yaml.safe_load((checks_dir() / "regulation.yml").read_text())


def test_every_item_in_the_mapping_exists_in_the_catalog():
    known = {i.id for i in catalog.load().items}
    named = {item for fw in RAW["frameworks"] for c in fw["controls"] for item in c["items"]}
    assert named and named <= known, sorted(named - known)
    regulation.load.cache_clear()
    assert regulation.load()["version"] == RAW["version"]


def test_the_frameworks_and_their_control_ids():
    frameworks = {fw["id"]: [c["id"] for c in fw["controls"]] for fw in RAW["frameworks"]}
    assert set(frameworks) == {
        "eu-ai-act",
        "nist-ai-rmf",
        "owasp-llm-2025",
        "owasp-agentic-threats",
        "owasp-agentic-2026",
    }
    assert {"Art. 12", "Art. 14"} <= set(frameworks["eu-ai-act"])
    assert frameworks["owasp-llm-2025"] == [f"LLM{n:02d}" for n in range(1, 11)]  # the whole 2025 list
    assert frameworks["owasp-agentic-threats"] == [f"T{n}" for n in range(1, 16)]
    assert frameworks["owasp-agentic-2026"] == [f"ASI{n:02d}" for n in range(1, 11)]  # the Top 10 for agents
    nist = re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE) \d\.\d{1,2}$")
    assert all(nist.match(c) for c in frameworks["nist-ai-rmf"])
    assert "not a certification" in RAW["disclaimer"]


def test_control_status_is_the_worst_weighted_status_of_its_items(demo):
    doc = demo["audit"]
    items = {it["id"]: it for s in doc["sections"] for it in s["items"]}
    reg = doc["regulation"]
    assert reg["version"] == RAW["version"] and "not a certification" in reg["disclaimer"]
    checked = 0
    for fw in reg["frameworks"]:
        mapped = {c["id"]: c["items"] for f in RAW["frameworks"] if f["id"] == fw["id"] for c in f["controls"]}
        for control in fw["controls"]:
            assert [i["id"] for i in control["items"]] == mapped[control["id"]]
            statuses = [
                weighted(items[i["id"]]["status"], items[i["id"]]["severity"])
                for i in control["items"]
                if items[i["id"]]["status"] != "NOT_APPLICABLE"
            ]
            assert control["status"] == (max(statuses, key=lambda s: RANK[s]) if statuses else "NOT_APPLICABLE")
            checked += 1
        assert {c["id"] for c in fw["not_covered"]} == {k for k, v in mapped.items() if not v}
    assert checked == sum(bool(c["items"]) for fw in RAW["frameworks"] for c in fw["controls"])
    art12 = next(c for c in reg["frameworks"][0]["controls"] if c["id"] == "Art. 12")
    assert art12["status"] == "FAIL"  # the demo's write audit trail has a broken hash chain


def test_the_report_has_the_appendix_with_the_disclaimer(demo):
    html = demo["html"]
    appendix = html.split('id="regulation"', 1)[1]
    assert "not a certification" in appendix.split("</p>", 1)[0]
    for fw in RAW["frameworks"]:
        assert f'id="regulation-{fw["id"]}"' in appendix
    assert "<code>Art. 14</code>" in appendix and "<code>LLM06</code>" in appendix
    assert 'href="#item-security.risky-approvals"' in appendix
