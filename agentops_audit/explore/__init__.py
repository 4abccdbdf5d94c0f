"""The explorer: the sessions, traces and evidence behind a verdict, as masked polars frames.

``explorer.py`` (``Explorer``), ``scope.py`` (which sessions a window covers, the audit.json it follows),
``evidence.py`` (the evidence queries of ``agentops_audit/evidence/`` run for the explorer), ``trace.py``
(one trace's spans), ``mask.py`` (PII masking of every text value) and ``charts.py`` (Altair charts).
"""

from __future__ import annotations

from agentops_audit.explore.explorer import DatabaseBusy, Evidence, Explorer, Verdict, mask_frame, week_range

__all__ = ["DatabaseBusy", "Evidence", "Explorer", "Verdict", "mask_frame", "week_range"]
