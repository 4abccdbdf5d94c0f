"""Result records: what one checklist item evaluated to, the evidence behind it, and audit.json itself as
typed records (``AuditDocument`` and its parts), which ``audit.run`` fills and ``audit.schema.json`` describes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass

PASS, WARN, FAIL, NO_DATA, ERROR, NOT_APPLICABLE = "PASS", "WARN", "FAIL", "NO_DATA", "ERROR", "NOT_APPLICABLE"
STATUSES = (PASS, WARN, FAIL, NO_DATA, ERROR, NOT_APPLICABLE)


@dataclass
class ItemResult:
    item_id: str
    status: str
    value: float | None = None
    display: str = ""  # the value as a person reads it, e.g. "95.8% (lookup_order)"
    reason: str = ""  # why: what failed, or why there is no data
    evidence: dict = field(default_factory=dict)  # query name and the counts behind the value
    at_fault: list[str] = field(default_factory=list)  # tools, rules or fields responsible
    expectations: list[dict] = field(default_factory=list)  # Great Expectations outcomes

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def not_evaluated(item_id: str, reason: str = "not evaluated yet") -> ItemResult:
    return ItemResult(item_id, NO_DATA, reason=reason)


@dataclass
class Metrics:
    """``metrics`` of audit.json: the volume, the trace checks' figures, the eval summary, the headline
    numbers of sections 1, 3-5 and 7 (``dashboards.headline``) and the dashboards' series.
    ``audit.schema.json`` requires every key ``to_dict`` writes (``tests/test_audit_schema.py``)."""

    sessions: int
    traces: int
    spans: int
    llm_calls: int
    tool_calls: int
    trace_coverage: float | None
    trace_coverage_method: str | None
    orphan_spans: int
    propagation_defects: dict[str, int]
    tool_success: dict[str, dict]
    pii_leaks: dict[str, list[dict]]
    tool_classes: dict
    evals: dict
    headline: dict  # dashboards.headline: its keys stand at the top level of ``metrics``
    dashboards: dict[str, list[dict]]

    def to_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("headline", "dashboards")}
        return {**out, **self.headline, "dashboards": self.dashboards}


# ---------------------------------------------------------------- audit.json, typed


def plain(value):
    """A result record as JSON-ready data: a record's ``to_dict`` (or its fields, in order), lists and
    dicts walked, anything else as is."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


@dataclass
class Window:
    """``window``: the audited span of time, and the traces whose times the ingest made up."""

    start: str
    end: str
    synthetic_clock_traces: int


@dataclass
class VerdictBasis:
    """``verdict_basis``: judged items of writes that rest on write classes inferred from tool names."""

    inferred_tool_classes: bool
    items: list[str]
    tools: list[str]


@dataclass
class Source:
    """The checklist line an item comes from."""

    document: str
    title: str
    text: str


@dataclass
class AuditedItem:
    """One item of ``sections[].items``: the catalog's item and what it evaluated to (``ItemResult``)."""

    id: str
    title: str
    severity: str
    phase: int
    evidence_kind: str
    check: str | None
    explain: str
    source: Source
    status: str
    value: float | None
    display: str
    reason: str
    evidence: dict
    at_fault: list[str]
    expectations: list[dict]
    threshold: dict | None  # the catalog's, else the suite default that judged it (from its evidence)


@dataclass
class Section:
    """One of the seven sections: its status, how many items have each status, and its items."""

    id: int
    title: str
    status: str
    counts: dict[str, int]
    items: list[AuditedItem]


@dataclass
class Blocker:
    """One item short of a pass, as ``blockers`` lists it; ``owner``: the attested entry's, else the
    manifest's."""

    item: str
    title: str
    section: int
    section_title: str
    severity: str
    phase: int
    status: str
    value: float | None
    display: str
    threshold: str | None
    at_fault: list[str]
    owner: str | None


@dataclass
class Example:
    """One masked example trace of ``examples``: a session with a failed tool call, its spans in tree order."""

    session_id: str
    trace_id: str
    failed_tools: str
    failure_category: str | None
    spans: list[dict]


@dataclass
class Provenance:
    """What was read: the ledger's input files and the quarantined rows by reason."""

    inputs: list[dict]
    quarantine_by_reason: list[dict]


@dataclass
class AuditDocument:
    """audit.json as ``audit.run`` builds it, before the typed parts that read or hash the document are added
    to its dict: the weekly parts (``trends.records.WeeklyParts``), the regulation mapping
    (``integrations.regulation.Regulation``) and the integrity block (``integrations.verify.Integrity``).
    ``audit.schema.json`` requires every field (``tests/test_audit_schema.py``)."""

    schema_version: str
    toolkit_version: str
    generated_at: str
    database: str
    config_hash: str
    config: dict
    window: Window
    verdict: str
    verdict_basis: VerdictBasis
    recommended_phase: int
    as_of: str
    declared_phase: int | None
    phase_advice: str
    manifest: dict | None
    phases: dict
    next_phase_blockers: list[str]
    blockers: list[Blocker]
    sections: list[Section]
    metrics: Metrics
    examples: list[Example]
    provenance: Provenance

    def to_dict(self) -> dict:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}
