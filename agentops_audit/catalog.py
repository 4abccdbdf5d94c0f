"""The checklist catalog (``checks/catalog.yml``): sections, items, thresholds, the phases they gate, and what
each judged check means in words (``checks``: the rows of the README's check tables)."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from agentops_audit.paths import checks_dir

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
SEVERITIES = ("blocker", "major", "minor")


@dataclass(frozen=True)
class Threshold:
    metric: str
    op: str
    value: float
    unit: str
    note: str = ""

    def holds(self, observed: float) -> bool:
        return OPS[self.op](observed, self.value)

    def describe(self) -> str:
        return f"{self.op} {self.value:g} {self.unit}".strip()


@dataclass(frozen=True)
class Item:
    id: str
    section: int
    source: str
    source_text: str
    title: str
    evidence: str
    severity: str
    phase: int
    check: str | None
    explain: str
    threshold: Threshold | None = None
    stale_after_days: int | None = None


@dataclass(frozen=True)
class CheckText:
    """A judged check in words: what it measures, and its default threshold."""

    means: str
    default: str


@dataclass(frozen=True)
class Catalog:
    sections: dict[int, str]
    phases: dict[int, str]
    documents: dict[str, dict]
    items: tuple[Item, ...]
    checks: dict[str, CheckText] = field(default_factory=dict)  # check name -> its row of the README's tables

    def by_section(self, section: int) -> list[Item]:
        return [i for i in self.items if i.section == section]

    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)


def load(path: str | Path | None = None, overrides: dict[str, float] | None = None) -> Catalog:
    """Load the catalog; ``overrides`` maps an item id to a threshold value that replaces the default."""
    path = Path(path) if path else checks_dir() / "catalog.yml"
    raw = yaml.safe_load(path.read_text())
    items = []
    for entry in raw["items"]:
        threshold = Threshold(**entry["threshold"]) if entry.get("threshold") else None
        fields = {
            k: entry.get(k)
            for k in (
                "id",
                "section",
                "source",
                "source_text",
                "title",
                "evidence",
                "severity",
                "phase",
                "check",
                "explain",
                "stale_after_days",
            )
        }
        items.append(Item(threshold=threshold, **fields))
    overrides = overrides or {}
    unknown = set(overrides) - {i.id for i in items}
    if unknown:
        raise ValueError(f"threshold overrides name unknown items: {', '.join(sorted(unknown))}")
    items = [
        replace(i, threshold=replace(i.threshold, value=overrides[i.id], note="overridden by config"))
        if i.id in overrides and i.threshold
        else i
        for i in items
    ]
    return Catalog(
        sections={s["id"]: s["title"] for s in raw["sections"]},
        phases={int(k): v for k, v in raw["phases"].items()},
        documents=raw["documents"],
        items=tuple(items),
        checks={name: CheckText(**text) for name, text in (raw.get("checks") or {}).items()},
    )
