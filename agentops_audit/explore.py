"""Explore an audit database from JupyterLab: polars frames of sessions, calls, failures and the evidence
rows behind any checklist item. Charts over these frames live in ``explore_charts``.

    from agentops_audit.explore import Explorer
    ex = Explorer("reports/demo/audit.duckdb")
    ex.verdict()                                          # audit.json beside the database, if present
    ex.sessions(workflow="refund_eligibility", week="2026-W46", outcome="failure")
    ex.failures(tool="lookup_order")
    ev = ex.evidence("workflow.tool-success-per-tool")    # the rows behind a checklist item
    ex.trace(session_id=ev.rows["session_id"][0])         # one session's span tree, for a waterfall

Read-only and short-lived: every call opens the file read-only (``db.connect(path, read_only=True)``), runs
its queries and closes it again, so a notebook left open holds no lock between calls. DuckDB lets several
processes read a file or one process write it, never both: a call made while another process (an ingest)
has the file open for writing raises ``DatabaseBusy``, and an ingest that starts while a call is running
fails to get its lock (DuckDB does not wait).

Masked: every text value of every frame goes through ``pii.mask_sql`` in DuckDB (``mask_frame``;
identifiers included: an id that looks like personal data is masked too), so frames and screenshots never
show raw personal data or secrets. Text is masked, not HTML-escaped: polars escapes it when a notebook
shows a frame, and Altair draws it as text (see ``explore_charts.enable_safe_rendering``).

Filters, the same on every frame: ``workflow``, ``outcome`` (success, failure, escalated) and ``week``
(ISO week ``2026-W46``, of the session's start) select sessions; ``tool`` keeps the sessions that called
that tool, and in frames of tool calls only that tool's calls.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import polars as pl

from agentops_audit import catalog, db, pii
from agentops_audit.evaluators.base import PII_FIELDS
from agentops_audit.evidence import EVIDENCE, PII_FINDINGS, EvidenceQuery, view_plan
from agentops_audit.metrics import params as metric_params

__all__ = ["DatabaseBusy", "Evidence", "Explorer", "Verdict", "mask_frame", "week_range"]

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_NESTED = ("[]", "STRUCT", "MAP", "UNION", "JSON")  # DuckDB types shown as text so their strings get masked
_WORST_FIRST = ("FAIL", "ERROR")

class DatabaseBusy(RuntimeError):
    """The audit database is open for writing elsewhere (DuckDB: one writer or many readers)."""


def week_range(week: str) -> tuple[datetime, datetime]:
    """The [Monday 00:00, next Monday 00:00) span of an ISO week such as ``2026-W46``."""
    m = _WEEK.match(week.strip()) if isinstance(week, str) else None
    if not m:
        raise ValueError(f"week must be an ISO week like 2026-W46, not {week!r}")
    try:
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError as exc:
        raise ValueError(f"{week!r} is not a week of that year: {exc}") from None
    start = datetime.combine(monday, time())
    return start, start + timedelta(days=7)


@dataclass(frozen=True)
class _Filters:
    workflow: str | None = None
    tool: str | None = None
    week: str | None = None
    outcome: str | None = None

    def sessions_where(self, alias: str = "s") -> tuple[str, dict]:
        """A WHERE condition over the ``sessions`` view (as ``alias``) and its named parameters."""
        conds, params = ["true"], {}
        if self.workflow is not None:
            conds.append(f"{alias}.workflow = $workflow")
            params["workflow"] = self.workflow
        if self.outcome is not None:
            conds.append(f"{alias}.outcome = $outcome")
            params["outcome"] = self.outcome
        if self.week is not None:
            params["week_start"], params["week_end"] = week_range(self.week)
            conds.append(f"{alias}.started_at >= $week_start AND {alias}.started_at < $week_end")
        if self.tool is not None:
            conds.append(f"{alias}.session_id IN (SELECT session_key FROM tool_calls WHERE tool_name = $tool)")
            params["tool"] = self.tool
        return " AND ".join(conds), params


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
    status: str | None = None     # from audit.json beside the database, when present
    display: str | None = None

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
        return "\n".join(lines) + ("\n" + repr(self.rows) if self.rows.width else "")

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self._head())}</b></p>"]
        if self.display:
            parts.append(f"<p>{html.escape(self.display)}</p>")
        parts.append(f"<p><i>{html.escape(self.message or self.returns)}</i></p>")
        if self.rows.width:
            parts.append(self.rows._repr_html_())
        return "\n".join(parts)


@dataclass
class Verdict:
    """Where to start: the verdict and its blockers from ``audit.json`` beside the database. Without it
    there is no verdict (``verdict`` None, no blockers) and ``message`` says how to get one."""

    source: str
    verdict: str | None
    recommended_phase: int | None
    declared_phase: int | None
    generated_at: str | None
    blockers: pl.DataFrame
    message: str = ""
    config: dict = field(default_factory=dict)

    @property
    def worst(self) -> str | None:
        """The item to drill into first: the first failing (then erroring) blocker with an evidence query,
        else the first blocker listed."""
        if self.blockers.is_empty():
            return None
        rows = self.blockers.to_dicts()
        for status in _WORST_FIRST:
            for r in rows:
                if r["status"] == status and r["has_evidence_query"]:
                    return r["item"]
        return rows[0]["item"]

    def _head(self) -> str:
        if self.verdict is None:
            return f"No verdict: {self.message}"
        phase = f", recommended phase {self.recommended_phase}"
        if self.declared_phase is not None:
            phase += f" (declared {self.declared_phase})"
        return f"Verdict: {self.verdict}{phase}; from {self.source}, generated {self.generated_at}"

    def __repr__(self) -> str:
        return self._head() + "\n" + repr(self.blockers)

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self._head())}</b></p>\n" + self.blockers._repr_html_()


class Explorer:
    """Read-only queries over one audit database (see the module docstring).

    ``config`` (the audit config as a dict: threshold overrides, PII patterns) defaults to the config
    recorded in ``audit.json`` beside the database, so evidence uses the thresholds of the audit.
    """

    def __init__(self, db_path: str | Path, config: dict | None = None):
        self.path = Path(db_path)
        if not self.path.exists():
            raise FileNotFoundError(f"audit database not found: {self.path}")
        self.audit_json = self.path.with_name("audit.json")
        audit = self._audit_doc()
        self.config = config if config is not None else (audit or {}).get("config") or {}
        self.catalog = catalog.load(overrides=self.config.get("thresholds"))
        self._pii_patterns = self.config.get("pii_patterns")

    # -- frames -------------------------------------------------------------------------------------

    def sessions(self, workflow: str | None = None, tool: str | None = None, week: str | None = None,
                 outcome: str | None = None, limit: int | None = None) -> pl.DataFrame:
        """One row per session: workflow, outcome, failure category, ISO week, start, end, duration, span,
        LLM and tool call counts, failed tool calls, the tools called, tokens and cost."""
        where, params = _Filters(workflow, tool, week, outcome).sessions_where("s")
        return self._frame(f"""
            WITH sel AS MATERIALIZED (SELECT * FROM sessions s WHERE {where}),
            tc AS (
                SELECT session_key,
                       count(*) FILTER (WHERE failed_status OR failed_payload) AS failed_tool_calls,
                       array_to_string(list_sort(list_distinct(list(tool_name))), ', ') AS tools
                FROM tool_calls {"WHERE session_key IN (SELECT session_id FROM sel)" if params else ""}
                GROUP BY session_key)
            SELECT s.session_id, s.workflow, s.outcome, s.failure_category,
                   strftime(s.started_at, '%G-W%V') AS week, s.started_at, s.ended_at, s.duration_ms,
                   s.spans, s.traces, s.llm_calls, s.tool_calls,
                   coalesce(tc.failed_tool_calls, 0) AS failed_tool_calls, tc.tools, s.tokens::BIGINT AS tokens,
                   s.cost_usd
            FROM sel s LEFT JOIN tc ON tc.session_key = s.session_id
            ORDER BY s.started_at, s.session_id""", params, limit)

    def tool_calls(self, workflow: str | None = None, tool: str | None = None, week: str | None = None,
                   outcome: str | None = None, limit: int | None = None) -> pl.DataFrame:
        """One row per tool call attempt: tool, access, risk, retry attempt, timing, status, whether it
        failed and how (``status`` or ``payload``), error type, arguments and result."""
        where, params = _Filters(workflow, tool, week, outcome).sessions_where("s")
        only_tool = "AND c.tool_name = $tool" if tool is not None else ""
        return self._frame(f"""
            SELECT c.session_key AS session_id, s.workflow, s.outcome, c.trace_id, c.span_id,
                   c.tool_name AS tool, c.tool_access AS access, c.tool_risk AS risk,
                   c.retry_attempt, c.start_time, c.duration_ms, c.status_code,
                   c.failed_status OR c.failed_payload AS failed,
                   CASE WHEN c.failed_status THEN 'status' WHEN c.failed_payload THEN 'payload' END AS failed_by,
                   c.error_type, c.status_message, c.tool_args AS arguments, c.tool_result AS result
            FROM tool_calls c JOIN sessions s ON s.session_id = c.session_key
            WHERE {where} {only_tool}
            ORDER BY c.start_time, c.session_key, c.span_id""", params, limit)

    def llm_calls(self, workflow: str | None = None, tool: str | None = None, week: str | None = None,
                  outcome: str | None = None, limit: int | None = None, text: bool = False) -> pl.DataFrame:
        """One row per LLM call: models, timing, status, tokens and cost; with ``text=True`` also the
        prompt and completion (masked)."""
        where, params = _Filters(workflow, tool, week, outcome).sessions_where("s")
        texts = ", c.input_text AS prompt, c.output_text AS completion" if text else ""
        return self._frame(f"""
            SELECT c.session_key AS session_id, s.workflow, s.outcome, c.trace_id, c.span_id,
                   c.operation, c.request_model AS model, c.response_model, c.agent_name,
                   c.start_time, c.duration_ms, c.status_code, c.error_type,
                   c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cost_usd{texts}
            FROM llm_calls c JOIN sessions s ON s.session_id = c.session_key
            WHERE {where}
            ORDER BY c.start_time, c.session_key, c.span_id""", params, limit)

    def failures(self, workflow: str | None = None, tool: str | None = None, week: str | None = None,
                 outcome: str | None = None, kind: str | None = None, limit: int | None = None) -> pl.DataFrame:
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
        where, params = _Filters(workflow, tool, week, outcome).sessions_where("s")
        only_tool = "WHERE tool_name = $tool" if tool is not None else ""
        only_kind = "AND f.kind = $kind" if kind else ""
        if kind:
            params["kind"] = kind
        return self._frame(f"""
            WITH sess AS MATERIALIZED (
                SELECT session_id, workflow, outcome, failure_category, started_at FROM sessions),
            attempts AS (
                SELECT session_key, tool_name, hash(coalesce(tool_args, '')) AS args_hash, start_time,
                       failed_status OR failed_payload AS failed,
                       {{'trace_id': trace_id, 'span_id': span_id, 'by_status': failed_status}} AS attempt
                FROM tool_calls {only_tool}),
            logical AS (  -- as the tool_success metric groups them: same tool and arguments in a session
                SELECT session_key, tool_name, count(*) AS attempts,
                       count(*) FILTER (WHERE failed) AS failed_attempts, NOT bool_and(failed) AS recovered,
                       min(start_time) FILTER (WHERE failed) AS first_failure_at,
                       arg_max(attempt, start_time) FILTER (WHERE failed) AS last
                FROM attempts GROUP BY session_key, tool_name, args_hash
                HAVING count(*) FILTER (WHERE failed) > 0),
            f AS (
                SELECT 'tool_call' AS kind, l.session_key AS session_id, l.first_failure_at AS at,
                       l.tool_name AS name,
                       CASE WHEN l.last.by_status THEN coalesce(t.error_type, 'error status')
                            ELSE 'error payload' END AS category,
                       CASE WHEN l.last.by_status THEN t.status_message
                            WHEN json_valid(t.tool_result) THEN coalesce(
                                json_extract_string(t.tool_result, '$.error.message'),
                                json_extract_string(t.tool_result, '$.error'),
                                json_extract_string(t.tool_result, '$.message'))
                            ELSE t.tool_result END AS message,
                       l.attempts, l.failed_attempts, l.recovered, coalesce(t.tool_args, '') AS arguments,
                       t.tool_result AS result, l.last.trace_id AS trace_id, l.last.span_id AS span_id
                FROM logical l JOIN spans t ON t.trace_id = l.last.trace_id AND t.span_id = l.last.span_id
                UNION ALL
                SELECT 'llm_call', session_key, start_time, request_model, coalesce(error_type, 'error status'),
                       status_message, 1, 1, false, NULL, NULL, trace_id, span_id
                FROM llm_calls WHERE status_code = 'ERROR' OR error_type IS NOT NULL
                UNION ALL
                SELECT 'session', session_id, started_at, workflow, failure_category, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL
                FROM sess WHERE outcome = 'failure')
            SELECT f.kind, f.session_id, s.workflow, s.outcome, f.at, f.name, f.category, f.message,
                   f.attempts, f.failed_attempts, f.recovered, f.arguments, f.result, f.trace_id, f.span_id
            FROM f JOIN sess s ON s.session_id = f.session_id
            WHERE {where} {only_kind}
            ORDER BY f.at, f.session_id, f.kind, f.name, f.span_id""", params, limit)

    def trace(self, trace_id: str | None = None, session_id: str | None = None) -> pl.DataFrame:
        """The spans of one trace, or of every trace of one session, in tree order: ``depth`` (0 for
        roots, and for orphan spans whose parent was never exported, flagged ``orphan``), ``order``, times
        as milliseconds from the first span (``start_ms``, ``end_ms``), status, ``failed`` (tool calls also
        fail on their payload), tokens, cost, tool, model, error, arguments and result. Spans caught in
        a parent cycle are listed at depth 0 with ``orphan`` true rather than dropped."""
        if (trace_id is None) == (session_id is None):
            raise ValueError("give exactly one of trace_id or session_id")
        pick = "trace_id = $key" if trace_id is not None else "session_key = $key"
        return self._frame(f"""
            WITH RECURSIVE sel AS MATERIALIZED (
                SELECT * FROM span_sessions WHERE {pick}),
            tools AS MATERIALIZED (
                SELECT trace_id, span_id, failed_status OR failed_payload AS failed FROM tool_calls
                WHERE {pick}),
            tree AS (
                SELECT s.trace_id, s.span_id, 0 AS depth, [strftime(s.start_time, '%Y%m%d%H%M%S.%f') || s.span_id]
                       AS path
                FROM sel s
                WHERE s.parent_span_id IS NULL OR NOT EXISTS (
                    SELECT 1 FROM sel p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)
                UNION ALL
                SELECT c.trace_id, c.span_id, t.depth + 1,
                       list_append(t.path, strftime(c.start_time, '%Y%m%d%H%M%S.%f') || c.span_id)
                FROM sel c JOIN tree t ON c.trace_id = t.trace_id AND c.parent_span_id = t.span_id
                WHERE t.depth < 256),
            placed AS (
                SELECT s.*, coalesce(t.depth, 0) AS depth,
                       coalesce(t.path, [strftime(s.start_time, '%Y%m%d%H%M%S.%f') || s.span_id]) AS path,
                       s.parent_span_id IS NOT NULL AND (t.depth IS NULL OR t.depth = 0) AS orphan
                FROM sel s LEFT JOIN tree t ON t.trace_id = s.trace_id AND t.span_id = s.span_id),
            t0 AS (SELECT min(start_time) AS t0 FROM sel)
            SELECT p.session_key AS session_id, p.trace_id, p.span_id, p.parent_span_id, p.depth,
                   row_number() OVER (ORDER BY p.path) - 1 AS "order",
                   p.orphan, p.name, p.span_type, p.tool_name AS tool, p.request_model AS model,
                   p.status_code,
                   coalesce(p.status_code = 'ERROR', false) OR p.error_type IS NOT NULL
                       OR coalesce(tl.failed, false) AS failed,
                   date_diff('microsecond', t0.t0, p.start_time) / 1000.0 AS start_ms,
                   date_diff('microsecond', t0.t0, p.end_time) / 1000.0 AS end_ms,
                   p.duration_ms, p.start_time, p.input_tokens, p.output_tokens, p.cost_usd,
                   p.error_type, p.status_message, p.tool_args AS arguments, p.tool_result AS result,
                   p.policy_decision, p.approval_status
            FROM placed p CROSS JOIN t0
            LEFT JOIN tools tl ON tl.trace_id = p.trace_id AND tl.span_id = p.span_id
            ORDER BY p.path""", {"key": trace_id if trace_id is not None else session_id}, None)

    def example_session(self, evidence: Evidence | None = None) -> str | None:
        """A session worth opening: the first session of ``evidence`` when it has rows, else the earliest
        session with a failed tool call, else the earliest failed session, else the earliest session."""
        if evidence is not None and evidence.sessions:
            return evidence.sessions[0]
        with self._connect() as con:
            return db.scalar(con, """
                SELECT session_id FROM (
                    SELECT session_key AS session_id, min(start_time) AS first_at, 1 AS rank FROM tool_calls
                    WHERE failed_status OR failed_payload GROUP BY session_key
                    UNION ALL
                    SELECT session_id, started_at, 2 FROM sessions WHERE outcome = 'failure'
                    UNION ALL
                    SELECT session_id, started_at, 3 FROM sessions)
                ORDER BY rank, first_at, session_id LIMIT 1""")

    # -- checklist ------------------------------------------------------------------------------------

    def evidence(self, item_id: str, workflow: str | None = None, tool: str | None = None,
                 week: str | None = None, outcome: str | None = None, limit: int | None = 1000) -> Evidence:
        """The rows behind checklist item ``item_id``, from its check's query in
        ``agentops_audit/evidence/``, filtered like the frames and ordered by time; ``limit`` rows at most
        (``total_rows`` says how many there are). An item whose check has no evidence query gives no
        rows and a ``message`` saying so."""
        item = self._item(item_id)
        audited = self._audited_items().get(item.id, {})
        base = {"item_id": item.id, "title": item.title, "check": item.check, "severity": item.severity,
                "status": audited.get("status"),
                "display": _masked_texts([audited.get("display") or audited.get("reason")], self._pii_patterns)[0]}
        query = EVIDENCE.get(item.check or "")
        if query is None:
            kind = "check" if item.evidence == "measured" else f"{item.evidence} item"
            return Evidence(**base, returns="", rows=pl.DataFrame(), total_rows=0,
                            message=f"No evidence query for check {item.check!r} ({kind}): there are no rows to "
                                    f"show. Evidence queries exist for: {', '.join(sorted(EVIDENCE))}.")
        params = self._params(item, query)
        if params is None:
            return Evidence(**base, returns=query.returns, rows=pl.DataFrame(), total_rows=0,
                            message=f"Item {item.id} has no threshold, which the {item.check} query needs.")
        where, fparams = _Filters(workflow, tool, week, outcome).sessions_where("s")
        with self._connect() as con:
            self._prepare(con, query)
            columns = con.sql(query.sql, params=params or None).columns
            missing = {"session_id", "at"} - set(columns)
            if missing:
                raise ValueError(f"evidence query {query.check}.sql lacks column(s) {', '.join(sorted(missing))}")
            rest = [c for c in columns if c not in ("at", "session_id")]
            order = ", ".join(_q(c) for c in ["at", "session_id", *rest])
            rows = self._masked_frame(con, f"""
                WITH ev AS (
                {query.sql}
                )
                SELECT ev.*, count(*) OVER () AS _total FROM ev
                {"" if not fparams else f"WHERE ev.session_id IN (SELECT s.session_id FROM sessions s WHERE {where})"}
                ORDER BY {order}""", {**params, **fparams}, limit)
        total = int(rows["_total"][0]) if rows.height else 0
        return Evidence(**base, returns=query.returns, rows=rows.drop("_total"), total_rows=total)

    def verdict(self) -> Verdict:
        """The verdict to start from: with ``audit.json`` beside the database, its verdict, phases and
        blockers (the items that hold back the next phase, worst first), display text masked. Without it
        there is nothing judged to start from: no verdict, no blockers, and a message naming the command
        that writes it (``evidence`` still lists the rows behind any item)."""
        doc = self._audit_doc()
        if doc is None:
            return Verdict(source=str(self.audit_json), verdict=None, recommended_phase=None, declared_phase=None,
                           generated_at=None, blockers=_blockers_frame([]),
                           message=f"no audit.json beside {self.path.name}: run `agentops-audit audit {self.path}` "
                                   "for the verdict; evidence(item_id) lists the rows behind any checklist item "
                                   "meanwhile")
        blockers = doc.get("blockers", [])
        shown = _masked_texts([b.get("display") for b in blockers], self._pii_patterns)
        rows = [{"item": b["item"], "title": b["title"], "section": b["section"], "severity": b["severity"],
                 "status": b["status"], "display": display,
                 "threshold": b.get("threshold"), "at_fault": ", ".join(map(str, b.get("at_fault") or [])),
                 "has_evidence_query": (self._check_of(b["item"]) in EVIDENCE)}
                for b, display in zip(blockers, shown, strict=True)]
        return Verdict(source=str(self.audit_json), verdict=doc.get("verdict"),
                       recommended_phase=doc.get("recommended_phase"), declared_phase=doc.get("declared_phase"),
                       generated_at=doc.get("generated_at"), blockers=_blockers_frame(rows),
                       config=doc.get("config") or {})

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
                    "readers at a time, so try again when it is done") from None
            raise
        try:
            # no bar on a terminal; under Jupyter without ipywidgets DuckDB shows none and refuses the setting
            with suppress(duckdb.InvalidInputException):
                con.execute("SET enable_progress_bar = false")
            yield con
        finally:
            con.close()

    def _frame(self, sql: str, params: dict, limit: int | None) -> pl.DataFrame:
        with self._connect() as con:
            return self._masked_frame(con, sql, params, limit)

    def _masked_frame(self, con: duckdb.DuckDBPyConnection, sql: str, params: dict,
                      limit: int | None) -> pl.DataFrame:
        """Run ``sql`` (ordered), keep ``limit`` rows and mask the result (``mask_frame``). Nested and JSON
        columns come back as text, so the strings inside them are masked too."""
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise ValueError(f"limit must be a non-negative integer or None, not {limit!r}")
        rel = con.sql(sql, params=params or None)
        cols = [f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" if any(k in str(t) for k in _NESTED) else _q(c)
                for c, t in zip(rel.columns, rel.types, strict=True)]
        cut = "" if limit is None else f" LIMIT {limit}"
        raw = db.frame(con, f"SELECT {', '.join(cols)} FROM (\n{sql}\n){cut}", params or None)
        return mask_frame(con, raw, self._pii_patterns)

    def _params(self, item: catalog.Item, query: EvidenceQuery) -> dict | None:
        """The named parameters ``query`` declares, or None when the item lacks the threshold it needs."""
        if "threshold" in query.params and item.threshold is None:
            return None
        budgets, _ = metric_params.budgets_of(self.config)
        known = {"threshold": item.threshold.value if item.threshold else None,
                 "error_streak": metric_params.ERROR_STREAK, **budgets}
        return {p: known[p] for p in query.params}

    def _prepare(self, con: duckdb.DuckDBPyConnection, query: EvidenceQuery) -> None:
        """Build the TEMP tables ``query`` requires, once per connection."""
        for table in query.requires:
            if db.scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [table]):
                continue
            if table == PII_FINDINGS:
                pii.scan(con, _pii_candidates(con, self._pii_patterns), list(PII_FIELDS),
                         extra_patterns=self._pii_patterns)
                continue
            plan = view_plan(table)
            if plan is None:  # needs the audit's inputs: install them and every derived table
                metric_params.install(con, self.config)
            else:
                for path in plan:
                    con.execute(path.read_text())

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
        if not self.audit_json.exists():
            return None
        try:
            return json.loads(self.audit_json.read_text())
        except ValueError as exc:
            raise ValueError(f"{self.audit_json}: not a readable audit.json ({exc})") from None

    def _audited_items(self) -> dict[str, dict]:
        doc = self._audit_doc() or {}
        return {it["id"]: it for s in doc.get("sections", []) for it in s.get("items", [])}


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mask_frame(con: duckdb.DuckDBPyConnection, df: pl.DataFrame,
               extra_patterns: dict[str, str] | None = None) -> pl.DataFrame:
    """``df`` with every text value masked exactly as ``pii.mask`` would (same SQL, ``pii.mask_sql``).

    Runs on ``con`` once per distinct text value of the frame (all text columns together), and only on
    the values some entity pattern matches (``pii.candidate_pattern``): the others cannot change."""
    text = [c for c, t in df.schema.items() if t == pl.String]
    if df.is_empty() or not text:
        return df
    values = pl.concat([df[c] for c in text]).drop_nulls().unique().to_frame("v")
    pii.install(con)  # the phone UDF that mask_sql calls
    con.register("_explore_values", values.to_arrow())
    try:  # MATERIALIZED: the candidates first, so the optimizer cannot run the mask on every value
        masked = db.frame(con, f"""
            WITH candidates AS MATERIALIZED (
                SELECT v FROM _explore_values WHERE regexp_matches(v, {_lit(pii.candidate_pattern(extra_patterns))}))
            SELECT v, {pii.mask_sql('v', extra_patterns)} AS m FROM candidates""")
    finally:
        con.unregister("_explore_values")
    changed = masked.filter(pl.col("v") != pl.col("m"))
    if changed.is_empty():
        return df
    return df.with_columns(pl.col(c).replace(changed["v"], changed["m"]) for c in text)


def _pii_candidates(con: duckdb.DuckDBPyConnection, extra: dict[str, str] | None) -> str:
    """Build the TEMP table ``explore_pii_candidates`` for ``pii.scan`` (``pii.candidates_sql`` over the
    spans) and return its name."""
    con.execute("CREATE OR REPLACE TEMP TABLE explore_pii_candidates AS "
                + pii.candidates_sql("spans", PII_FIELDS, extra_patterns=extra))
    return "explore_pii_candidates"


def _masked_texts(texts: list[str | None], extra: dict[str, str] | None = None) -> list[str | None]:
    """``pii.mask`` of each text, in one query of a private in-memory DuckDB."""
    if not any(texts):
        return texts
    con = duckdb.connect()
    try:
        pii.install(con)
        rows = con.execute(f"SELECT {pii.mask_sql('v', extra)} FROM unnest(?::VARCHAR[]) WITH ORDINALITY t(v, i) "
                           "ORDER BY i", [texts]).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def _blockers_frame(rows: list[dict]) -> pl.DataFrame:
    schema = {"item": pl.String, "title": pl.String, "section": pl.Int64, "severity": pl.String,
              "status": pl.String, "display": pl.String, "threshold": pl.String, "at_fault": pl.String,
              "has_evidence_query": pl.Boolean}
    return pl.DataFrame(rows, schema=schema)
