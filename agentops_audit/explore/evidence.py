"""Evidence for the explorer: the rows behind one checklist item, from its check's query in
``agentops_audit/evidence/`` (one SQL file per catalog ``check``), filtered like the frames, masked, and
ordered by time. ``Evidence`` carries them with the item's status and display line from the audit.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import duckdb
import polars as pl

from agentops_audit import catalog, db, pii
from agentops_audit.evaluators.base import PII_FIELDS
from agentops_audit.evidence import EVIDENCE, PII_FINDINGS, EvidenceQuery, view_plan
from agentops_audit.explore.mask import pii_candidates, q
from agentops_audit.explore.scope import wide_tables
from agentops_audit.metrics import params as metric_params


@dataclass
class Evidence:
    """The rows behind one checklist item. ``rows`` is empty, and ``message`` says why, when the item's
    check has no evidence query; ``total_rows`` counts the rows before ``limit``."""

    item_id: str
    title: str
    check: str | None
    severity: str
    returns: str
    rows: pl.DataFrame
    total_rows: int
    message: str = ""
    status: str | None = None  # from the audit document, when there is one
    display: str | None = None
    window: str = ""  # the sessions the rows come from (``scope.Window.why``)

    @property
    def sessions(self) -> list[str]:
        """The distinct sessions of the rows, in row order."""
        if "session_id" not in self.rows.columns:
            return []
        return self.rows["session_id"].unique(maintain_order=True).to_list()

    def _head(self) -> str:
        status = f"{self.status}: " if self.status else ""
        if not self.returns:
            return f"{status}{self.item_id} ({self.title}), check {self.check}: no evidence query"
        shown = f" (first {self.rows.height})" if self.rows.height < self.total_rows else ""
        return f"{status}{self.item_id} ({self.title}), check {self.check}: {self.total_rows} evidence rows{shown}"

    def __repr__(self) -> str:
        lines = [self._head()]
        if self.display:
            lines.append(self.display)
        lines.append(self.message or self.returns)
        if self.window:
            lines.append(f"Rows from {self.window}")
        with wide_tables():
            return "\n".join(lines) + ("\n" + repr(self.rows) if self.rows.width else "")

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self._head())}</b></p>"]
        if self.display:
            parts.append(f"<p>{html.escape(self.display)}</p>")
        parts.append(f"<p><i>{html.escape(self.message or self.returns)}</i></p>")
        if self.window:
            parts.append(f"<p><i>Rows from {html.escape(self.window)}</i></p>")
        if self.rows.width:
            with wide_tables():
                parts.append(self.rows._repr_html_())
        return "\n".join(parts)


def query_params(item: catalog.Item, query: EvidenceQuery, config: dict) -> dict | None:
    """The named parameters ``query`` declares, or None when the item lacks the threshold it needs."""
    if "threshold" in query.params and item.threshold is None:
        return None
    budgets, _ = metric_params.budgets_of(config)
    known = {
        "threshold": item.threshold.value if item.threshold else None,
        "error_streak": metric_params.ERROR_STREAK,
        **budgets,
    }
    return {p: known[p] for p in query.params}


def prepare(con: duckdb.DuckDBPyConnection, query: EvidenceQuery, config: dict) -> None:
    """Build the TEMP tables ``query`` requires, once per connection."""
    patterns = config.get("pii_patterns")
    for table in query.requires:
        if db.scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [table]):
            continue
        if table == PII_FINDINGS:
            pii.scan(con, pii_candidates(con, patterns), list(PII_FIELDS), extra_patterns=patterns)
            continue
        plan = view_plan(table)
        if plan is None:  # needs the audit's inputs: install them and every derived table
            metric_params.install(con, config)
        else:
            for view in plan:
                con.execute(view.sql)


def no_query(base: dict, item: catalog.Item) -> Evidence:
    kind = "check" if item.evidence == "measured" else f"{item.evidence} item"
    return Evidence(
        **base,
        returns="",
        rows=pl.DataFrame(),
        total_rows=0,
        message=f"No evidence query for check {item.check!r} ({kind}): there are no rows to "
        f"show. Evidence queries exist for: {', '.join(sorted(EVIDENCE))}.",
    )


def evidence_sql(con: duckdb.DuckDBPyConnection, query: EvidenceQuery, params: dict, where: str, filtered: bool) -> str:
    """The query wrapped to keep the sessions of the filters (``where`` over the ``sessions`` view as ``s``),
    count the rows and order them by time, then session, then the other columns."""
    columns = con.sql(query.sql, params=params or None).columns
    missing = {"session_id", "at"} - set(columns)
    if missing:
        raise ValueError(f"evidence query {query.check}.sql lacks column(s) {', '.join(sorted(missing))}")
    rest = [c for c in columns if c not in ("at", "session_id")]
    order = ", ".join(q(c) for c in ["at", "session_id", *rest])
    keep = f"WHERE ev.session_id IN (SELECT s.session_id FROM sessions s WHERE {where})" if filtered else ""
    return f"""
        WITH ev AS (
        {query.sql}
        )
        SELECT ev.*, count(*) OVER () AS _total FROM ev
        {keep}
        ORDER BY {order}"""
