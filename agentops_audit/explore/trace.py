"""One trace for the explorer: the span tree of a trace or session (``trace_sql``), the session worth
opening first (``EXAMPLE_SQL``), and the marking of an item's evidence on the spans (``mark_evidence``), so
an example trace shows where the leak, the failed call or the orphan is.
"""

from __future__ import annotations

import polars as pl

from agentops_audit import words

# the spans of one trace (``pick`` = "trace_id = $key") or session ("session_key = $key") in tree order
TRACE_SQL = """
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
            ORDER BY p.path"""

# earliest session with a failed tool call, else earliest failed session, else earliest session
EXAMPLE_SQL = """
SELECT session_id FROM (
                    SELECT session_key AS session_id, min(start_time) AS first_at, 1 AS rank FROM tool_calls
                    WHERE failed_status OR failed_payload GROUP BY session_key
                    UNION ALL
                    SELECT session_id, started_at, 2 FROM sessions WHERE outcome = 'failure'
                    UNION ALL
                    SELECT session_id, started_at, 3 FROM sessions)
                ORDER BY rank, first_at, session_id LIMIT 1"""

FIELD_WORDS = {
    "input_text": "model input",
    "output_text": "model output",
    "tool_args": "tool arguments",
    "tool_result": "tool result",
    "status_message": "error message",
}  # one field of one span


def trace_sql(pick: str) -> str:
    return TRACE_SQL.replace("{pick}", pick)


def _note(row: dict) -> str:
    """What an evidence row says about its span, in words: ``phone in tool result: +1415•••`` for a PII
    finding, else the row's tool or kind and how it failed."""
    if row.get("entity"):
        field = FIELD_WORDS.get(row.get("field") or "", row.get("field") or "text")
        return f"{words.entity(row['entity'], 1)} in {field}" + (f": {row['finding']}" if row.get("finding") else "")
    parts = [str(row[k]) for k in ("tool", "defect", "kind", "failed_by", "error_type", "problem") if row.get(k)]
    return ", ".join(parts) or "evidence row"


def mark_evidence(spans: pl.DataFrame, evidence) -> pl.DataFrame:
    """``spans`` (``Explorer.trace``) with ``evidence`` (bool) and ``evidence_note`` (text) columns: the
    spans that rows of ``evidence`` (an ``Evidence`` whose rows carry ``trace_id`` and ``span_id``) point at,
    and what each says (several rows on one span are joined with "; ")."""
    rows = evidence.rows if evidence is not None else pl.DataFrame()
    if spans.is_empty() or not {"trace_id", "span_id"} <= set(rows.columns):
        return spans.with_columns(evidence=pl.lit(False), evidence_note=pl.lit(None, dtype=pl.String))
    notes = (
        pl.DataFrame(
            [
                {"trace_id": r["trace_id"], "span_id": r["span_id"], "evidence_note": _note(r)}
                for r in rows.iter_rows(named=True)
            ],
            schema={"trace_id": pl.String, "span_id": pl.String, "evidence_note": pl.String},
        )
        .group_by("trace_id", "span_id", maintain_order=True)
        .agg(pl.col("evidence_note").unique(maintain_order=True).str.join("; "))
    )
    return spans.join(notes, on=["trace_id", "span_id"], how="left", maintain_order="left").with_columns(
        evidence=pl.col("evidence_note").is_not_null()
    )
