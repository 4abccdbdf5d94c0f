"""What every evaluator shares: the audit context (connection, catalog, GX validator, cached metric
frames) and the helper that runs a check's GX suite and turns it into an item result."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from agentops_audit import metrics, pii
from agentops_audit.catalog import Catalog, Item, Threshold
from agentops_audit.db import frame
from agentops_audit.expectations import Validator
from agentops_audit.results import FAIL, PASS, ItemResult

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


def judge(ctx: AuditContext, item: Item, check: str, table: pl.DataFrame, **result) -> ItemResult:
    """Run the check's GX suite on ``table``; PASS when every expectation holds, FAIL otherwise."""
    outcomes = ctx.validator.validate(check, table, item.threshold)
    ok = all(o.success for o in outcomes)
    return ItemResult(item.id, PASS if ok else FAIL, expectations=[o.to_dict() for o in outcomes], **result)


def threshold_of(ctx: AuditContext, item: Item, check: str) -> Threshold:
    """The item's threshold, or the suite's default when the catalog gives none."""
    return item.threshold or ctx.validator.default_threshold(check)
