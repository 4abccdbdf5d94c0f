"""What every evaluator shares: the audit context (connection, catalog, GX validator, cached metric
frames), the ``@check`` declaration that registers an evaluator, and the helper that runs a check's GX
suite and turns it into an item result.

A check is declared once, where its evaluator is defined::

    @check("tool_success", metrics=("tool_success",), evidence=True, empty="no tool calls in the traces")
    def tool_success(ctx, item): ...

names the catalog ``check``, the metric SQL it reads (``metrics/<name>.sql``), why it is NO_DATA when
its main metric has no rows (``empty``: the evaluator then does not run), whether a GX suite of the
same name judges it (``checks/suites.yml``, or ``suite={...}`` declared here), whether an evidence query of
the same name lists its rows (``evidence/<name>.sql``). What a judged check means, in words, is in the
catalog's ``checks`` section, from which ``python -m agentops_audit.readme`` writes the README's check
tables. ``tests/test_contract.py`` proves catalog, declarations, suites and evidence agree;
``tests/test_docs.py`` that the README is as generated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from agentops_audit import metrics, pii
from agentops_audit.catalog import Catalog, Item, Threshold
from agentops_audit.db import frame
from agentops_audit.manifest import Manifest
from agentops_audit.metrics import params
from agentops_audit.results import ERROR, FAIL, NO_DATA, PASS, ItemResult, not_evaluated

if TYPE_CHECKING:  # Great Expectations is imported only where expectations run (expectations.Validator)
    from agentops_audit.expectations import Validator

Evaluator = Callable[["AuditContext", Item], ItemResult]


@dataclass(frozen=True)
class Check:
    """One check as declared by ``@check``: the catalog's ``check`` name and what it reads."""

    name: str
    fn: Evaluator
    metrics: tuple[str, ...] = ()  # metric SQL files it reads, the first the main one
    suite: bool | dict = True  # True: judged by the GX suite of its name in checks/suites.yml; a dict
    # is the suite itself (table, default, expectations), declared here
    evidence: bool = False  # evidence/<name>.sql lists the rows behind it
    empty: str | None = None  # the NO_DATA reason when its main metric has no rows (the evaluator is not run)


CHECKS: dict[str, Check] = {}


def check(
    name: str,
    *,
    metrics: tuple[str, ...] = (),
    suite: bool | dict = True,
    evidence: bool = False,
    empty: str | None = None,
) -> Callable[[Evaluator], Evaluator]:
    """Register the decorated function as the evaluator of the catalog's ``check`` ``name``."""

    def register(fn: Evaluator) -> Evaluator:
        if name in CHECKS:
            raise ValueError(f"check {name!r} declared twice ({CHECKS[name].fn.__module__}, {fn.__module__})")
        if empty is not None and not metrics:
            raise ValueError(f"check {name!r}: empty= needs a main metric")
        CHECKS[name] = Check(name, fn, tuple(metrics), suite, evidence, empty)
        return fn

    return register


def evaluate(ctx: AuditContext, item: Item) -> ItemResult:
    """The item's result. An evaluator that raises gives ERROR with its message, not a crash; a check
    nothing declares is NO_DATA ("not evaluated yet"), never a pass."""
    if item.check in CHECKS:
        declared = CHECKS[item.check]
        try:
            if declared.empty is not None and ctx.metric(declared.metrics[0]).is_empty():
                return ItemResult(item.id, NO_DATA, reason=declared.empty)
            return declared.fn(ctx, item)
        except Exception as exc:  # reported in the audit as ERROR, the other items still run
            return ItemResult(item.id, ERROR, reason=f"{type(exc).__name__}: {exc}")
    if item.check and item.check.startswith("manifest."):
        return not_evaluated(item.id, "declared in the readiness manifest: not evaluated yet")
    return not_evaluated(item.id)


def metric_of(ctx: AuditContext, item: Item) -> pl.DataFrame:
    """The main metric the item's check declares (the first of its ``metrics``)."""
    return ctx.metric(CHECKS[item.check].metrics[0])


PII_FIELDS = ("input_text", "output_text", "tool_args", "tool_result", "status_message")


