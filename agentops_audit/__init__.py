"""agentops-audit: evidence-based readiness audits for tool-using LLM agents.

The public front, for notebooks and scripts::

    from agentops_audit import Explorer, audit, ingest
    ingest.ingest(con, ["traces.jsonl"])     # trace exports -> the audit database
    doc = audit.run("audit.duckdb")           # the audit.json document (typed: results.AuditDocument)
    ex = Explorer("audit.duckdb")             # the sessions, traces and evidence behind a verdict

Names load on first use, so ``import agentops_audit`` (and the CLI's start) stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_CLASSES = {  # module -> the names it gives the front
    "agentops_audit.results": ("AuditDocument", "ItemResult", "Metrics"),
    "agentops_audit.explore.explorer": ("Explorer",),
    "agentops_audit.trends.windows": ("Week",),
}
_MODULES = ("audit", "ingest")  # agentops_audit.audit, agentops_audit.ingest
_FRONT = {
    **{name: (module, name) for module, names in _CLASSES.items() for name in names},
    **{name: (f"agentops_audit.{name}", None) for name in _MODULES},
}
__all__ = ["__version__", *_FRONT]


def __getattr__(name: str):
    if name not in _FRONT:
        raise AttributeError(f"module 'agentops_audit' has no attribute {name!r}")
    module, attr = _FRONT[name]
    loaded = importlib.import_module(module)
    return getattr(loaded, attr) if attr else loaded
