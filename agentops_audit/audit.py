"""Audit an audit database: evaluate every catalog item, decide the verdict, write ``audit.json``.

``audit.json`` is the one result object: the report renders from it alone. ``run`` fills its typed records
(``results.AuditDocument``: window, verdict basis, sections of items, blockers, metrics, examples,
provenance) and returns their dict, to which a weekly audit adds its week-over-week parts. It records what produced
it: thresholds, the config hash (which covers the readiness manifest and policy file), the input files'
sha256, the audit's reference date and the toolkit version. ``audit.schema.json`` is its JSON Schema.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from agentops_audit import __version__, catalog, dashboards, db, pii, trends
from agentops_audit import manifest as readiness
from agentops_audit.evaluators import AuditContext, evaluate
from agentops_audit.evaluators.attested import as_of as reference_date
from agentops_audit.evaluators.attested import declared_phase
from agentops_audit.evaluators.release_gate import summary as eval_summary
from agentops_audit.integrations import regulation, verify
from agentops_audit.metrics import params, tool_classes
from agentops_audit.results import (
    NO_DATA,
    NOT_APPLICABLE,
    AuditDocument,
    AuditedItem,
    Blocker,
    Example,
    Metrics,
    Provenance,
    Section,
    Source,
    VerdictBasis,
    Window,
)
from agentops_audit.trends import windows
from agentops_audit.verdict import decide

if TYPE_CHECKING:
    from agentops_audit.expectations import Validator

SCHEMA_VERSION = "1"
EXAMPLE_TRACES = 3
EXAMPLE_TEXT_CHARS = 160


def config_hash(config: dict, cat: catalog.Catalog, manifest: readiness.Manifest | None = None) -> str:
    thresholds = {i.id: [i.threshold.op, i.threshold.value] for i in cat.items if i.threshold}
    declared = (
        None
        if manifest is None
        else {"manifest": manifest.sha256, "policy": manifest.policy.sha256 if manifest.policy else None}
    )
    blob = json.dumps(
        {"config": config, "thresholds": thresholds, **({"readiness": declared} if declared else {})},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _rows(df: pl.DataFrame) -> list[dict]:
    return [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in df.iter_rows(named=True)
    ]


def _examples(ctx: AuditContext) -> list[Example]:
    """Masked span trees of the earliest sessions with a failed tool call, for the report."""
    ctx.install_inputs()  # tool_attempts: the tool_calls view's failure flags, computed once per audit
    sessions = db.frame(
        ctx.con,
        f"""
        SELECT a.session_key AS session_id, any_value(a.trace_id) AS trace_id,
               string_agg(DISTINCT a.tool_name, ', ') AS tools, min(a.start_time) AS first_failure,
               any_value(s.failure_category) AS failure_category
        FROM tool_attempts a LEFT JOIN sessions s ON s.session_id = a.session_key
        WHERE a.failed
        GROUP BY a.session_key ORDER BY first_failure, a.session_key LIMIT {EXAMPLE_TRACES}""",
    )
    examples = []
    for s in sessions.iter_rows(named=True):
        ctx.con.execute(
            "CREATE OR REPLACE TEMP TABLE example_trace AS SELECT * FROM spans WHERE trace_id = ?", [s["trace_id"]]
        )  # one scan of spans; the recursion then walks this trace only
        spans = db.frame(
            ctx.con,
            """
            WITH RECURSIVE tree AS (
                SELECT span_id, 0 AS depth, [start_time] AS path FROM example_trace
                WHERE parent_span_id IS NULL
                UNION ALL
                SELECT c.span_id, t.depth + 1, list_append(t.path, c.start_time) FROM example_trace c
                JOIN tree t ON c.parent_span_id = t.span_id)
            SELECT t.depth, s.name, s.span_type, s.status_code, round(s.duration_ms, 1) AS duration_ms,
                   s.tool_name, s.error_type, s.tool_args, s.tool_result,
                   coalesce(a.failed, s.status_code = 'ERROR') AS failed
            FROM tree t JOIN example_trace s ON s.span_id = t.span_id
            LEFT JOIN tool_attempts a ON a.trace_id = s.trace_id AND a.span_id = s.span_id
            ORDER BY t.path""",
        )
        rows, keys = [], ("tool_args", "tool_result")
        spans_rows = list(spans.iter_rows(named=True))
        masked = iter(pii.mask_many([r[k] or None for r in spans_rows for k in keys]))  # one query per example
        for r in spans_rows:
            for key in keys:
                m = next(masked)
                text = m if r[key] else r[key]
                r[key] = text[:EXAMPLE_TEXT_CHARS] + ("…" if len(text) > EXAMPLE_TEXT_CHARS else "") if text else text
            rows.append(r)
        examples.append(
            Example(
                session_id=s["session_id"],
                trace_id=s["trace_id"],
                failed_tools=s["tools"],
                failure_category=s["failure_category"],
                spans=rows,
            )
        )
    return examples


VOLUME = ("sessions", "traces", "spans", "llm_calls", "tool_calls")  # the counts of metrics/volume.sql in metrics


def _metrics(ctx: AuditContext) -> Metrics:
    volume = ctx.metric("volume").row(0, named=True)
    coverage = ctx.metric("trace_coverage").row(0, named=True)
    propagation = {r["defect"]: r["count"] for r in ctx.metric("trace_propagation").iter_rows(named=True)}
    by_field, by_entity = ctx.pii_frames()
    return Metrics(
        **{k: volume[k] for k in VOLUME},
        trace_coverage=coverage["coverage"],
        trace_coverage_method=coverage["method"],
        orphan_spans=propagation["orphan_spans"],
        propagation_defects=propagation,
        tool_success={r.pop("tool"): r for r in _rows(ctx.metric("tool_success"))},
        pii_leaks={"by_field": _rows(by_field), "by_entity": _rows(by_entity)},
        tool_classes=_tool_classes(ctx),
        evals=eval_summary(ctx),  # section 2: eval set, regression gate, judge calibration, output checks
        headline=dashboards.headline(ctx),  # sections 1, 3-5, 7: success, escalation, latency, policy, cost, versions
        dashboards=dashboards.dashboards(ctx),
    )


def _tool_classes(ctx: AuditContext) -> dict:
    """Where the tool calls' classes came from, every tool classified from its name (with the manifest line
    that declares it instead) and the tools nothing classifies (metrics/tool_classes.py)."""
    ctx.install_inputs()
    found = tool_classes.summary(ctx.con)
    for row in found["inferred"]:
        row["declare"] = tool_classes.declaration(row)
    return found


def _basis(results: dict) -> VerdictBasis:
    """What the verdict rests on besides the traces' own attributes: judged checks of writes whose write
    classes were inferred from tool names."""
    items = sorted(
        i
        for i, r in results.items()
        if r.status not in (NO_DATA, "ERROR", NOT_APPLICABLE) and r.evidence.get("inferred_write_tools")
    )
    tools = sorted({t for i in items for t in results[i].evidence["inferred_write_tools"]})
    return VerdictBasis(inferred_tool_classes=bool(items), items=items, tools=tools)


def _provenance(con) -> Provenance:
    sources = db.frame(con, "SELECT * EXCLUDE (source_id) FROM sources ORDER BY source_id")
    reasons = db.frame(
        con, "SELECT reason, count(*) AS rows FROM quarantine GROUP BY reason ORDER BY rows DESC, reason"
    )
    return Provenance(inputs=_rows(sources), quarantine_by_reason=_rows(reasons))


def run(
    db_path: str | Path,
    config: dict | None = None,
    validator: Validator | None = None,
    manifest: readiness.Manifest | str | Path | None = None,
    as_of: date | None = None,
    week: str | None = None,
    history: str | Path | None = None,
    config_path: str | Path | None = None,
) -> dict:
    """Audit ``db_path`` and return the audit document (see ``write``).

    ``manifest`` is the readiness manifest (loaded, or a path to load); without one the attested items
    are NO_DATA. ``as_of`` is the reference date for staleness (default: the end of the audited window).
    ``week`` (ISO, e.g. ``2026-W46``) audits only the sessions that started in that week
    (``windows.restrict``); ``history`` is the weekly history store (``trends/store.py``) that its
    week-over-week checks, alerts, streaks and trends read (``trends.Scope``). ``config_path`` is the file
    ``config`` was read from, hashed into ``integrity`` with the inputs, manifest and catalog.
    """
    config = config or {}
    if manifest is not None and not isinstance(manifest, readiness.Manifest):
        manifest = readiness.load(manifest)
    cat = catalog.load(overrides=config.get("thresholds"))
    if validator is None:  # Great Expectations is imported here, where expectations run, not at import
        from agentops_audit.expectations import Validator

        validator = Validator()
    scope = trends.open_scope(week, history) if week else None
    con = db.connect(db_path, read_only=True)
    con.execute(f"SET memory_limit = '{params.memory_limit(config)}'")  # keeps the audit's peak memory bounded
    try:
        if scope:
            windows.restrict(con, scope.week)
        ctx = AuditContext(
            con=con, catalog=cat, validator=validator, config=config, manifest=manifest, as_of=as_of, weekly=scope
        )
        ctx.as_of = reference_date(ctx)
        results = {item.id: evaluate(ctx, item) for item in cat.items}
        verdict = decide(cat, {k: r.status for k, r in results.items()}, declared_phase(manifest, config))
        volume = ctx.metric("volume").row(0, named=True)
        doc = AuditDocument(
            schema_version=SCHEMA_VERSION,
            toolkit_version=__version__,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            database=str(db_path),
            config_hash=config_hash(config, cat, manifest),
            config=config,
            window=Window(
                start=str(volume["window_start"]),
                end=str(volume["window_end"]),
                synthetic_clock_traces=volume["synthetic_clock_traces"],
            ),
            verdict=verdict.overall,
            verdict_basis=_basis(results),
            recommended_phase=verdict.recommended_phase,
            as_of=ctx.as_of.isoformat(),
            declared_phase=verdict.declared_phase,
            phase_advice=verdict.phase_advice,
            manifest=manifest.summary() if manifest else None,
            phases=cat.phases,
            next_phase_blockers=verdict.next_phase_blockers,
            blockers=[_blocker(cat, results[i], manifest) for i in verdict.blockers],
            sections=[_section(cat, sid, title, results, verdict) for sid, title in cat.sections.items()],
            metrics=_metrics(ctx),
            examples=_examples(ctx),
            provenance=_provenance(con),
        ).to_dict()
        if scope:  # week, weekly_metrics, changes, alerts, streaks, trends (trends/records.py)
            doc.update(scope.document(ctx, results).to_dict())
        # evidence per framework control (checks/regulation.yml), then the sha256 of what the result rests on
        doc["regulation"] = regulation.evaluate(doc).to_dict()
        doc["integrity"] = verify.block(con, config_path, config, manifest).to_dict()
    finally:
        con.close()
    return verify.seal(doc)  # write seals again: a caller may have added to the document


def _item(cat: catalog.Catalog, result) -> AuditedItem:
    item = cat.item(result.item_id)
    outcome = result.to_dict()  # a copy: the document does not share the evaluator's dicts
    del outcome["item_id"]  # the rest: status, value, display, reason, evidence, at_fault, expectations
    return AuditedItem(
        id=item.id,
        title=item.title,
        severity=item.severity,
        phase=item.phase,
        evidence_kind=item.evidence,
        check=item.check,
        explain=item.explain,
        source=Source(document=item.source, title=cat.documents[item.source]["title"], text=item.source_text),
        **outcome,
        threshold=outcome["evidence"].get("threshold")
        if item.threshold is None
        else {  # else the suite default
            "metric": item.threshold.metric,
            "op": item.threshold.op,
            "value": item.threshold.value,
            "unit": item.threshold.unit,
            "note": item.threshold.note,
        },
    )


def _section(cat, sid: int, title: str, results: dict, verdict) -> Section:
    items = [_item(cat, results[i.id]) for i in cat.by_section(sid)]
    counts = {}
    for it in items:
        counts[it.status] = counts.get(it.status, 0) + 1
    return Section(id=sid, title=title, status=verdict.sections[sid], counts=counts, items=items)


def _blocker(cat: catalog.Catalog, result, manifest: readiness.Manifest | None) -> Blocker:
    """One item short of a pass; ``owner``: the attested entry's owner, else the manifest's owner."""
    item = cat.item(result.item_id)
    return Blocker(
        item=item.id,
        title=item.title,
        section=item.section,
        section_title=cat.sections[item.section],
        severity=item.severity,
        phase=item.phase,
        status=result.status,
        value=result.value,
        display=result.display or result.reason,
        threshold=item.threshold.describe() if item.threshold else None,
        at_fault=result.at_fault,
        owner=result.evidence.get("owner") or (manifest.owner_name if manifest else None),
    )


def write(doc: dict, out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "audit.json"
    verify.seal(doc)  # integrity.document_sha256: the digest `agentops-audit verify` recomputes
    path.write_text(json.dumps(doc, indent=2, default=str))
    return path


def summary(doc: dict) -> pl.DataFrame:
    """One row per section: its status and how many items have each status."""
    return pl.DataFrame(
        [
            {
                "section": s["id"],
                "title": s["title"],
                "status": s["status"],
                **{k.lower(): s["counts"].get(k, 0) for k in ("PASS", "WARN", "FAIL", "NO_DATA", "ERROR")},
            }
            for s in doc["sections"]
        ]
    )
