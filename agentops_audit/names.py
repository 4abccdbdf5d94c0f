"""The ``agentops.*`` attribute names: what no instrumentation convention names yet, in one registry (the
data file ``names.yml``, read into ``NAMES``).

The ingest reads them (``ingest/conventions.py`` builds its ``agentops`` entry from ``NAMES``), the
instrumentation helper writes them (``instrument.py``), and ``docs/conventions.md`` is generated from them
(``python -m agentops_audit.names``; a test compares). This module imports nothing heavy (PyYAML only), so an
application can use ``instrument`` without the audit's dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

ACCESS = ("read", "write")
RISKS = ("low", "money_movement", "identity_change", "production_change", "external_comms")
OUTCOMES = ("success", "failure", "escalated")
FAILURE_CATEGORIES = ("tool_error", "missing_context", "ambiguity", "model_refusal", "policy_block")
DECISIONS = ("allow", "deny", "require_approval")
APPROVALS = ("approved", "rejected", "requested")
TRUST = ("trusted", "untrusted")


@dataclass(frozen=True)
class Name:
    attribute: str
    column: str | None  # the canonical spans column it fills (None: read from the attributes)
    type: str
    meaning: str
    example: object
    values: tuple[str, ...] = ()


VALUE_SETS = {
    "ACCESS": ACCESS,
    "RISKS": RISKS,
    "OUTCOMES": OUTCOMES,
    "FAILURE_CATEGORIES": FAILURE_CATEGORIES,
    "DECISIONS": DECISIONS,
    "APPROVALS": APPROVALS,
    "TRUST": TRUST,
}
FILE = Path(__file__).resolve().parent / "names.yml"


def _load(path: Path = FILE) -> tuple[Name, ...]:
    """The registry from ``names.yml``; ``values`` name a set of ``VALUE_SETS``."""
    entries = yaml.safe_load(path.read_text())
    return tuple(Name(**{**e, "values": VALUE_SETS[e["values"]] if "values" in e else ()}) for e in entries)


NAMES: tuple[Name, ...] = _load()


def columns() -> dict[str, tuple[str, ...]]:
    """Canonical column -> its ``agentops.*`` attribute (for the conventions registry)."""
    return {n.column: (n.attribute,) for n in NAMES if n.column}


def markdown() -> str:
    """``docs/conventions.md``: every name with its type, values and an example."""
    lines = [
        "# The `agentops.*` attributes",
        "",
        "Generated from `agentops_audit/names.yml` (`python -m agentops_audit.names > docs/conventions.md`); "
        "a test keeps them equal. Where OpenTelemetry's GenAI conventions or another instrumentation name a "
        'concept, the audit reads those names (README, "Canonical attributes"); these are for what none '
        "names. `agentops_audit.instrument` writes them.",
        "",
        "| attribute | type | meaning | values | example |",
        "|---|---|---|---|---|",
    ]
    for n in NAMES:
        values = ", ".join(f"`{v}`" for v in n.values) or "any"
        example = f"`{n.example!r}`" if not isinstance(n.example, str) else f"`{n.example}`"
        lines.append(f"| `{n.attribute}` | {n.type} | {n.meaning} | {values} | {example} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
