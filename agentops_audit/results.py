"""Result records: what one checklist item evaluated to, and the evidence behind it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

PASS, WARN, FAIL, NO_DATA, ERROR, NOT_APPLICABLE = "PASS", "WARN", "FAIL", "NO_DATA", "ERROR", "NOT_APPLICABLE"
STATUSES = (PASS, WARN, FAIL, NO_DATA, ERROR, NOT_APPLICABLE)


@dataclass
class ItemResult:
    item_id: str
    status: str
    value: float | None = None
    display: str = ""                # the value as a person reads it, e.g. "95.8% (lookup_order)"
    reason: str = ""                 # why: what failed, or why there is no data
    evidence: dict = field(default_factory=dict)   # query name and the counts behind the value
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
