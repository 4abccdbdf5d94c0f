"""The weekly part, the top layer under the CLI: ``agentops-audit weekly`` audits ISO weeks one by one
(``audits.py``) and records each into the history store under its lock (``history.py``).

What an audit of one week needs from the weeks before it sits below the audit, in ``agentops_audit/trends/``
(the ``Week`` type and the week's restriction, the store's reads, changes and alerts, streaks and trend
series), so that data flows one way: cli -> weekly -> audit -> evaluators -> trends.

``run`` and ``audit_and_record`` (which ``notebooks/audit.ipynb`` calls) are this package's front.
"""

from __future__ import annotations

from agentops_audit.weekly.audits import RENDER, NoSessions, WeekResult, audit_and_record, run

__all__ = ["RENDER", "NoSessions", "WeekResult", "audit_and_record", "run"]
