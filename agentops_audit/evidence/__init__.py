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
  files of the derived tables it reads (or ``metrics.params.install`` whole, when one of them needs the
  audit's inputs), so the evidence lists exactly the rows the metric counts. Both work read-only;
- text is selected raw and never truncated: the explorer masks every text column of the result
  (``pii.mask_sql``), and a value cut in half could escape the masking.

``EVIDENCE`` is the registry, read from the files of this folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_HEADER = re.compile(r"^--\s*(\w+):\s*(.*)$")
PII_FINDINGS = "pii_findings"
VIEWS_DIR = Path(__file__).resolve().parent.parent / "metrics" / "views"
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
    unbuildable = [r for r in requires if r != PII_FINDINGS and view_file(r) is None]
    if unbuildable:
        raise ValueError(f"{path.name}: requires {', '.join(unbuildable)}, which no metrics/views file creates")
    return EvidenceQuery(check=header["check"], returns=header["returns"], sql=sql, params=params, requires=requires)


_CREATES = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+(?:TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)",
                      re.IGNORECASE)


def view_tables() -> dict[str, Path]:
    """Every derived TEMP table or view of ``metrics/views`` and the file that creates it, in file order."""
    out: dict[str, Path] = {}
    for path in sorted(VIEWS_DIR.glob("*.sql")):
        for name in _CREATES.findall(path.read_text()):
            out.setdefault(name, path)
    return out


def view_file(table: str) -> Path | None:
    """The ``metrics/views`` file that creates the derived TEMP table ``table``."""
    return view_tables().get(table)


def view_plan(table: str) -> list[Path] | None:
    """The ``metrics/views`` files to run, in order, to build ``table`` and the derived tables it reads
    (those of earlier files, as ``metrics.params.install`` runs them in file order); None when one of them
    needs the audit's inputs (price table, limits, success predicate...), which only ``install`` provides."""
    tables = view_tables()
    plan: list[Path] = []

    def need(name: str) -> bool:
        path = tables[name]
        sql = re.sub(r"--[^\n]*", "", path.read_text())  # references, not comments
        if "{" in sql or re.search(r"\baudit_(prices|limits|allowlist|routing|small_models|generic_words|"
                                   r"tool_classes)\b|\bclass_origin\b|\bhandoff\b", sql):
            return False  # the audit's inputs, or the tool classes install() puts on tool_calls
        reads = [o for o in tables if tables[o].name < path.name and re.search(rf"\b{o}\b", sql)]
        if not all(need(o) for o in reads):
            return False
        if path not in plan:
            plan.append(path)
        return True

    return sorted(plan, key=lambda p: p.name) if table in tables and need(table) else None


EVIDENCE: dict[str, EvidenceQuery] = {p.stem: _parse(p) for p in sorted(Path(__file__).parent.glob("*.sql"))}
