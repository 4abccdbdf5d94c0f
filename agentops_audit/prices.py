"""The versioned model price table (``checks/prices.yml``): loading, model matching and pricing.

The audit prices spans in SQL (``metrics/params.py`` installs the table); ``PriceTable.cost`` is the
same formula in Python, for the demo generator's exporter and its ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from agentops_audit.paths import checks_dir

TIERS = ("small", "large")


@dataclass(frozen=True)
class Price:
    model: str
    input: float  # USD per `per_tokens` input tokens (cache reads excluded)
    cache_read: float  # USD per `per_tokens` cache-read input tokens
    output: float  # USD per `per_tokens` output tokens
    tier: str


@dataclass(frozen=True)
class PriceTable:
    version: str
    per_tokens: int
    models: dict[str, Price]

    def match(self, model: str | None) -> Price | None:
        """The entry whose name is the longest prefix of ``model``; None when nothing matches."""
        if not model:
            return None
        hits = [p for name, p in self.models.items() if model.startswith(name)]
        return max(hits, key=lambda p: len(p.model)) if hits else None

    def cost(
        self, model: str | None, input_tokens: int, output_tokens: int, cache_read_tokens: int = 0
    ) -> float | None:
        """USD for one call; input_tokens include the cache reads. None for an unknown model."""
        p = self.match(model)
        if p is None:
            return None
        return (
            (input_tokens - cache_read_tokens) * p.input + cache_read_tokens * p.cache_read + output_tokens * p.output
        ) / self.per_tokens


def load(path: str | Path | None = None) -> PriceTable:
    """Load and validate a price table (default: the bundled ``checks/prices.yml``)."""
    path = Path(path) if path else checks_dir() / "prices.yml"
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ValueError(f"cannot read price table {path}: {exc.strerror or exc}") from exc
    if not isinstance(raw, dict) or not raw.get("version") or not isinstance(raw.get("models"), dict):
        raise ValueError(f"{path}: a price table needs a `version` and a `models` mapping")
    models = {}
    for name, entry in raw["models"].items():
        try:
            price = Price(
                model=str(name),
                input=float(entry["input"]),
                output=float(entry["output"]),
                cache_read=float(entry.get("cache_read", entry["input"])),
                tier=str(entry["tier"]),
            )
        except (TypeError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: model {name!r} needs numeric input/output prices and a tier") from exc
        if price.tier not in TIERS:
            raise ValueError(f"{path}: model {name!r} has tier {price.tier!r}; use one of {', '.join(TIERS)}")
        models[price.model] = price
    return PriceTable(version=str(raw["version"]), per_tokens=int(raw.get("per_tokens", 1_000_000)), models=models)
