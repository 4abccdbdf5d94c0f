"""The regulation mapping (``checks/regulation.yml``): for each framework (EU AI Act, NIST AI RMF, OWASP
Top 10 for LLM Applications 2025, OWASP Agentic AI threats), each control with the checklist items that
give evidence towards it, and, in ``audit.json``, each control's status from those items. Evidence for an
assessment, not a certification (the mapping file's ``disclaimer`` travels with every result).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import yaml

from agentops_audit.paths import checks_dir
from agentops_audit.results import NOT_APPLICABLE, plain
from agentops_audit.verdict import section_status

FILE = "regulation.yml"


class MappingError(ValueError):
    """The mapping file is malformed or names an item the catalog does not have."""


@lru_cache(maxsize=4)
def load(path: str | None = None) -> dict:
    """The mapping, checked: every framework has controls, every control an id, a title and a list of
    catalog item ids that exist."""
    from agentops_audit import catalog

    source = Path(path) if path else checks_dir() / FILE
    data = yaml.safe_load(source.read_text())
    known = {i.id for i in catalog.load().items}
    if not isinstance(data, dict) or not data.get("version") or not isinstance(data.get("frameworks"), list):
        raise MappingError(f"{source}: needs a version and a list of frameworks")
    for fw in data["frameworks"]:
        if not fw.get("id") or not fw.get("title") or not isinstance(fw.get("controls"), list):
            raise MappingError(f"{source}: a framework needs id, title and controls")
        for control in fw["controls"]:
            if not control.get("id") or not control.get("title") or not isinstance(control.get("items"), list):
                raise MappingError(f"{source}: {fw['id']}: a control needs id, title and items (a list)")
            unknown = [i for i in control["items"] if i not in known]
            if unknown:
                raise MappingError(f"{source}: {fw['id']} {control['id']}: unknown item(s) {', '.join(unknown)}")
    data["file"] = str(source)
    return data


@dataclass
class EvidenceItem:
    """A checklist item giving evidence towards a control, with its status in the audit."""

    id: str
    title: str
    status: str


@dataclass
class Control:
    id: str
    title: str
    status: str  # from its items' statuses, as a section's (verdict.section_status)
    items: list[EvidenceItem]


@dataclass
class Uncovered:
    """A control this checklist gives no evidence for."""

    id: str
    title: str


@dataclass
class Framework:
    id: str
    title: str
    reference: str | None
    controls: list[Control]
    not_covered: list[Uncovered]
    summary: dict[str, int]  # evidenced controls per status


@dataclass
class Regulation:
    """``regulation`` of audit.json."""

    version: str
    disclaimer: str
    frameworks: list[Framework]

    def to_dict(self) -> dict:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


def evaluate(doc: dict, path: str | None = None) -> Regulation:
    """Per framework, the controls with evidence (mapped items that apply) and their status, and the controls
    this checklist gives no evidence for."""
    mapping = load(path)
    items = {it["id"]: it for s in doc.get("sections", []) for it in s["items"]}
    frameworks = []
    for fw in mapping["frameworks"]:
        controls, uncovered = [], []
        for control in fw["controls"]:
            found = [EvidenceItem(i, items[i]["title"], items[i]["status"]) for i in control["items"] if i in items]
            if not found:
                uncovered.append(Uncovered(control["id"], control["title"]))
                continue
            status = section_status([(items[i.id]["status"], items[i.id]["severity"]) for i in found])
            controls.append(Control(control["id"], control["title"], status, found))
        evidenced = sorted(c.status for c in controls if c.status != NOT_APPLICABLE)
        summary = {s: evidenced.count(s) for s in dict.fromkeys(evidenced)}
        frameworks.append(Framework(fw["id"], fw["title"], fw.get("reference"), controls, uncovered, summary))
    return Regulation(mapping["version"], mapping["disclaimer"].strip(), frameworks)
