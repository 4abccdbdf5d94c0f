"""Seeded generator of realistic agent traces (OTLP JSON Lines) with known, injected defects.

The ground truth written beside the traces (``truth.json``) is tallied from what was generated, so the
tests can assert that the audit finds exactly the injected defects.

Workflows: ``refund_eligibility`` (refund-agent) and ``ticket_triage`` (triage-agent). A session is an
agent root span with LLM calls, a retrieval, read tools, gateway policy decisions, approvals for risky
writes, and write tools with hash-chained audit records.

Injected defects (all counted in truth.json):
- ``lookup_order`` fails persistently on some logical calls (status ERROR, or status OK with an error
  payload), which puts its success rate below 99.5%; the task then stops calling tools and fails;
- ``search_kb`` and ``get_customer`` fail transiently and succeed on retry (raw rate < after-retries rate);
- one ``search_kb`` call is retried 5 times (over the cap of 3), and one refund task keeps guessing
  order ids after three failed lookups (a runaway loop that also breaks the tool-call budget);
- raw emails and phone numbers leak into some stored ``get_customer`` results (the rest are redacted),
  and some carry an organisation-specific account id (``ACCT-`` and 8 digits) only a custom pattern finds;
- some retrieval spans are orphans (their parent span was never exported);
- one risky write (``issue_refund``) has no approval, one ``update_ticket`` write has no gateway decision;
- some triage tasks call a generic ``http_request`` tool (untrusted input, no schema version); half of
  them then write without an approval;
- one deny decision has no reason, one approval names no approver;
- one write has no audit record, one audit record was altered after hashing (a broken hash link);
- some LLM spans lack the prompt template version or the response model; some retrievals lack
  document ids; some failed tasks carry no failure category;
- some ``classify`` calls run on the large model; large-model calls report cache-read tokens;
- refund-agent LLM spans export their own cost (the exporter's figure includes a 10% platform fee), the
  others are priced from ``checks/prices.yml``;
- one task stuffs a 120k-token prompt (over the token budget), one waits 400 s on a slow lookup
  (over the latency budget);
- the refund prompt moves from refund-v3 to refund-v4 and ``update_ticket``'s schema from @2 to @3
  half-way through the window;
- the earliest failed tool call carries hostile markup in its arguments and result (for the report's
  escaping tests: it is the first example trace the report shows).
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agentops_audit import prices
from agentops_audit.metrics.params import DEFAULT_BUDGETS, ERROR_STREAK, MIN_DAYS, MIN_TASKS_PER_DAY

EPOCH = datetime(2026, 11, 9, tzinfo=UTC)  # Monday of ISO week 2026-W46
SERVICE = {"service.name": "support-agent", "service.version": "2026.11.1"}
HOSTILE = ('<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> '
           '<a href="javascript:window.__xss=3">x</a>')
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


def _pcts(values: list[float]) -> dict:
    return {"n": len(values), "p50": quantile(values, 0.5), "p95": quantile(values, 0.95),
            "p99": quantile(values, 0.99)}


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
            "latency": {"session": _pcts([(t.end_us - t.start_us) / 1000 for t in self.tasks]),
                        "steps": {k: _pcts(v) for k, v in sorted(self.step_ms.items())}},
            "required_fields": {f: dict(c) for f, c in sorted(self.fields.items())},
            "versions": {"completeness": {k: dict(c) for k, c in sorted(self.versions.items())},
                         "changes": self._version_changes()},
            **self._writes(),
            "policy_decisions": [{"rule": r, "decision": d, "count": n}
                                 for (r, d), n in sorted(self.decisions.items())],
            "deny_reasons": {"decisions": sum(self.decisions.values()),
                             "without_reason": dict(self.decisions_without_reason),
                             "approvals": self.approvals,
                             "approvals_without_approver": self.approvals_without_approver},
            "tools_seen": dict(sorted(self.tool_access.items())),
            "generic_http_tools": sorted(t for t in self.tool_access if t == "http_request"),
            "generic_http_calls": self.generic_http_calls,
            "tool_results_missing": self.results_missing,
            "retries": self._retries(),
            "routing": {p: dict(c) for p, c in sorted(self.routing.items())},
            "cache": {"llm_calls": self.llm_calls, "calls_reporting_cache": self.llm_reporting_cache,
                      "input_tokens": self.llm_input, "cache_read_tokens": self.llm_cache_read,
                      "share": self.llm_cache_read / self.llm_input if self.llm_input else None,
                      "oversized_prompts": self.oversized_prompts},
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
                "sessions": len(self.tasks), "successes": self.outcomes["success"],
                "rate": self.outcomes["success"] / len(self.tasks) if self.tasks else None,
                "by_workflow": {w: {"sessions": sum(c.values()), "successes": c["success"],
                                    "rate": c["success"] / sum(c.values())} for w, c in sorted(by_wf.items())},
            },
            "escalation": {
                "sessions": len(self.tasks), "escalated": self.outcomes["escalated"],
                "rate": self.outcomes["escalated"] / len(self.tasks) if self.tasks else None,
                "by_workflow": {w: {"sessions": sum(c.values()), "escalated": c["escalated"],
                                    "rate": c["escalated"] / sum(c.values())} for w, c in sorted(by_wf.items())},
            },
            "failure_taxonomy": {"failed": len(failed), "categorised": sum(1 for t in failed if t.category),
                                 "by_category": dict(sorted(categories.items()))},
            "budgets": {
                "limits": budgets,
                "over": {
                    "tokens": sorted(t.session_id for t in self.tasks if t.tokens > budgets["max_tokens_per_task"]),
                    "tool_calls": sorted(t.session_id for t in self.tasks
                                         if t.tool_calls > budgets["max_tool_calls_per_task"]),
                    "latency": sorted(t.session_id for t in self.tasks
                                      if (t.end_us - t.start_us) / 1000 > budgets["max_latency_ms_per_task"]),
                },
            },
            "tokens_per_task": {w: {"p50": quantile(v, 0.5), "p95": quantile(v, 0.95), "mean": statistics.fmean(v)}
                                for w, v in sorted(tokens_by_wf.items())},
            "sessions_kept_calling": sorted(t.session_id for t in self.tasks if _kept_calling(t.attempts)),
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
            "exported_spans": self.cost_spans["exported"], "priced_spans": self.cost_spans["priced"],
            "total_usd": sum(costs), "tasks": len(costs), "successful_tasks": len(ok),
            "per_task_p50": quantile(costs, 0.5), "per_task_p95": quantile(costs, 0.95),
            "per_successful_task": sum(costs) / len(ok) if ok else None,
            "successful_task_p50": quantile(ok, 0.5),
            "by_workflow": {
                w: {"tasks": len(ts), "p50": quantile([t.cost for t in ts], 0.5),
                    "p95": quantile([t.cost for t in ts], 0.95),
                    "successful_p50": quantile([t.cost for t in ts if t.outcome == "success"], 0.5),
                    "per_successful_task": (sum(t.cost for t in ts) / n_ok
                                            if (n_ok := sum(t.outcome == "success" for t in ts)) else None)}
                for w, ts in sorted(by_wf.items())},
            "daily_p95": daily,
            "daily_p95_cv": (statistics.stdev(series) / statistics.fmean(series)
                             if len(series) >= MIN_DAYS else None),
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
            "audit_trail": {"writes": len(w), "records": len(records),
                            "writes_without_record": sum(1 for x in w if not x["record"]),
                            "hash_mismatches": self.audit_mismatch,
                            "first_broken_record": self.audit_mismatch[0] if self.audit_mismatch else None},
            "gateway": {"writes": len(w), "without_decision": len(no_gate),
                        "by_tool": dict(Counter(x["tool"] for x in no_gate))},
            "risky_writes": {"writes": sum(1 for x in w if x["risk"] in RISKS),
                             "without_approval": len(risky_unapproved)},
            "untrusted_writes": {"after_untrusted": sum(1 for x in w if x["untrusted"]),
                                 "unapproved": sum(1 for x in w if x["untrusted"] and not x["approved"])},
            "policy_violations": {
                "attempted_actions": attempted, "violating_actions": denies + len(violating),
                "rate": (denies + len(violating)) / attempted if attempted else None,
                "by_kind": {"deny": denies, "write_without_gateway_decision": len(no_gate),
                            "risky_write_without_approval": len(risky_unapproved)},
            },
        }

    def _retries(self) -> dict:
        over = {(t, r): n for (t, r), n in self.retries.items() if r > RETRY_CAP}
        return {"max_retries": max((r for _, r in self.retries), default=None),
                "calls_over_cap": sum(over.values()),
                "tools_over_cap": sorted({t for t, _ in over}),
                "by_tool_max": {t: max(r for tt, r in self.retries if tt == t) for t in sorted(self.tool_logical)}}

    def _version_changes(self) -> list[dict]:
        scopes = defaultdict(list)
        for (kind, scope, version), first in self.version_first_seen.items():
            scopes[(kind, scope)].append((first, version))
        changes = []
        for (kind, scope), seen in sorted(scopes.items()):
            seen.sort()
            for (_, old), (first, new) in zip(seen, seen[1:], strict=False):
                changes.append({"kind": kind, "scope": scope, "from_version": old, "to_version": new,
                                "changed_at": (datetime(1970, 1, 1) + timedelta(microseconds=first)).isoformat()})
        return changes


def _kept_calling(failed: list[bool]) -> bool:
    """A tool call after ERROR_STREAK consecutive failed tool calls."""
    streak = 0
    for i, f in enumerate(failed):
        streak = streak + 1 if f else 0
        if streak >= ERROR_STREAK and i < len(failed) - 1:
            return True
    return False


def _attr(key: str, value) -> dict:
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


class _Session:
    """Builds the spans of one session on a running clock."""

    def __init__(self, gen: Generator, workflow: str, agent: str, start: datetime, late: bool):
        self.g, self.rng = gen, gen.rng
        self.trace_id = self.g.hexid(32)
        self.session_id = f"sess-{self.g.hexid(12)}"
        self.workflow, self.agent, self.late = workflow, agent, late
        self.clock_ns = int(start.timestamp() * 1e9)
        self.spans: list[dict] = []
        self.root_id = self.g.hexid(16)
        self.task = Task(self.session_id, workflow, "", None)
        self.decided: set[str] = set()   # tools with a gateway decision so far
        self.approved: set[str] = set()  # tools with an approval so far
        self.seen_untrusted = False
        prompt = "triage-v7" if workflow == "ticket_triage" else ("refund-v4" if late else "refund-v3")
        self.common = {
            "gen_ai.conversation.id": self.session_id,
            "agentops.workflow": workflow,
            "gen_ai.agent.name": agent,
            "agentops.prompt.template_version": prompt,
            "agentops.policy.version": "policy-2026.11",
        }

    def span(self, name: str, stype: str, attrs: dict, ms: float, status: int = 1, message: str = "",
             parent: str | None = None, kind: int = 1, events: list | None = None) -> str:
        span_id = self.g.hexid(16)
        start = self.clock_ns
        end = start + int(ms * 1e6)
        self.clock_ns = end + int(self.rng.uniform(2, 30) * 1e6)
        merged = {k: v for k, v in {**self.common, **attrs}.items() if v is not None}
        span = {
            "traceId": self.trace_id,
            "spanId": span_id,
            "parentSpanId": self.root_id if parent is None else parent,
            "name": name,
            "kind": kind,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(end),
            "attributes": [_attr(k, v) for k, v in merged.items()],
            "status": {"code": status, **({"message": message} if message else {})},
        }
        if events:
            span["events"] = events
        self.spans.append(span)
        truth = self.g.truth
        truth.step_ms[stype].append((end - start) / 1e6)
        truth.fields["latency"]["applicable"] += 1
        truth.fields["latency"]["present"] += 1
        for kind_, key, applies, scope in (
                ("prompt", "agentops.prompt.template_version", stype == "llm", self.workflow),
                ("tool_schema", "agentops.tool.schema_version", stype == "tool", merged.get("gen_ai.tool.name")),
                ("policy", "agentops.policy.version", stype == "policy", "all")):
            if applies:
                truth.versions[kind_]["applicable"] += 1
                truth.versions[kind_]["present"] += key in merged
            if applies and key in merged:
                seen = (kind_, scope, merged[key])
                truth.version_first_seen[seen] = min(truth.version_first_seen.get(seen, start // 1000), start // 1000)
        return span_id

    def llm(self, model: str, purpose: str, prompt: str, completion: str, input_tokens: int | None = None) -> None:
        g, truth = self.g, self.g.truth
        scale = g.token_scale
        inp = round((input_tokens or self.rng.randint(300, 2400)) * scale)
        out = round(self.rng.randint(40, 400) * scale)
        cache = round(inp * 0.6) if model == LARGE_MODEL and self.rng.random() < 0.5 else 0
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": model,
            "gen_ai.response.model": f"{model}-2024-08-06",
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": inp,
            "gen_ai.usage.output_tokens": out,
            "gen_ai.input.messages": json.dumps([{"role": "user", "content": prompt}]),
            "gen_ai.output.messages": json.dumps([{"role": "assistant", "content": completion}]),
            "agentops.llm.purpose": purpose,
        }
        if model == LARGE_MODEL:
            attrs["gen_ai.usage.cache_read.input_tokens"] = cache
            truth.llm_reporting_cache += 1
        if self.rng.random() < 0.04:  # defect: no prompt template version
            attrs["agentops.prompt.template_version"] = None
        served = attrs["gen_ai.response.model"]
        if self.rng.random() < 0.02:  # defect: no response model (model version)
            attrs["gen_ai.response.model"] = None
            served = model
        cost = g.prices.cost(served, inp, out, cache)
        if self.workflow == "refund_eligibility":  # this exporter reports its own figure
            cost = round(cost * EXPORTER_FEE, 12)
            attrs["agentops.cost.usd"] = cost
            truth.cost_spans["exported"] += 1
        else:
            truth.cost_spans["priced"] += 1
        if self.rng.random() < 0.15:  # some exporters still send the deprecated names
            attrs["gen_ai.system"] = attrs.pop("gen_ai.provider.name")
            attrs["gen_ai.usage.prompt_tokens"] = attrs.pop("gen_ai.usage.input_tokens")
            attrs["gen_ai.usage.completion_tokens"] = attrs.pop("gen_ai.usage.output_tokens")
        for name, key in (("model_name", "gen_ai.request.model"), ("model_version", "gen_ai.response.model"),
                          ("prompt_version", "agentops.prompt.template_version")):
            truth.fields[name]["applicable"] += 1
            present = attrs.get(key, self.common.get(key) if key.startswith("agentops") else None) is not None
            truth.fields[name]["present"] += present
        self.task.tokens += inp + out
        self.task.cost += cost
        truth.llm_calls += 1
        truth.llm_input += inp
        truth.llm_cache_read += cache
        truth.oversized_prompts += inp > DEFAULT_BUDGETS["max_input_tokens_per_call"]
        truth.routing[purpose]["calls"] += 1
        truth.routing[purpose]["small"] += model == SMALL_MODEL
        self.span(f"chat {model}", "llm", attrs, self.rng.uniform(300, 2500), kind=3)

    def retrieval(self, query: str) -> None:
        docs = [f"kb-{self.rng.randint(1000, 9999)}" for _ in range(3)]
        if self.rng.random() < 0.03:  # defect: the retrieved document ids were not logged
            docs = None
        parent = None
        if self.rng.random() < self.g.orphan_rate:
            parent = self.g.hexid(16)  # the parent span was never exported
        span_id = self.span(
            "retrieval kb", "retrieval",
            {"gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "support-kb",
             "agentops.retrieval.document_ids": docs, "agentops.retrieval.query": query},
            self.rng.uniform(20, 120), parent=parent, kind=3,
        )
        for name, present in (("retrieval_doc_ids", docs is not None), ("retrieval_timestamp", True)):
            self.g.truth.fields[name]["applicable"] += 1
            self.g.truth.fields[name]["present"] += present
        if parent is not None:
            self.g.truth.orphan_spans.append(span_id)

    def tool(self, name: str, args: dict, result: dict, access: str, risk: str | None = None,
             fail_mode: str | None = None, attempts_to_success: int = 1, pii_field: bool = False,
             max_attempts: int = 3, ms: float | None = None, extra: dict | None = None) -> bool:
        """One logical tool call, retried up to ``max_attempts``; True when it succeeded.
        fail_mode: None, 'status' or 'payload'."""
        g, truth = self.g, self.g.truth
        hostile = g.hostile_pending and access == "read" and fail_mode is not None
        if hostile:  # same arguments on every attempt, so it stays one logical call
            g.hostile_pending = False
            args = {**args, "note": HOSTILE}
        call_args = json.dumps(args, sort_keys=True)
        succeeded, attempt = False, 0
        truth.tool_access[name] = access
        for attempt in range(1, max_attempts + 1):
            ok = fail_mode is None or attempt >= attempts_to_success
            status, message, error_type, payload = 1, "", None, result
            if not ok:
                if fail_mode == "status":
                    status, message, error_type = 2, "upstream timeout", "TimeoutError"
                    payload = {"error": "timeout after 5000 ms"}
                else:  # status OK, but the payload says error
                    payload = {"error": {"code": 404, "message": "record not found"}}
                    truth.payload_only_failures += 1
            attrs = {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": f"call_{g.hexid(10)}",
                "gen_ai.tool.call.arguments": call_args,
                "gen_ai.tool.call.result": json.dumps(payload, sort_keys=True),
                "agentops.tool.access": access,
                "agentops.tool.risk": risk,
                "agentops.tool.schema_version": f"{name}@{3 if name == 'update_ticket' and self.late else 2}",
                "agentops.retry.attempt": attempt - 1,
                "error.type": error_type,
                **(extra or {}),
            }
            if ok and pii_field:
                self._maybe_leak(attrs, payload)
            if ok and g.results_missing_left and name == "search_kb":  # the exporter lost the result
                g.results_missing_left -= 1
                truth.results_missing += 1
                attrs["gen_ai.tool.call.result"] = None
                attrs["agentops.tool.result_missing"] = True
            if hostile and attempt == 1:
                attrs["gen_ai.tool.call.result"] = json.dumps({**payload, "snippet": HOSTILE}, sort_keys=True)
            if access == "write":
                self._audit(name, attrs)
            duration = ms if ms is not None else self.rng.uniform(40, 400)
            span_id = self.span(f"execute_tool {name}", "tool", attrs, duration, status, message)
            if hostile and attempt == 1:
                truth.hostile_span = span_id
            for fname, key in (("tool_args", "gen_ai.tool.call.arguments"), ("tool_result", "gen_ai.tool.call.result")):
                truth.fields[fname]["applicable"] += 1
                truth.fields[fname]["present"] += attrs.get(key) is not None
            truth.tool_attempts[name] += 1
            truth.tool_failed_attempts[name] += 0 if ok else 1
            self.task.tool_calls += 1
            self.task.attempts.append(not ok)
            if access == "write":
                truth.writes.append({"tool": name, "risk": risk, "record": "agentops.audit.record_id" in attrs,
                                     "gateway": name in self.decided, "approved": name in self.approved,
                                     "untrusted": self.seen_untrusted})
            if ok:
                succeeded = True
                break
        truth.tool_logical[name] += 1
        truth.tool_logical_failed[name] += 0 if succeeded else 1
        truth.retries[(name, attempt - 1)] += 1
        return succeeded

    def _audit(self, tool: str, attrs: dict) -> None:
        """Append a hash-chained audit record to a write (see README, "Audit trail")."""
        g = self.g
        g.writes_seen += 1
        if g.writes_seen == 3:  # defect: this write left no audit record
            return
        record_id, actor = f"audit-{g.writes_seen:06d}", f"svc:{self.agent}"
        args = attrs["gen_ai.tool.call.arguments"]
        digest = hashlib.sha256("|".join([g.chain_prev, record_id, actor, tool, args]).encode()).hexdigest()
        if g.writes_seen == 5:  # defect: the change was edited after it was logged
            attrs["gen_ai.tool.call.arguments"] = args.replace("}", ', "edited": true}', 1)
            g.truth.audit_mismatch.append(record_id)
        attrs.update({"agentops.audit.record_id": record_id, "agentops.audit.actor": actor,
                      "agentops.audit.hash": digest, "agentops.audit.prev_hash": g.chain_prev or None})
        g.chain_prev = digest

    def _maybe_leak(self, attrs: dict, payload: dict) -> None:
        leak = dict(payload)
        if self.rng.random() < self.g.leak_rate:
            kind = self.rng.choice(["email", "phone", "both"])
            first = self.rng.choice(["ana", "li", "omar", "kim", "sam", "eva"])
            if kind in ("email", "both"):
                leak["email"] = f"{first}.{self.g.hexid(4)}@example-mail.com"
                self.g.truth.pii_leaks["tool_result"]["email"] += 1
                self.g.truth.pii_values.append(leak["email"])
            if kind in ("phone", "both"):
                leak["phone"] = f"+1415555{self.rng.randint(1000, 9999)}"
                self.g.truth.pii_leaks["tool_result"]["phone"] += 1
                self.g.truth.pii_values.append(leak["phone"])
        if self.rng.random() < 0.05:  # an account id only the organisation's own pattern recognises
            leak["account"] = f"ACCT-{self.rng.randint(10_000_000, 99_999_999)}"
            self.g.truth.org_pii_values.append(leak["account"])
        attrs["gen_ai.tool.call.result"] = json.dumps(leak, sort_keys=True)

    def policy(self, tool: str, decision: str, rule: str, reason: str | None) -> None:
        self.decided.add(tool)
        self.g.truth.decisions[(rule, decision)] += 1
        if reason is None:
            self.g.truth.decisions_without_reason[decision] += 1
        self.span(f"policy {tool}", "policy", {
            "agentops.policy.decision": decision, "agentops.policy.rule": rule,
            "agentops.policy.reason": reason, "agentops.policy.enforcer": "gateway",
            "gen_ai.tool.name": tool,
        }, self.rng.uniform(1, 8))

    def approval(self, tool: str, approver: str | None = "ops-lead@corp") -> None:
        decided = datetime.fromtimestamp(self.clock_ns / 1e9, UTC) + timedelta(minutes=self.rng.uniform(1, 20))
        self.approved.add(tool)
        self.g.truth.approvals += 1
        self.g.truth.approvals_without_approver += approver is None
        self.span(f"approval {tool}", "approval", {
            "agentops.approval.status": "approved", "agentops.approval.approver": approver,
            "agentops.approval.decided_at": decided.isoformat(), "gen_ai.tool.name": tool,
        }, self.rng.uniform(1000, 5000))

    def finish(self, outcome: str, category: str | None) -> list[dict]:
        start = min(int(s["startTimeUnixNano"]) for s in self.spans) - 1_000_000
        end = max(int(s["endTimeUnixNano"]) for s in self.spans) + 1_000_000
        root = {
            "traceId": self.trace_id, "spanId": self.root_id, "name": f"invoke_agent {self.agent}",
            "kind": 2, "startTimeUnixNano": str(start), "endTimeUnixNano": str(end),
            "attributes": [_attr(k, v) for k, v in {
                **self.common, "gen_ai.operation.name": "invoke_agent",
                "agentops.session.outcome": outcome, "agentops.failure.category": category,
            }.items() if v is not None],
            "status": {"code": 2 if outcome == "failure" else 1},
        }
        truth = self.g.truth
        truth.step_ms["agent"].append((end - start) / 1e6)
        truth.fields["latency"]["applicable"] += 1
        truth.fields["latency"]["present"] += 1
        truth.fields["outcome"]["applicable"] += 1
        truth.fields["outcome"]["present"] += 1
        self.task.outcome, self.task.category = outcome, category
        self.task.start_us, self.task.end_us = start // 1000, end // 1000
        truth.tasks.append(self.task)
        return [root, *self.spans]


class Generator:
    def __init__(self, seed: int = 7, leak_rate: float = 0.04, orphan_rate: float = 0.02, token_scale: float = 1.0,
                 writes: bool = True, policy: bool = True, missing_results: int = 0, generic_http: bool = True):
        self.rng = random.Random(seed)
        self.truth = Truth()
        self.prices = prices.load()
        self.leak_rate, self.orphan_rate, self.token_scale = leak_rate, orphan_rate, token_scale
        self.writes, self.policy_spans, self.generic_http = writes, policy, generic_http
        self.results_missing_left = missing_results
        self.hostile_pending = True
        self.unapproved_pending = True
        self.no_gateway_pending = True
        self.no_reason_pending = True
        self.no_approver_pending = True
        self.retry_loop_pending = True
        self.runaway_pending = True
        self.stuffed_pending = True
        self.slow_pending = True
        self.chain_prev = ""
        self.writes_seen = 0

    def hexid(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def session(self, start: datetime, late: bool = False) -> list[dict]:
        workflow = "refund_eligibility" if self.rng.random() < 0.5 else "ticket_triage"
        self.truth.workflows[workflow] += 1
        if workflow == "refund_eligibility":
            return self._refund(_Session(self, workflow, "refund-agent", start, late))
        return self._triage(_Session(self, workflow, "triage-agent", start, late))

    def _outcome(self) -> tuple[str, str | None]:
        r = self.rng.random()
        if r < 0.76:
            return "success", None
        if r < 0.88:
            return "escalated", None
        return "failure", self._category(self.rng.choice(CATEGORIES))

    def _category(self, category: str) -> str | None:
        return None if self.rng.random() < 0.2 else category  # defect: some failures are not categorised

    def _classify_model(self) -> str:
        return LARGE_MODEL if self.rng.random() < 0.1 else SMALL_MODEL  # defect: some go to the large model

    def _policy(self, s: _Session, tool: str, decision: str, rule: str, reason: str) -> None:
        if self.policy_spans:
            s.policy(tool, decision, rule, reason)

    def _refund(self, s: _Session) -> list[dict]:
        order = f"ORD-{self.rng.randint(100000, 999999)}"
        s.llm(self._classify_model(), "classify", f"Classify the request about order {order}", "refund_request")
        s.retrieval("refund policy for damaged items")
        fail = self.rng.random() < 0.03
        slow = self.slow_pending and not fail and self.rng.random() < 0.1
        self.slow_pending = self.slow_pending and not slow
        found = s.tool("lookup_order", {"order_id": order}, {"order_id": order, "total": 42.5, "status": "delivered"},
                       "read", fail_mode=self.rng.choice(["status", "payload"]) if fail else None,
                       attempts_to_success=99, ms=400_000.0 if slow else None)
        if not found:
            if self.runaway_pending:  # defect: keeps guessing order ids after repeated errors
                self.runaway_pending = False
                for n in range(24):
                    s.tool("lookup_order", {"order_id": f"{order}-{n}"}, {}, "read", fail_mode="payload",
                           attempts_to_success=99, max_attempts=1)
            s.llm(SMALL_MODEL, "respond", "Tell the customer the order was not found", "We could not find it.")
            return self._close(s, "failure", self._category("tool_error"))
        stuffed = self.stuffed_pending and self.rng.random() < 0.1
        self.stuffed_pending = self.stuffed_pending and not stuffed
        s.llm(LARGE_MODEL, "decide", "Is the order eligible for a refund?", "Eligible: item damaged.",
              input_tokens=120_000 if stuffed else None)  # defect: whole documents stuffed into the prompt
        outcome, category = self._outcome()
        if self.writes and outcome == "failure" and self.rng.random() < 0.35:
            category = self._category("policy_block")
            reason = "refund above the automatic limit"
            if self.no_reason_pending and self.policy_spans:
                self.no_reason_pending, reason = False, None
            self._policy(s, "issue_refund", "deny", "refund.amount_cap", reason)
        elif self.writes and outcome == "success" and self.rng.random() < 0.6:
            self._policy(s, "issue_refund", "require_approval", "refund.over_limit", "refunds need approval")
            if self.unapproved_pending and self.rng.random() < 0.2:
                self.unapproved_pending = False
                self.truth.unapproved_risky_writes.append(s.session_id)
            elif self.policy_spans:
                approver = "ops-lead@corp"
                if self.no_approver_pending:
                    self.no_approver_pending, approver = False, None
                s.approval("issue_refund", approver)
            else:
                self.truth.unapproved_risky_writes.append(s.session_id)
            s.tool("issue_refund", {"order_id": order, "amount": 42.5}, {"refund_id": f"RF-{self.hexid(6)}"},
                   "write", risk="money_movement")
        s.llm(SMALL_MODEL, "respond", "Draft the reply to the customer", "We have processed your request.")
        return self._close(s, outcome, category)

    def _triage(self, s: _Session) -> list[dict]:
        ticket = f"T-{self.rng.randint(10000, 99999)}"
        s.llm(self._classify_model(), "classify", f"Classify ticket {ticket}", "billing")
        s.retrieval("billing questions")
        transient = self.rng.random() < 0.05
        if transient and self.retry_loop_pending:  # defect: retried 5 times, over the cap of 3
            self.retry_loop_pending = False
            s.tool("search_kb", {"query": "billing"}, {"hits": 3}, "read", fail_mode="status",
                   attempts_to_success=6, max_attempts=6)
        else:
            s.tool("search_kb", {"query": "billing"}, {"hits": 3}, "read",
                   fail_mode="status" if transient else None, attempts_to_success=2)
        transient = self.rng.random() < 0.03
        s.tool("get_customer", {"ticket": ticket},
               {"customer_id": f"C-{self.rng.randint(1000, 9999)}", "email": REDACTED_EMAIL,
                "phone": REDACTED_PHONE}, "read",
               fail_mode="payload" if transient else None, attempts_to_success=2, pii_field=True)
        if self.generic_http and self.rng.random() < 0.1:  # defect: a generic HTTP tool fetching untrusted web content
            s.tool("http_request", {"method": "GET", "url": f"https://carrier.example/track/{ticket}"},
                   {"status": 200, "body": "Parcel delayed at depot."}, "read",
                   extra={"agentops.input.trust": "untrusted", "agentops.tool.schema_version": None})
            s.seen_untrusted = True
            self.truth.generic_http_calls += 1
            if self.writes and self.policy_spans and self.rng.random() < 0.5:
                s.approval("update_ticket")
        outcome, category = self._outcome()
        if self.writes:
            if self.no_gateway_pending:
                self.no_gateway_pending = False  # defect: this write bypassed the gateway
            else:
                self._policy(s, "update_ticket", "allow", "ticket.update", "internal note")
            s.tool("update_ticket", {"ticket": ticket, "note": "triaged"}, {"ok": True}, "write")
        s.llm(LARGE_MODEL, "summarize", "Summarise the ticket for the queue", "Customer asks about billing.")
        return self._close(s, outcome, category)

    def _close(self, s: _Session, outcome: str, category: str | None) -> list[dict]:
        spans = s.finish(outcome, category)
        self.truth.sessions += 1
        self.truth.spans += len(spans)
        self.truth.outcomes[outcome] += 1
        return spans


def _request(spans: list[dict]) -> dict:
    return {"resourceSpans": [{
        "resource": {"attributes": [_attr(k, v) for k, v in SERVICE.items()]},
        "scopeSpans": [{"scope": {"name": "agentops.demo", "version": "1"}, "spans": spans}],
    }]}


def generate(out_dir: str | Path, sessions: int = 400, seed: int = 7, days: int = 7,
             batch: int = 10, start: datetime = EPOCH, *, token_scale: float = 1.0, writes: bool = True,
             policy: bool = True, missing_results: int = 0, generic_http: bool = True) -> dict:
    """Write ``traces.otlp.jsonl`` and ``truth.json`` into ``out_dir``; return the truth.

    ``token_scale`` multiplies every token count; ``writes=False`` gives a read-only agent (no write tools,
    no policy decisions on writes); ``policy=False`` drops every policy decision and approval span;
    ``missing_results`` tool calls lose their result and carry ``agentops.tool.result_missing``;
    ``generic_http=False`` leaves out the generic ``http_request`` tool (and the untrusted input it brings).
    Versions change for the sessions of the second half of the window.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(seed, token_scale=token_scale, writes=writes, policy=policy, missing_results=missing_results,
                    generic_http=generic_http)
    step = timedelta(days=days) / max(sessions, 1)
    lines, pending = [], []
    for i in range(sessions):
        pending.extend(gen.session(start + step * i, late=i >= sessions // 2))
        if (i + 1) % batch == 0 or i == sessions - 1:
            lines.append(json.dumps(_request(pending), separators=(",", ":")))
            pending = []
    traces = out / "traces.otlp.jsonl"
    traces.write_text("\n".join(lines) + "\n")
    truth = gen.truth.as_dict(gen.prices)
    truth["seed"], truth["generated_sessions"] = seed, sessions
    truth["sha256"] = hashlib.sha256(traces.read_bytes()).hexdigest()
    (out / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True))
    return truth
