"""Plain words for the sentences leadership reads: counts with their noun in the right number, and the
names of stored fields, required fields, PII entities and defects instead of column ids (``words.yml``).

Used by the evaluators' display lines and by the report; identifiers that are the team's own data (tool,
workflow, rule and release names) are left as they are.
"""

from __future__ import annotations

from pathlib import Path

import yaml

_WORDS = yaml.safe_load((Path(__file__).resolve().parent / "words.yml").read_text())  # the vocabulary, as data
FIELDS: dict[str, str] = _WORDS["fields"]
RECORDS: dict[str, str] = _WORDS["records"]
ENTITIES: dict[str, tuple[str, str]] = {k: tuple(v) for k, v in _WORDS["entities"].items()}
DEFECTS: dict[str, tuple[str, str]] = {k: tuple(v) for k, v in _WORDS["defects"].items()}
IDS: dict[str, str] = {
    **{k: many for k, (_, many) in DEFECTS.items()},
    **{k: many for k, (_, many) in ENTITIES.items()},
    **_WORDS["ids"],
}


def plural(n: int | float, one: str, many: str | None = None) -> str:
    """``1 write``, ``2 writes``, ``1,204 tasks`` (``many`` when the plural is not ``one + "s"``)."""
    shown = f"{int(n):,}" if float(n).is_integer() else f"{n:,.1f}"
    return f"{shown} {one if n == 1 else (many or one + 's')}"


def defects(n: int, name: str) -> str:
    """A count of one kind of defect: ``1 orphan span``, ``14 orphan spans``."""
    one, many = DEFECTS.get(name, (name.replace("_", " "), name.replace("_", " ")))
    return f"{n:,} {one if n == 1 else many}"


def field(name: str) -> str:
    """A stored or required field in words: ``tool_result`` -> ``tool results``."""
    return FIELDS.get(name, name.replace("_", " "))


def entity(name: str, n: int = 2) -> str:
    """A PII entity in words, ``n`` of them: ``phone`` -> ``phone numbers`` (an organisation's own pattern
    keeps its name)."""
    one, many = ENTITIES.get(name, (name.replace("_", " "), name.replace("_", " ")))
    return one if n == 1 else many


def entities(n: int, name: str) -> str:
    """``7 phone numbers``, ``1 e-mail address``."""
    return f"{n:,} {entity(name, n)}"


def ident(name: str) -> str:
    """A known id in words (fields, entities, defects); any other string unchanged."""
    text = str(name)
    return IDS.get(text) or FIELDS.get(text) or text


# checks whose at-fault lists name rubric items or eval metrics (ids of the eval set, such as
# ``no_invented_facts``); their display lines already say them in words, and so does the at-fault line
RUBRIC_CHECKS = frozenset({"regression_gate", "judge_calibration", "eval_automated_checks"})


def at_fault(item: dict) -> list[str]:
    """An item's at-fault list in words: rubric items spelled out, known ids named, the team's names kept."""
    names = [str(n) for n in item.get("at_fault") or []]
    if item.get("check") in RUBRIC_CHECKS:
        return [IDS.get(n) or n.replace("_", " ") for n in names]
    return [ident(n) for n in names]
