"""The audit configuration file (YAML): tool settings, i.e. threshold overrides, prices, PII patterns.

Declared facts about the agent (its success predicate, SLOs, tool allow-list, declared phase) live in the
readiness manifest (``manifest.py``). The config's old keys for them (``DEPRECATED``) still work, behind the
manifest, and ``deprecations`` gives one line per key for the CLI to print.

Example::

    thresholds:                       # catalog item id -> threshold value replacing the default
      workflow.tool-success-per-tool: 0.99
    pii_patterns:                     # extra regexes scanned as PII, by entity name
      account_id: 'ACCT-[0-9]{8}'
    stale_after_days:                 # catalog item id -> days after which its attestation is stale
      ops.weekly-review: 14
    budgets: {max_tokens_per_task: 50000, max_tool_calls_per_task: 20, max_latency_ms_per_task: 120000}
    routing: {purposes: [classify, extract], small_models: [my-distilled-model]}
    price_table: prices.yml           # a versioned price table replacing checks/prices.yml
    weekly_alerts: {trace_coverage_drop: 0.02, policy_violation_rate_rise: 0.001, confidence: 0.95}  # alerts.py
"""

from __future__ import annotations

from pathlib import Path

import yaml

from agentops_audit.errors import InputError
from agentops_audit.metrics.params import MEASURE_KEYS, validate_config
from agentops_audit.trends import validate_alerts

KEYS = {"declared_phase", "thresholds", "pii_patterns", "stale_after_days", "weekly_alerts", *MEASURE_KEYS}
# config key -> where the readiness manifest declares it (the manifest wins when both do)
DEPRECATED = {
    "success_predicate": "workflow.success_predicate",
    "slo": "workflow.slos",
    "tool_allowlist": "tools",
    "declared_phase": "declared_phase",
}


def deprecations(config: dict, path: str | Path | None = None) -> list[str]:
    """One line per declared fact the config still holds, naming where it belongs."""
    where = f"{path}: " if path else "config: "
    return [
        f"agentops-audit: deprecated: {where}{key} belongs in the readiness manifest ({home}); "
        "the config's value is used only where the manifest declares none"
        for key, home in DEPRECATED.items()
        if config.get(key) is not None
    ]


def load(path: str | Path | None) -> dict:
    """The configuration in ``path``; an empty configuration when no path is given."""
    if not path:
        return {}
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InputError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {exc}") from exc
    raw = raw or {}
    if not isinstance(raw, dict):
        raise InputError(f"{path}: the config must be a mapping of settings")
    unknown = set(raw) - KEYS
    if unknown:
        raise InputError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KEYS))}")
    phase = raw.get("declared_phase")
    if phase is not None and phase not in (1, 2, 3, 4):
        raise InputError(f"{path}: declared_phase must be 1, 2, 3 or 4, not {phase!r}")
    stale = raw.get("stale_after_days")
    if stale is not None:
        _check_stale(path, stale)
    try:
        validate_config(raw, path.parent)
        validate_alerts(raw.get("weekly_alerts"))
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from exc
    return raw


def _check_stale(path: Path, stale) -> None:
    from agentops_audit.catalog import load as load_catalog

    if not isinstance(stale, dict) or any(
        isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in stale.values()
    ):
        raise InputError(f"{path}: stale_after_days must map catalog item ids to whole numbers of days (>= 1)")
    unknown = set(stale) - {i.id for i in load_catalog().items}
    if unknown:
        raise InputError(f"{path}: stale_after_days names unknown item(s): {', '.join(sorted(unknown))}")