@dataclass
class AuditContext:
    con: duckdb.DuckDBPyConnection
    catalog: Catalog
    validator: Validator
    config: dict = field(default_factory=dict)
    manifest: Manifest | None = None  # the readiness manifest; None when none was supplied
    as_of: date | None = None  # reference date for staleness; None: the end of the audited window
    weekly: object | None = None  # trends.Scope of a weekly audit (its week and history); None otherwise
    _frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    _inputs_installed: bool = False

    def install_inputs(self) -> None:
        """The price table, budgets, allow-list and derived TEMP tables (``metrics/params.py``), once."""
        if not self._inputs_installed:
            params.install(self.con, self.config, self.manifest)
            self._inputs_installed = True

    def metric(self, name: str) -> pl.DataFrame:
        self.install_inputs()
        if name not in self._frames:
            self._frames[name] = metrics.run(self.con, name)
        return self._frames[name]

    def pii_frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(leaks per field, leaks per field and entity), scanning the stored text once per audit."""
        if "pii_by_field" not in self._frames:
            extra = self.config.get("pii_patterns")
            candidates = pii.candidates_sql("spans", PII_FIELDS, extra_patterns=extra)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE pii_candidates AS {candidates}")
            pii.scan(self.con, "pii_candidates", list(PII_FIELDS), extra_patterns=extra)
            counts = ", ".join(f"count(*) FILTER (WHERE coalesce({f}, '') <> '') AS {f}" for f in PII_FIELDS)
            scanned = (
                f"UNPIVOT (SELECT {counts} FROM spans) ON {', '.join(PII_FIELDS)} INTO NAME field VALUE records_scanned"
            )
            self._frames["pii_by_field"] = frame(
                self.con,
                f"""
                WITH leaks AS (
                    SELECT field, count(DISTINCT (trace_id, span_id)) AS records_with_leak, count(*) AS findings
                    FROM pii_findings GROUP BY field)
                SELECT s.field, s.records_scanned,
                       coalesce(l.records_with_leak, 0) AS records_with_leak,
                       coalesce(l.findings, 0) AS findings,
                       coalesce(l.records_with_leak, 0) / s.records_scanned AS leak_rate
                FROM ({scanned}) s LEFT JOIN leaks l USING (field)
                WHERE s.records_scanned > 0
                ORDER BY leak_rate DESC, field""",
            )
            self._frames["pii_by_entity"] = frame(
                self.con,
                """
                SELECT field, entity, any_value(kind) AS kind,
                       count(DISTINCT (trace_id, span_id)) AS records_with_leak, count(*) AS findings,
                       min(masked) AS masked_example
                FROM pii_findings GROUP BY ALL ORDER BY records_with_leak DESC, field, entity""",
            )
        return self._frames["pii_by_field"], self._frames["pii_by_entity"]


def judge(
    ctx: AuditContext, item: Item, table: pl.DataFrame, threshold: Threshold | None = None, **result
) -> ItemResult:
    """Run the GX suite of the item's check on ``table``; PASS when every expectation holds, FAIL otherwise.
    ``threshold`` replaces the item's (or the suite's default) when the evaluator derived its own, e.g.
    from the readiness manifest; a threshold the catalog does not give is recorded in the evidence."""
    threshold = threshold or threshold_of(ctx, item)
    outcomes = ctx.validator.validate(item.check, table, threshold, inline_suite(item.check))
    ok = all(o.success for o in outcomes)
    declared = CHECKS.get(item.check)
    if declared and declared.metrics and "evidence" in result:  # the query behind the evidence, by default
        result["evidence"] = {"query": ", ".join(declared.metrics), **result["evidence"]}
    if threshold is not None and item.threshold is None:  # record the default that judged the item
        result.setdefault("evidence", {})["threshold"] = {
            "metric": threshold.metric,
            "op": threshold.op,
            "value": threshold.value,
            "unit": threshold.unit,
            "note": threshold.note,
        }
    return ItemResult(item.id, PASS if ok else FAIL, expectations=[o.to_dict() for o in outcomes], **result)


def totals(df: pl.DataFrame, *columns: str) -> dict[str, int]:
    """Each column's sum, as an int (a metric's per-group counts added up)."""
    return {c: int(df[c].sum()) for c in columns}


def inline_suite(name: str) -> dict | None:
    """The suite a check declares with ``@check(..., suite={...})``, or None (its suite is in suites.yml)."""
    declared = CHECKS.get(name)
    return declared.suite if declared and isinstance(declared.suite, dict) else None


def threshold_of(ctx: AuditContext, item: Item) -> Threshold | None:
    """The item's threshold, or the suite's default when the catalog gives none; a config override
    (``thresholds: {item id: value}``) replaces a default's value as it replaces a catalog one."""
    if item.threshold:
        return item.threshold
    default = ctx.validator.default_threshold(item.check, inline_suite(item.check))
    override = (ctx.config.get("thresholds") or {}).get(item.id)
    if default is not None and override is not None:
        return replace(default, value=override, note="overridden by config")
    return default


def write_classes(ctx: AuditContext) -> dict:
    """How the write calls' classes were known: calls per origin (trace, declared, inferred), the inferred
    write tools, and the tools no source classifies (``metrics/tool_classes.py``)."""
    if "write_classes" not in ctx._frames:
        ctx.install_inputs()
        by_origin = {
            o or "unknown": n
            for o, n in ctx.con.execute(
                "SELECT class_origin, count(*) FROM write_actions GROUP BY ALL ORDER BY ALL"
            ).fetchall()
        }
        inferred = sorted(
            t
            for (t,) in ctx.con.execute(
                "SELECT DISTINCT tool FROM write_actions WHERE class_origin = 'inferred'"
            ).fetchall()
        )
        unknown = sorted(
            t for (t,) in ctx.con.execute("SELECT tool FROM audit_tool_classes WHERE access IS NULL").fetchall()
        )
        ctx._frames["write_classes"] = {
            "write_classes_from": by_origin,
            "inferred_write_tools": inferred,
            "unclassified_tools": unknown,
        }
    return ctx._frames["write_classes"]


def no_writes(ctx: AuditContext, item: Item) -> ItemResult:
    """NO_DATA for a check of writes when no call is a write, naming the tools nothing classifies."""
    unknown = write_classes(ctx)["unclassified_tools"]
    reason = (
        "no write tool calls: no call is a write by its span (agentops.tool.access), the manifest's tools or its name"
    )
    if unknown:
        reason += (
            f"; {len(unknown)} tool{'s' if len(unknown) != 1 else ''} could not be classified: "
            f"{', '.join(unknown)} (declare them in the manifest's tools)"
        )
    return ItemResult(item.id, NO_DATA, reason=reason, evidence=write_classes(ctx))


def with_classes(ctx: AuditContext, result: ItemResult) -> ItemResult:
    """A judged check of writes that says, when it rests on classes inferred from tool names, which."""
    basis = write_classes(ctx)
    result.evidence.update(basis)
    inferred = basis["inferred_write_tools"]
    if inferred and result.display:
        n = basis["write_classes_from"].get("inferred", 0)
        result.display += (
            f" [write class inferred from the tool's name for {n} call{'s' if n != 1 else ''}: {', '.join(inferred)}]"
        )
    return result
