"""The readiness manifest (``readiness.yml``) and the policy-as-code file it points to.

Much of the checklist cannot be read from traces: who owns the agent, which playbooks and kill switches
exist and when they were last tested, when the team last reviewed it. The manifest declares these, each
with an owner, a date and a link, and the audit judges them (``evaluators/attested.py``), including how
stale they are. ``load`` validates the file and fails with one line naming the file, the line and the
field (``ManifestError``); the line numbers come from the YAML node marks.

Every section is optional: a section that is absent makes its checklist item FAIL ("not declared"), while
no manifest at all makes the attested items NO_DATA. ``agentops-audit init`` writes ``template.yml``.

The policy file (``policy_file``, a path relative to the manifest) holds the machine-readable limits:
the tools each agent may call, the maximum spend per action, and when an action needs approval.

The parts: ``model.py`` (what a manifest holds), ``yaml_lines.py`` (YAML with the line of every field and
the type checks), ``predicate.py`` (the success predicate's guard), ``loader.py`` (validation, the policy
file and the template).
"""

from __future__ import annotations

from agentops_audit.manifest import model
from agentops_audit.manifest.loader import TEMPLATE, TEMPLATE_PATH, load, load_policy, write_template
from agentops_audit.manifest.model import *  # noqa: F403 (the model's names: Manifest, Entry, the section words)
from agentops_audit.manifest.predicate import predicate_problem, session_columns

__all__ = [
    *model.__all__,
    "TEMPLATE",
    "TEMPLATE_PATH",
    "load",
    "load_policy",
    "predicate_problem",
    "session_columns",
    "write_template",
]
