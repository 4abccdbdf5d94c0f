"""The audit configuration file (YAML): threshold overrides and organisation-specific settings.

Example::

    declared_phase: 2                 # the rollout phase the team runs today (1-4)
    thresholds:                       # catalog item id -> threshold value replacing the default
      workflow.tool-success-per-tool: 0.99
    pii_patterns:                     # extra regexes scanned as PII, by entity name
      account_id: 'ACCT-[0-9]{8}'
"""

from __future__ import annotations

from pathlib import Path

import yaml

from agentops_audit.ingest.reader import InputError

KEYS = {"declared_phase", "thresholds", "pii_patterns"}


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
    return raw
