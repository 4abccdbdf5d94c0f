"""Explore an audit database from JupyterLab: polars frames of sessions, calls, failures and the evidence
rows behind any checklist item. The frames' SQL is in ``explore/frames.py``, charts over them in ``explore/charts.py``.

    from agentops_audit.explore import Explorer
    ex = Explorer("reports/demo/audit.duckdb")            # finds the verdict (audit.json) and its window
    ex.verdict()                                          # where to start: verdict, blockers, window shown
    ex.sessions(workflow="refund_eligibility", outcome="failure")
    ex.failures(tool="lookup_order")
    ev = ex.evidence("workflow.tool-success-per-tool")    # the rows behind a checklist item
    ex.trace(session_id=ev.sessions[0], evidence=ev)      # one session's span tree, evidence spans marked

The window agrees with the verdict (``explore/scope.py``): a weekly audit's verdict covers one ISO week, so
by default the explorer shows that week only (sessions, evidence, example traces), through the same
``windows.restrict`` the audit used; ``Explorer(db, window="all")`` shows every week and
``window="2026-W45"`` another one. ``audit_json=`` names the verdict when it is not found by itself.

Read-only and short-lived: every call opens the file read-only (``db.connect(path, read_only=True)``), runs
its queries and closes it again, so a notebook left open holds no lock between calls. DuckDB lets several
processes read a file or one process write it, never both: a call made while another process (an ingest)
has the file open for writing raises ``DatabaseBusy``, and an ingest that starts while a call is running
fails to get its lock (DuckDB does not wait).

Masked: every text value of every frame goes through ``pii.mask_sql`` in DuckDB (``explore/mask.py``;
identifiers included: an id that looks like personal data is masked too), so frames and screenshots never
show raw personal data or secrets. Text is masked, not HTML-escaped: polars escapes it when a notebook
shows a frame, and Altair draws it as text (see ``charts.enable_safe_rendering``).

Filters, the same keywords on every frame (``frames.Selection``): ``workflow``, ``outcome`` (success, failure,
escalated) and ``week`` (ISO week ``2026-W46``, of the session's start) select sessions; ``tool`` keeps the
sessions that called that tool, and in frames of tool calls only that tool's calls. An unknown keyword is a
``TypeError`` that lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Unpack

import duckdb
import polars as pl

from agentops_audit import catalog, db
from agentops_audit.evidence import EVIDENCE
from agentops_audit.explore.evidence import Evidence, evidence_sql, no_query, prepare, query_params
from agentops_audit.explore.frames import (
    Selection,
    failures_sql,
    llm_calls_sql,
    sessions_sql,
    sessions_where,
    tool_calls_sql,
)
from agentops_audit.explore.mask import mask_frame, masked_texts, q
from agentops_audit.explore.scope import (
    Verdict,
    Window,
    blockers_frame,
    find_audit_json,
    no_verdict_message,
    read_audit,
    week_range,
)
from agentops_audit.explore.trace import EXAMPLE_SQL, mark_evidence, trace_sql
from agentops_audit.trends import windows

__all__ = ["DatabaseBusy", "Evidence", "Explorer", "Verdict", "mask_frame", "week_range"]

_NESTED = ("[]", "STRUCT", "MAP", "UNION", "JSON")  # DuckDB types shown as text so their strings get masked


class DatabaseBusy(RuntimeError):
    """The audit database is open for writing elsewhere (DuckDB: one writer or many readers)."""


class Explorer:
    """Read-only queries over one audit database (see the module docstring).

    ``audit_json`` is the verdict's audit document (a file, or the folder ``audit --out`` or ``weekly
    --out-root`` wrote); by default it is found by ``scope.find_audit_json``. ``window`` is "audit"
    (default: the window the verdict covers), "all", or an ISO week. ``config`` (the audit config as a dict:
    threshold overrides, PII patterns) defaults to the config recorded in the audit document, so evidence
    uses the thresholds of the audit.
    """

    def __init__(
        self,
        db_path: str | Path,
        config: dict | None = None,
        audit_json: str | Path | None = None,
        window: str = "audit",
    ):
        self.path = Path(db_path)
        if not self.path.exists():
            raise FileNotFoundError(f"audit database not found: {self.path}")
        self.audit_json = find_audit_json(self.path, audit_json)
        audit = self._audit_doc()
        self.window = Window.of(window, audit)
        self.config = config if config is not None else (audit or {}).get("config") or {}
        self.catalog = catalog.load(overrides=self.config.get("thresholds"))
        self._pii_patterns = self.config.get("pii_patterns")

    # -- frames -------------------------------------------------------------------------------------

    def sessions(self, limit: int | None = None, **filters: Unpack[Selection]) -> pl.DataFrame:
        """One row per session: workflow, outcome, failure category, ISO week, start, end, duration, span,
        LLM and tool call counts, failed tool calls, the tools called, tokens and cost."""
        where, params = sessions_where(filters)
        return self._frame(sessions_sql(where, bool(params)), params, limit)

    def tool_calls(self, limit: int | None = None, **filters: Unpack[Selection]) -> pl.DataFrame:
        """One row per tool call attempt: tool, access, risk, retry attempt, timing, status, whether it
        failed and how (``status`` or ``payload``), error type, arguments and result."""
        where, params = sessions_where(filters)
        only_tool = "AND c.tool_name = $tool" if filters.get("tool") is not None else ""
        return self._frame(tool_calls_sql(where, only_tool), params, limit)

    def llm_calls(self, limit: int | None = None, text: bool = False, **filters: Unpack[Selection]) -> pl.DataFrame:
        """One row per LLM call: models, timing, status, tokens and cost; with ``text=True`` also the
        prompt and completion (masked)."""
        where, params = sessions_where(filters)
        texts = ", c.input_text AS prompt, c.output_text AS completion" if text else ""
        return self._frame(llm_calls_sql(where, texts), params, limit)

    def failures(self, kind: str | None = None, limit: int | None = None, **filters: Unpack[Selection]) -> pl.DataFrame:
        """Everything that failed, one row each, ``kind`` being:

        - ``tool_call``: a logical tool call (one tool with the same arguments in a session) with at least
          one failed attempt; ``recovered`` tells whether a retry then succeeded (the tool_success metric
          counts the unrecovered ones), ``category`` and ``message`` describe the last failed attempt
          (its error type, or ``error payload`` when only the result said so) and ``result`` is what it
          returned;
        - ``llm_call``: an LLM call with an error status or error type;
        - ``session``: a session whose outcome is failure, ``category`` being its failure category.
        """
        if kind not in (None, "tool_call", "llm_call", "session"):
            raise ValueError(f"kind must be tool_call, llm_call or session, not {kind!r}")
        where, params = sessions_where(filters)
        only_tool = "WHERE tool_name = $tool" if filters.get("tool") is not None else ""
        only_kind = "AND f.kind = $kind" if kind else ""
        if kind:
            params["kind"] = kind
        return self._frame(failures_sql(where, only_tool, only_kind), params, limit)

    def trace(
        self, trace_id: str | None = None, session_id: str | None = None, evidence: Evidence | None = None
    ) -> pl.DataFrame:
        """The spans of one trace, or of every trace of one session, in tree order: ``depth`` (0 for
        roots, and for orphan spans whose parent was never exported, flagged ``orphan``), ``order``, times
        as milliseconds from the first span (``start_ms``, ``end_ms``), status, ``failed`` (tool calls also
        fail on their payload), tokens, cost, tool, model, error, arguments and result. Spans caught in
        a parent cycle are listed at depth 0 with ``orphan`` true rather than dropped. ``evidence`` (from
        ``evidence()``) marks the spans its rows point at: ``evidence`` and ``evidence_note`` (e.g. where a
        PII finding is: ``phone in tool result``)."""
        if (trace_id is None) == (session_id is None):
            raise ValueError("give exactly one of trace_id or session_id")
        pick = "trace_id = $key" if trace_id is not None else "session_key = $key"
        spans = self._frame(trace_sql(pick), {"key": trace_id if trace_id is not None else session_id}, None)
        return mark_evidence(spans, evidence)

    def example_session(self, evidence: Evidence | None = None) -> str | None:
        """A session worth opening: the first session of ``evidence`` when it has rows, else the earliest
        session with a failed tool call, else the earliest failed session, else the earliest session (all
        in the explorer's window)."""
        if evidence is not None and evidence.sessions:
            return evidence.sessions[0]
        with self._connect() as con:
            return db.scalar(con, EXAMPLE_SQL)

    # -- checklist ------------------------------------------------------------------------------------

    def evidence(self, item_id: str, limit: int | None = 1000, **filters: Unpack[Selection]) -> Evidence:
        """The rows behind checklist item ``item_id``, from its check's query in
        ``agentops_audit/evidence/``, in the explorer's window, filtered like the frames and ordered by time;
        ``limit`` rows at most (``total_rows`` says how many there are). An item whose check has no
        evidence query gives no rows and a ``message`` saying so."""
        item = self._item(item_id)
        audited = self._audited_items().get(item.id, {})
        base = {
            "item_id": item.id,
            "title": item.title,
            "check": item.check,
            "severity": item.severity,
            "status": audited.get("status"),
            "window": self.window.why,
            "display": masked_texts([audited.get("display") or audited.get("reason")], self._pii_patterns)[0],
        }
        query = EVIDENCE.get(item.check or "")
        if query is None:
            return no_query(base, item)
        params = query_params(item, query, self.config)
        if params is None:
            return Evidence(
                **base,
                returns=query.returns,
                rows=pl.DataFrame(),
                total_rows=0,
                message=f"Item {item.id} has no threshold, which the {item.check} query needs.",
            )
        where, fparams = sessions_where(filters)
        with self._connect() as con:
            prepare(con, query, self.config)
            sql = evidence_sql(con, query, params, where, bool(fparams))
            rows = self._masked_frame(con, sql, {**params, **fparams}, limit)
        total = int(rows["_total"][0]) if rows.height else 0
        return Evidence(**base, returns=query.returns, rows=rows.drop("_total"), total_rows=total)

    def verdict(self) -> Verdict:
        """The verdict to start from: from the audit document, its verdict, phases and blockers (the items
        that hold back the next phase, worst first), display text masked, and the window shown. Without one
        there is nothing judged to start from: no verdict, no blockers, and a message naming the commands
        that write it (``evidence`` still lists the rows behind any item)."""
        doc = self._audit_doc()
        if doc is None:
            return Verdict(
                source="",
                verdict=None,
                recommended_phase=None,
                declared_phase=None,
                generated_at=None,
                blockers=blockers_frame([]),
                message=no_verdict_message(self.path),
                window=self.window.why,
            )
        blockers = doc.get("blockers", [])
        shown = masked_texts([b.get("display") for b in blockers], self._pii_patterns)
        rows = [
            {
                "item": b["item"],
                "title": b["title"],
                "section": b["section"],
                "severity": b["severity"],
                "status": b["status"],
                "display": display,
                "threshold": b.get("threshold"),
                "at_fault": ", ".join(map(str, b.get("at_fault") or [])),
                "has_evidence_query": (self._check_of(b["item"]) in EVIDENCE),
            }
            for b, display in zip(blockers, shown, strict=True)
        ]
        return Verdict(
            source=str(self.audit_json),
            verdict=doc.get("verdict"),
            recommended_phase=doc.get("recommended_phase"),
            declared_phase=doc.get("declared_phase"),
            generated_at=doc.get("generated_at"),
            blockers=blockers_frame(rows),
            config=doc.get("config") or {},
            window=self.window.why,
        )

    # -- plumbing -------------------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            con = db.connect(self.path, read_only=True)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            text = str(exc)
            if "lock" in text.lower() or "different configuration" in text:
                raise DatabaseBusy(
                    f"{self.path} is open for writing (an ingest?); DuckDB allows one writer or several "
                    "readers at a time, so try again when it is done"
                ) from None
            raise
        try:
            # no bar on a terminal; under Jupyter without ipywidgets DuckDB shows none and refuses the setting
            with suppress(duckdb.InvalidInputException):
                con.execute("SET enable_progress_bar = false")
            if self.window.week:  # the audited week, as the audit saw it (TEMP spans and registry)
                windows.restrict(con, windows.Week.parse(self.window.week))
            yield con
        finally:
            con.close()

    def _frame(self, sql: str, params: dict, limit: int | None) -> pl.DataFrame:
        with self._connect() as con:
            return self._masked_frame(con, sql, params, limit)

    def _masked_frame(self, con: duckdb.DuckDBPyConnection, sql: str, params: dict, limit: int | None) -> pl.DataFrame:
        """Run ``sql`` (ordered), keep ``limit`` rows and mask the result (``mask_frame``). Nested and JSON
        columns come back as text, so the strings inside them are masked too."""
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise ValueError(f"limit must be a non-negative integer or None, not {limit!r}")
        rel = con.sql(sql, params=params or None)
        cols = [
            f"CAST({q(c)} AS VARCHAR) AS {q(c)}" if any(k in str(t) for k in _NESTED) else q(c)
            for c, t in zip(rel.columns, rel.types, strict=True)
        ]
        cut = "" if limit is None else f" LIMIT {limit}"
        raw = db.frame(con, f"SELECT {', '.join(cols)} FROM (\n{sql}\n){cut}", params or None)
        return mask_frame(con, raw, self._pii_patterns)

    def _item(self, item_id: str) -> catalog.Item:
        try:
            return self.catalog.item(item_id)
        except KeyError:
            near = [i.id for i in self.catalog.items if item_id.split(".")[-1] in i.id][:5]
            hint = f"; did you mean {', '.join(near)}?" if near else "; see checks/catalog.yml"
            raise KeyError(f"unknown checklist item {item_id!r}{hint}") from None

    def _check_of(self, item_id: str) -> str | None:
        try:
            return self.catalog.item(item_id).check
        except KeyError:
            return None

    def _audit_doc(self) -> dict | None:
        if self.audit_json is None or not Path(self.audit_json).exists():
            return None
        return read_audit(Path(self.audit_json))

    def _audited_items(self) -> dict[str, dict]:
        doc = self._audit_doc() or {}
        return {it["id"]: it for s in doc.get("sections", []) for it in s.get("items", [])}
