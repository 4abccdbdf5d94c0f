"""The demo's constants and its ground truth (``truth.json``), tallied from what was generated."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from agentops_audit import prices
from agentops_audit.metrics.params import DEFAULT_BUDGETS, ERROR_STREAK, MIN_DAYS, MIN_TASKS_PER_DAY

EPOCH = datetime(2026, 11, 9, tzinfo=UTC)  # Monday of ISO week 2026-W46
SERVICE = {"service.name": "support-agent", "service.version": "2026.11.1"}
HOSTILE = (
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> <a href="javascript:window.__xss=3">x</a>'
)
REDACTED_EMAIL, REDACTED_PHONE = "[REDACTED_EMAIL]", "<PHONE_NUMBER>"
SMALL_MODEL, LARGE_MODEL = "gpt-4o-mini", "gpt-4o"
ORG_PII = {"entity": "account_id", "pattern": "ACCT-[0-9]{8}"}
EXPORTER_FEE = 1.10  # the refund-agent exporter's cost figure: price-table cost plus a 10% platform fee
RISKS = ("money_movement", "identity_change", "production_change", "external_comms")
RETRY_CAP = 3
CATEGORIES = ["tool_error", "missing_context", "ambiguity", "model_refusal"]


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (DuckDB's quantile_cont)."""
    if not values:
        return None
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


def pcts(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": quantile(values, 0.5),
        "p95": quantile(values, 0.95),
        "p99": quantile(values, 0.99),
    }


@dataclass
class Task:
    """What one generated session amounts to, for the per-task truths."""

    session_id: str
    workflow: str
    outcome: str
    category: str | None
    start_us: int = 0
    end_us: int = 0
    tokens: int = 0
    tool_calls: int = 0
    cost: float = 0.0
    attempts: list = field(default_factory=list)  # failed flag of each tool attempt, in time order


