"""Evaluators: one function per ``check`` name of the catalog, turning metrics into an item result.

The metric SQL computes, the catalog states the threshold, Great Expectations asserts, and this module
only wires them together and explains the outcome. ``EVALUATORS`` at the bottom is the registry; a
catalog item whose check is not registered is NO_DATA ("not evaluated yet"), never a pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import polars as pl

from agentops_audit import metrics, pii
from agentops_audit.catalog import Catalog, Item, Threshold
from agentops_audit.db import frame
from agentops_audit.expectations import Validator
from agentops_audit.results import ERROR, FAIL, NO_DATA, PASS, ItemResult, not_evaluated

PII_FIELDS = ("input_text", "output_text", "tool_args", "tool_result", "status_message")


@dataclass
class AuditContext:
    con: duckdb.DuckDBPyConnection
    catalog: Catalog
    validator: Validator
    config: dict = field(default_factory=dict)
    _frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    def metric(self, name: str) -> pl.DataFrame:
        if name not in self._frames:
            self._frames[name] = metrics.run(self.con, name)
        return self._frames[name]

    def pii_frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(leaks per field, leaks per field and entity), scanning the stored text once per audit."""
        if "pii_by_field" not in self._frames:
            pii.scan(self.con, "spans", list(PII_FIELDS), extra_patterns=self.config.get("pii_patterns"))
            scanned = " UNION ALL ".join(
                f"SELECT '{f}' AS field, count(*) FILTER (WHERE coalesce({f}, '') <> '') AS records_scanned "
                f"FROM spans" for f in PII_FIELDS)
            self._frames["pii_by_field"] = frame(self.con, f"""
                WITH leaks AS (
                    SELECT field, count(DISTINCT (trace_id, span_id)) AS records_with_leak, count(*) AS findings
                    FROM pii_findings GROUP BY field)
                SELECT s.field, s.records_scanned,
                       coalesce(l.records_with_leak, 0) AS records_with_leak,
                       coalesce(l.findings, 0) AS findings,
                       coalesce(l.records_with_leak, 0) / s.records_scanned AS leak_rate
                FROM ({scanned}) s LEFT JOIN leaks l USING (field)
                WHERE s.records_scanned > 0
                ORDER BY leak_rate DESC, field""")
            self._frames["pii_by_entity"] = frame(self.con, """
                SELECT field, entity, any_value(kind) AS kind,
                       count(DISTINCT (trace_id, span_id)) AS records_with_leak, count(*) AS findings,
                       min(masked) AS masked_example
                FROM pii_findings GROUP BY ALL ORDER BY records_with_leak DESC, field, entity""")
        return self._frames["pii_by_field"], self._frames["pii_by_entity"]


def _judge(ctx: AuditContext, item: Item, check: str, table: pl.DataFrame, **result) -> ItemResult:
    """Run the check's GX suite on ``table``; PASS when every expectation holds, FAIL otherwise."""
    outcomes = ctx.validator.validate(check, table, item.threshold)
    ok = all(o.success for o in outcomes)
    return ItemResult(item.id, PASS if ok else FAIL, expectations=[o.to_dict() for o in outcomes], **result)


def _threshold(ctx: AuditContext, item: Item, check: str) -> Threshold:
    return item.threshold or ctx.validator.default_threshold(check)


def trace_coverage(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("trace_coverage")
    row = df.row(0, named=True)
    if not row["all_sessions"]:
        return ItemResult(item.id, NO_DATA, reason="no sessions in the traces")
    estimated = row["method"] != "registry"
    how = "estimated from trace completeness (no session registry loaded)" if estimated else "from the registry"
    return _judge(
        ctx, item, "trace_coverage", df.select("coverage"),
        value=row["coverage"],
        display=f"{row['coverage']:.1%} of sessions ({row['covered_sessions']}/{row['all_sessions']}), {how}",
        evidence={"query": "trace_coverage", **row},
    )


def trace_propagation(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("trace_propagation")
    spans = ctx.metric("volume")["spans"][0]
    if not spans:
        return ItemResult(item.id, NO_DATA, reason="no spans in the database")
    bad = df.filter(pl.col("count") > 0)
    total = int(df["count"].sum())
    display = ", ".join(f"{r['count']} {r['defect'].replace('_', ' ')}" for r in bad.iter_rows(named=True))
    return _judge(
        ctx, item, "trace_propagation", df.select("defect", "count"),
        value=total, display=display or "no propagation defects",
        evidence={"query": "trace_propagation", "spans": spans,
                  **{r["defect"]: r["count"] for r in df.iter_rows(named=True)}},
        at_fault=bad["defect"].to_list(),
    )


def tool_success(ctx: AuditContext, item: Item) -> ItemResult:
    df = ctx.metric("tool_success")
    if df.is_empty():
        return ItemResult(item.id, NO_DATA, reason="no tool calls in the traces")
    threshold = _threshold(ctx, item, "tool_success")
    worst = df.row(0, named=True)
    failing = [r["tool"] for r in df.iter_rows(named=True) if not threshold.holds(r["success_rate_after_retries"])]
    return _judge(
        ctx, item, "tool_success", df,
        value=worst["success_rate_after_retries"],
        display=f"worst tool {worst['tool']}: {worst['success_rate_after_retries']:.2%} after retries "
                f"({worst['logical_failed']} of {worst['logical_calls']} calls failed)",
        evidence={"query": "tool_success", "tools": df.height,
                  "attempts": int(df["attempts"].sum()), "failed_attempts": int(df["failed_attempts"].sum())},
        at_fault=failing,
    )


def pii_leak_rate(ctx: AuditContext, item: Item) -> ItemResult:
    by_field, by_entity = ctx.pii_frames()
    if by_field.is_empty():
        return ItemResult(item.id, NO_DATA, reason="no stored prompt, completion or tool text to scan")
    scanned, leaked = int(by_field["records_scanned"].sum()), int(by_field["records_with_leak"].sum())
    rate = leaked / scanned
    kinds = ", ".join(f"{r['records_with_leak']} {r['entity']} in {r['field']}"
                      for r in by_entity.iter_rows(named=True))
    return _judge(
        ctx, item, "pii_leak_rate", by_field,
        value=rate,
        display=f"{leaked} of {scanned} stored text fields leak personal data or secrets"
                + (f" ({kinds})" if kinds else ""),
        evidence={"query": "pii_scan", "records_scanned": scanned, "records_with_leak": leaked,
                  "findings": int(by_field["findings"].sum())},
        at_fault=by_field.filter(pl.col("records_with_leak") > 0)["field"].to_list(),
    )


def evaluate(ctx: AuditContext, item: Item) -> ItemResult:
    """The item's result. An evaluator that raises gives ERROR with its message, not a crash."""
    if item.check in EVALUATORS:
        try:
            return EVALUATORS[item.check](ctx, item)
        except Exception as exc:  # reported in the audit as ERROR, the other items still run
            return ItemResult(item.id, ERROR, reason=f"{type(exc).__name__}: {exc}")
    if item.check and item.check.startswith("manifest."):
        return not_evaluated(item.id, "declared in the readiness manifest: not evaluated yet")
    return not_evaluated(item.id)


EVALUATORS: dict[str, Callable[[AuditContext, Item], ItemResult]] = {
    "trace_coverage": trace_coverage,
    "trace_propagation": trace_propagation,
    "tool_success": tool_success,
    "pii_leak_rate": pii_leak_rate,
}
