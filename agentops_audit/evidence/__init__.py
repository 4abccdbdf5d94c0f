"""Evidence queries: the rows behind a checklist item, one SQL file per catalog ``check`` name.

A metric (``agentops_audit/metrics``) counts; an evidence query lists what was counted, so a FAIL in the
report leads straight to the sessions that caused it. Header lines (SQL comments) at the top of every file::

    -- check: risky_write_approvals
    -- requires: write_actions    (optional: TEMP tables the explorer builds first, see below)
    -- params: threshold          (optional: named parameters the explorer binds, see below)
    -- returns: one row per risky write with no approved approval earlier in its session

Contract, checked when the registry loads and by the tests:

- the file name is the ``check`` name of the catalog items it serves;
- the query returns a ``session_id`` column (the session it concerns, as in the ``sessions`` view) and an
  ``at`` timestamp (when it happened); the explorer filters on the first and orders by ``at``, then
  ``session_id``, then the other columns, so a file needs no ORDER BY;
- ``params`` (``$name`` in the SQL): ``threshold`` is the item's threshold value; ``error_streak`` the
  consecutive-failure limit and ``max_tokens_per_task``, ``max_tool_calls_per_task``,
  ``max_latency_ms_per_task`` the task budgets in force, all from ``metrics/params.py`` and the config;
- ``requires``: ``pii_findings`` is built by ``pii.scan`` of the stored text fields; any other name is a
  derived TEMP table of ``metrics/views/`` (e.g. ``write_actions``), built by running its file after the
  files of the derived tables it reads, as their headers declare (``metrics/sqlfiles.py``), or
  ``metrics.params.install`` whole, when one of them reads the audit's inputs,
  so the evidence lists exactly the rows the metric counts. Both work read-only;
- text is selected raw and never truncated: the explorer masks every text column of the result
  (``pii.mask_sql``), and a value cut in half could escape the masking.

``EVIDENCE`` is the registry, read from the files of this folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agentops_audit.metrics import sqlfiles

_HEADER = re.compile(r"^--\s*(\w+):\s*(.*)$")
PII_FINDINGS = "pii_findings"
PARAMS = {"threshold", "error_streak", "max_tokens_per_task", "max_tool_calls_per_task", "max_latency_ms_per_task"}


@dataclass(frozen=True)
class EvidenceQuery:
    check: str
    returns: str
    sql: str
    params: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


def _parse(path: Path) -> EvidenceQuery:
    sql = path.read_text()
    header: dict[str, str] = {}
    for line in sql.splitlines():
        m = _HEADER.match(line.strip())
        if not m:
            break
        header[m.group(1)] = m.group(2).strip()
    missing = {"check", "returns"} - set(header)
    if missing:
        raise ValueError(f"{path.name}: evidence header lacks {', '.join(sorted(missing))}")
    if header["check"] != path.stem:
        raise ValueError(f"{path.name}: header check {header['check']!r} differs from the file name")
    params = tuple(p.strip() for p in header.get("params", "").split(",") if p.strip())
    requires = tuple(r.strip() for r in header.get("requires", "").split(",") if r.strip())
    if set(params) - PARAMS:
        raise ValueError(f"{path.name}: unknown params {sorted(set(params) - PARAMS)} (known: {sorted(PARAMS)})")
    unbuildable = [r for r in requires if r != PII_FINDINGS and r not in sqlfiles.creators()]
    if unbuildable:
        raise ValueError(f"{path.name}: requires {', '.join(unbuildable)}, which no metrics/views file creates")
    return EvidenceQuery(check=header["check"], returns=header["returns"], sql=sql, params=params, requires=requires)


def view_plan(table: str) -> list[sqlfiles.ViewFile] | None:
    """The ``metrics/views`` files to run, in order, to build ``table`` and the derived tables it reads
    (``metrics/sqlfiles.py``); None when one of them reads the audit's inputs (price table, limits, tool
    classes, success predicate...), which only ``metrics.params.install`` provides."""
    plan = sqlfiles.plan([table])
    return None if sqlfiles.inputs_of(plan) else plan


EVIDENCE: dict[str, EvidenceQuery] = {p.stem: _parse(p) for p in sorted(Path(__file__).parent.glob("*.sql"))}
