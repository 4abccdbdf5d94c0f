"""The regulation mapping (``checks/regulation.yml``): for each framework (EU AI Act, NIST AI RMF, OWASP
Top 10 for LLM Applications 2025, OWASP Agentic AI threats), each control with the checklist items that
give evidence towards it, and, in ``audit.json``, each control's status from those items. Evidence for an
assessment, not a certification (the mapping file's ``disclaimer`` travels with every result).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from agentops_audit.paths import checks_dir
from agentops_audit.results import NOT_APPLICABLE
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


def evaluate(doc: dict, path: str | None = None) -> dict:
    """Per framework, the controls with evidence (mapped items that apply) and their status, and the controls
    this checklist gives no evidence for."""
    mapping = load(path)
    items = {it["id"]: it for s in doc.get("sections", []) for it in s["items"]}
    frameworks = []
    for fw in mapping["frameworks"]:
        controls, uncovered = [], []
        for control in fw["controls"]:
            found = [
                {"id": i, "title": items[i]["title"], "status": items[i]["status"]}
                for i in control["items"]
                if i in items
            ]
            if not found:
                uncovered.append({"id": control["id"], "title": control["title"]})
                continue
            status = section_status([(items[i["id"]]["status"], items[i["id"]]["severity"]) for i in found])
            controls.append({"id": control["id"], "title": control["title"], "status": status, "items": found})
        evidenced = [c for c in controls if c["status"] != NOT_APPLICABLE]
        frameworks.append(
            {
                "id": fw["id"],
                "title": fw["title"],
                "reference": fw.get("reference"),
                "controls": controls,
                "not_covered": uncovered,
                "summary": {
                    s: sum(c["status"] == s for c in evidenced) for s in sorted({c["status"] for c in evidenced})
                },
            }
        )
    return {"version": mapping["version"], "disclaimer": mapping["disclaimer"].strip(), "frameworks": frameworks}