@dataclass
class Truth:
    sessions: int = 0
    spans: int = 0
    tool_attempts: Counter = field(default_factory=Counter)
    tool_failed_attempts: Counter = field(default_factory=Counter)
    tool_logical: Counter = field(default_factory=Counter)
    tool_logical_failed: Counter = field(default_factory=Counter)
    tool_access: dict = field(default_factory=dict)
    retries: Counter = field(default_factory=Counter)  # (tool, retries) -> logical calls
    payload_only_failures: int = 0
    pii_leaks: dict = field(default_factory=lambda: defaultdict(Counter))  # field -> entity -> spans
    pii_values: list = field(default_factory=list)
    org_pii_values: list = field(default_factory=list)
    orphan_spans: list = field(default_factory=list)
    unapproved_risky_writes: list = field(default_factory=list)
    hostile_span: str | None = None
    workflows: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    tasks: list = field(default_factory=list)
    step_ms: dict = field(default_factory=lambda: defaultdict(list))  # span_type -> durations
    fields: dict = field(default_factory=lambda: defaultdict(Counter))  # field -> applicable/present
    versions: dict = field(default_factory=lambda: defaultdict(Counter))
    version_first_seen: dict = field(default_factory=dict)  # (kind, scope, version) -> first start (us)
    writes: list = field(default_factory=list)  # one dict per write tool call
    decisions: Counter = field(default_factory=Counter)  # (rule, decision) -> n
    decisions_without_reason: Counter = field(default_factory=Counter)  # decision -> n
    approvals: int = 0
    approvals_without_approver: int = 0
    audit_mismatch: list = field(default_factory=list)
    cost_spans: Counter = field(default_factory=Counter)  # exported / priced
    routing: dict = field(default_factory=lambda: defaultdict(Counter))  # purpose -> calls / small
    llm_input: int = 0
    llm_cache_read: int = 0
    llm_calls: int = 0
    llm_reporting_cache: int = 0
    oversized_prompts: int = 0
    generic_http_calls: int = 0
    results_missing: int = 0

    def as_dict(self, table: prices.PriceTable) -> dict:
        tools = sorted(self.tool_attempts)
        return {
            "sessions": self.sessions,
            "spans": self.spans,
            "tool_calls": sum(self.tool_attempts.values()),
            "tool_success": {
                t: {
                    "attempts": self.tool_attempts[t],
                    "failed_attempts": self.tool_failed_attempts[t],
                    "raw_success_rate": 1 - self.tool_failed_attempts[t] / self.tool_attempts[t],
                    "logical_calls": self.tool_logical[t],
                    "logical_failed": self.tool_logical_failed[t],
                    "success_rate_after_retries": 1 - self.tool_logical_failed[t] / self.tool_logical[t],
                }
                for t in tools
            },
            "payload_only_failures": self.payload_only_failures,
            "pii_leaks": {f: dict(e) for f, e in self.pii_leaks.items()},
            "pii_values": self.pii_values,
            "org_pii": {**ORG_PII, "spans": len(self.org_pii_values), "values": self.org_pii_values},
            "orphan_spans": len(self.orphan_spans),
            "orphan_span_ids": self.orphan_spans,
            "unapproved_risky_writes": self.unapproved_risky_writes,
            "hostile_span": self.hostile_span,
            "workflows": dict(self.workflows),
            "outcomes": dict(self.outcomes),
            **self._tasks(),
            "latency": {
                "session": pcts([(t.end_us - t.start_us) / 1000 for t in self.tasks]),
                "steps": {k: pcts(v) for k, v in sorted(self.step_ms.items())},
            },
            "required_fields": {f: dict(c) for f, c in sorted(self.fields.items())},
            "versions": {
                "completeness": {k: dict(c) for k, c in sorted(self.versions.items())},
                "changes": self._version_changes(),
            },
            **self._writes(),
            "policy_decisions": [
                {"rule": r, "decision": d, "count": n} for (r, d), n in sorted(self.decisions.items())
            ],
            "deny_reasons": {
                "decisions": sum(self.decisions.values()),
                "without_reason": dict(self.decisions_without_reason),
                "approvals": self.approvals,
                "approvals_without_approver": self.approvals_without_approver,
            },
            "tools_seen": dict(sorted(self.tool_access.items())),
            "generic_http_tools": sorted(t for t in self.tool_access if t == "http_request"),
            "generic_http_calls": self.generic_http_calls,
            "tool_results_missing": self.results_missing,
            "retries": self._retries(),
            "routing": {p: dict(c) for p, c in sorted(self.routing.items())},
            "cache": {
                "llm_calls": self.llm_calls,
                "calls_reporting_cache": self.llm_reporting_cache,
                "input_tokens": self.llm_input,
                "cache_read_tokens": self.llm_cache_read,
                "share": self.llm_cache_read / self.llm_input if self.llm_input else None,
                "oversized_prompts": self.oversized_prompts,
            },
            "cost": self._cost(table),
        }

    def _tasks(self) -> dict:
        by_wf: dict[str, Counter] = defaultdict(Counter)
        for t in self.tasks:
            by_wf[t.workflow][t.outcome] += 1
        failed = [t for t in self.tasks if t.outcome == "failure"]
        categories = Counter(t.category or "uncategorised" for t in failed)
        budgets = DEFAULT_BUDGETS
        tokens_by_wf = defaultdict(list)
        for t in self.tasks:
            tokens_by_wf[t.workflow].append(float(t.tokens))
        return {
            "outcomes_by_workflow": {w: dict(c) for w, c in sorted(by_wf.items())},
            "task_success": {
                "sessions": len(self.tasks),
                "successes": self.outcomes["success"],
                "rate": self.outcomes["success"] / len(self.tasks) if self.tasks else None,
                "by_workflow": {
                    w: {"sessions": sum(c.values()), "successes": c["success"], "rate": c["success"] / sum(c.values())}
                    for w, c in sorted(by_wf.items())
                },
            },
            "escalation": {
                "sessions": len(self.tasks),
                "escalated": self.outcomes["escalated"],
                "rate": self.outcomes["escalated"] / len(self.tasks) if self.tasks else None,
                "by_workflow": {
                    w: {
                        "sessions": sum(c.values()),
                        "escalated": c["escalated"],
                        "rate": c["escalated"] / sum(c.values()),
                    }
                    for w, c in sorted(by_wf.items())
                },
            },
            "failure_taxonomy": {
                "failed": len(failed),
                "categorised": sum(1 for t in failed if t.category),
                "by_category": dict(sorted(categories.items())),
            },
            "budgets": {
                "limits": budgets,
                "over": {
                    "tokens": sorted(t.session_id for t in self.tasks if t.tokens > budgets["max_tokens_per_task"]),
                    "tool_calls": sorted(
                        t.session_id for t in self.tasks if t.tool_calls > budgets["max_tool_calls_per_task"]
                    ),
                    "latency": sorted(
                        t.session_id
                        for t in self.tasks
                        if (t.end_us - t.start_us) / 1000 > budgets["max_latency_ms_per_task"]
                    ),
                },
            },
            "tokens_per_task": {
                w: {"p50": quantile(v, 0.5), "p95": quantile(v, 0.95), "mean": statistics.fmean(v)}
                for w, v in sorted(tokens_by_wf.items())
            },
            "sessions_kept_calling": sorted(t.session_id for t in self.tasks if kept_calling(t.attempts)),
        }

    def _cost(self, table: prices.PriceTable) -> dict:
        costs = [t.cost for t in self.tasks]
        ok = [t.cost for t in self.tasks if t.outcome == "success"]
        by_wf = defaultdict(list)
        for t in self.tasks:
            by_wf[t.workflow].append(t)
        days = defaultdict(list)
        for t in self.tasks:
            days[datetime.fromtimestamp(t.start_us / 1e6, UTC).date().isoformat()].append(t.cost)
        daily = {d: quantile(v, 0.95) for d, v in sorted(days.items()) if len(v) >= MIN_TASKS_PER_DAY}
        series = list(daily.values())
        return {
            "price_table_version": table.version,
            "exported_spans": self.cost_spans["exported"],
            "priced_spans": self.cost_spans["priced"],
            "total_usd": sum(costs),
            "tasks": len(costs),
            "successful_tasks": len(ok),
            "per_task_p50": quantile(costs, 0.5),
            "per_task_p95": quantile(costs, 0.95),
            "per_successful_task": sum(costs) / len(ok) if ok else None,
            "successful_task_p50": quantile(ok, 0.5),
            "by_workflow": {
                w: {
                    "tasks": len(ts),
                    "p50": quantile([t.cost for t in ts], 0.5),
                    "p95": quantile([t.cost for t in ts], 0.95),
                    "successful_p50": quantile([t.cost for t in ts if t.outcome == "success"], 0.5),
                    "per_successful_task": (
                        sum(t.cost for t in ts) / n_ok if (n_ok := sum(t.outcome == "success" for t in ts)) else None
                    ),
                }
                for w, ts in sorted(by_wf.items())
            },
            "daily_p95": daily,
            "daily_p95_cv": (statistics.stdev(series) / statistics.fmean(series) if len(series) >= MIN_DAYS else None),
        }

    def _writes(self) -> dict:
        w = self.writes
        records = [x for x in w if x["record"]]
        denies = sum(n for (_, d), n in self.decisions.items() if d == "deny")
        no_gate = [x for x in w if not x["gateway"]]
        risky_unapproved = [x for x in w if x["risk"] in RISKS and not x["approved"]]
        violating = [x for x in w if not x["gateway"] or (x["risk"] in RISKS and not x["approved"])]
        attempted = len(w) + denies
        return {
            "audit_trail": {
                "writes": len(w),
                "records": len(records),
                "writes_without_record": sum(1 for x in w if not x["record"]),
                "hash_mismatches": self.audit_mismatch,
                "first_broken_record": self.audit_mismatch[0] if self.audit_mismatch else None,
            },
            "gateway": {
                "writes": len(w),
                "without_decision": len(no_gate),
                "by_tool": dict(Counter(x["tool"] for x in no_gate)),
            },
            "risky_writes": {
                "writes": sum(1 for x in w if x["risk"] in RISKS),
                "without_approval": len(risky_unapproved),
            },
            "untrusted_writes": {
                "after_untrusted": sum(1 for x in w if x["untrusted"]),
                "unapproved": sum(1 for x in w if x["untrusted"] and not x["approved"]),
            },
            "policy_violations": {
                "attempted_actions": attempted,
                "violating_actions": denies + len(violating),
                "rate": (denies + len(violating)) / attempted if attempted else None,
                "by_kind": {
                    "deny": denies,
                    "write_without_gateway_decision": len(no_gate),
                    "risky_write_without_approval": len(risky_unapproved),
                },
            },
        }

    def _retries(self) -> dict:
        over = {(t, r): n for (t, r), n in self.retries.items() if r > RETRY_CAP}
        return {
            "max_retries": max((r for _, r in self.retries), default=None),
            "calls_over_cap": sum(over.values()),
            "tools_over_cap": sorted({t for t, _ in over}),
            "by_tool_max": {t: max(r for tt, r in self.retries if tt == t) for t in sorted(self.tool_logical)},
        }

    def _version_changes(self) -> list[dict]:
        scopes = defaultdict(list)
        for (kind, scope, version), first in self.version_first_seen.items():
            scopes[(kind, scope)].append((first, version))
        changes = []
        for (kind, scope), seen in sorted(scopes.items()):
            seen.sort()
            for (_, old), (first, new) in zip(seen, seen[1:], strict=False):
                changes.append(
                    {
                        "kind": kind,
                        "scope": scope,
                        "from_version": old,
                        "to_version": new,
                        "changed_at": (datetime(1970, 1, 1) + timedelta(microseconds=first)).isoformat(),
                    }
                )
        return changes


def kept_calling(failed: list[bool]) -> bool:
    """A tool call after ERROR_STREAK consecutive failed tool calls."""
    streak = 0
    for i, f in enumerate(failed):
        streak = streak + 1 if f else 0
        if streak >= ERROR_STREAK and i < len(failed) - 1:
            return True
    return False


def attr(key: str, value) -> dict:
    if isinstance(value, bool):
        tagged = {"boolValue": value}
    elif isinstance(value, int):
        tagged = {"intValue": str(value)}  # OTLP JSON encodes 64-bit integers as strings
    elif isinstance(value, float):
        tagged = {"doubleValue": value}
    elif isinstance(value, list):
        tagged = {"arrayValue": {"values": [{"stringValue": str(v)} for v in value]}}
    else:
        tagged = {"stringValue": str(value)}
    return {"key": key, "value": tagged}
