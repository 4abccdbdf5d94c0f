"""Seeded generator of realistic agent traces (OTLP JSON Lines) with known, injected defects.

The ground truth written beside the traces (``truth.json``) is tallied from what was generated, so the
tests can assert that the audit finds exactly the injected defects.

Workflows: ``refund_eligibility`` (refund-agent) and ``ticket_triage`` (triage-agent). A session is an
agent root span with LLM calls, a retrieval, read tools, gateway policy decisions, approvals for risky
writes, and write tools with audit records.

Injected defects (all counted in truth.json):
- ``lookup_order`` fails persistently on some logical calls (status ERROR, or status OK with an error
  payload), which puts its success rate below 99.5%;
- ``search_kb`` and ``get_customer`` fail transiently and succeed on retry (raw rate < after-retries rate);
- raw emails and phone numbers leak into some stored ``get_customer`` results (the rest are redacted);
- some retrieval spans are orphans (their parent span was never exported);
- one risky write (``issue_refund``) has no approval;
- the earliest failed tool call carries hostile markup in its arguments and result (for the report's
  escaping tests: it is the first example trace the report shows).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

EPOCH = datetime(2026, 11, 9, tzinfo=UTC)  # Monday of ISO week 2026-W46
SERVICE = {"service.name": "support-agent", "service.version": "2026.11.1"}
HOSTILE = ('<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> '
           '<a href="javascript:window.__xss=3">x</a>')
REDACTED_EMAIL, REDACTED_PHONE = "[REDACTED_EMAIL]", "<PHONE_NUMBER>"
SMALL_MODEL, LARGE_MODEL = "gpt-4o-mini", "gpt-4o"


@dataclass
class Truth:
    sessions: int = 0
    spans: int = 0
    tool_attempts: Counter = field(default_factory=Counter)
    tool_failed_attempts: Counter = field(default_factory=Counter)
    tool_logical: Counter = field(default_factory=Counter)
    tool_logical_failed: Counter = field(default_factory=Counter)
    payload_only_failures: int = 0
    pii_leaks: dict = field(default_factory=lambda: defaultdict(Counter))  # field -> entity -> spans
    pii_values: list = field(default_factory=list)
    orphan_spans: list = field(default_factory=list)
    unapproved_risky_writes: list = field(default_factory=list)
    hostile_span: str | None = None
    workflows: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
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
            "orphan_spans": len(self.orphan_spans),
            "orphan_span_ids": self.orphan_spans,
            "unapproved_risky_writes": self.unapproved_risky_writes,
            "hostile_span": self.hostile_span,
            "workflows": dict(self.workflows),
            "outcomes": dict(self.outcomes),
        }


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

    def __init__(self, gen: Generator, workflow: str, agent: str, start: datetime):
        self.g, self.rng = gen, gen.rng
        self.trace_id = self.g.hexid(32)
        self.session_id = f"sess-{self.g.hexid(12)}"
        self.workflow, self.agent = workflow, agent
        self.clock = start
        self.spans: list[dict] = []
        self.root_id = self.g.hexid(16)
        self.common = {
            "gen_ai.conversation.id": self.session_id,
            "agentops.workflow": workflow,
            "gen_ai.agent.name": agent,
            "agentops.prompt.template_version": "triage-v7" if workflow == "ticket_triage" else "refund-v3",
            "agentops.policy.version": "policy-2026.11",
        }

    def span(self, name: str, attrs: dict, ms: float, status: int = 1, message: str = "",
             parent: str | None = None, kind: int = 1, events: list | None = None) -> str:
        span_id = self.g.hexid(16)
        start = self.clock
        end = start + timedelta(milliseconds=ms)
        self.clock = end + timedelta(milliseconds=self.rng.uniform(2, 30))
        span = {
            "traceId": self.trace_id,
            "spanId": span_id,
            "parentSpanId": self.root_id if parent is None else parent,
            "name": name,
            "kind": kind,
            "startTimeUnixNano": str(int(start.timestamp() * 1e9)),
            "endTimeUnixNano": str(int(end.timestamp() * 1e9)),
            "attributes": [_attr(k, v) for k, v in {**self.common, **attrs}.items() if v is not None],
            "status": {"code": status, **({"message": message} if message else {})},
        }
        if events:
            span["events"] = events
        self.spans.append(span)
        return span_id

    def llm(self, model: str, purpose: str, prompt: str, completion: str) -> None:
        inp, out = self.rng.randint(300, 2400), self.rng.randint(40, 400)
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
        if self.rng.random() < 0.15:  # some exporters still send the deprecated names
            attrs["gen_ai.system"] = attrs.pop("gen_ai.provider.name")
            attrs["gen_ai.usage.prompt_tokens"] = attrs.pop("gen_ai.usage.input_tokens")
            attrs["gen_ai.usage.completion_tokens"] = attrs.pop("gen_ai.usage.output_tokens")
        self.span(f"chat {model}", attrs, self.rng.uniform(300, 2500), kind=3)

    def retrieval(self, query: str) -> None:
        docs = [f"kb-{self.rng.randint(1000, 9999)}" for _ in range(3)]
        parent = None
        if self.rng.random() < self.g.orphan_rate:
            parent = self.g.hexid(16)  # the parent span was never exported
        span_id = self.span(
            "retrieval kb",
            {"gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "support-kb",
             "agentops.retrieval.document_ids": docs, "agentops.retrieval.query": query},
            self.rng.uniform(20, 120), parent=parent, kind=3,
        )
        if parent is not None:
            self.g.truth.orphan_spans.append(span_id)

    def tool(self, name: str, args: dict, result: dict, access: str, risk: str | None = None,
             fail_mode: str | None = None, attempts_to_success: int = 1, pii_field: bool = False) -> None:
        """One logical tool call, retried up to 3 attempts. fail_mode: None, 'status' or 'payload'."""
        truth = self.g.truth
        hostile = self.g.hostile_pending and access == "read" and fail_mode is not None
        if hostile:  # same arguments on every attempt, so it stays one logical call
            self.g.hostile_pending = False
            args = {**args, "note": HOSTILE}
        call_args = json.dumps(args, sort_keys=True)
        succeeded = False
        for attempt in range(1, 4):
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
                "gen_ai.tool.call.id": f"call_{self.g.hexid(10)}",
                "gen_ai.tool.call.arguments": call_args,
                "gen_ai.tool.call.result": json.dumps(payload, sort_keys=True),
                "agentops.tool.access": access,
                "agentops.tool.risk": risk,
                "agentops.tool.schema_version": f"{name}@2",
                "agentops.retry.attempt": attempt - 1,
                "error.type": error_type,
            }
            if ok and pii_field:
                self._maybe_leak(attrs, payload)
            if hostile and attempt == 1:
                attrs["gen_ai.tool.call.result"] = json.dumps({**payload, "snippet": HOSTILE}, sort_keys=True)
            span_id = self.span(f"execute_tool {name}", attrs, self.rng.uniform(40, 400), status, message)
            if hostile and attempt == 1:
                truth.hostile_span = span_id
            truth.tool_attempts[name] += 1
            truth.tool_failed_attempts[name] += 0 if ok else 1
            if ok:
                succeeded = True
                break
        truth.tool_logical[name] += 1
        truth.tool_logical_failed[name] += 0 if succeeded else 1

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
        attrs["gen_ai.tool.call.result"] = json.dumps(leak, sort_keys=True)

    def policy(self, tool: str, decision: str, rule: str, reason: str) -> None:
        self.span(f"policy {tool}", {
            "agentops.policy.decision": decision, "agentops.policy.rule": rule,
            "agentops.policy.reason": reason, "agentops.policy.enforcer": "gateway",
            "gen_ai.tool.name": tool,
        }, self.rng.uniform(1, 8))

    def approval(self, tool: str) -> None:
        decided = self.clock + timedelta(minutes=self.rng.uniform(1, 20))
        self.span(f"approval {tool}", {
            "agentops.approval.status": "approved", "agentops.approval.approver": "ops-lead@corp",
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
        return [root, *self.spans]


class Generator:
    def __init__(self, seed: int = 7, leak_rate: float = 0.04, orphan_rate: float = 0.02):
        self.rng = random.Random(seed)
        self.truth = Truth()
        self.leak_rate, self.orphan_rate = leak_rate, orphan_rate
        self.hostile_pending = True
        self.unapproved_pending = True

    def hexid(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def session(self, start: datetime) -> list[dict]:
        workflow = "refund_eligibility" if self.rng.random() < 0.5 else "ticket_triage"
        self.truth.workflows[workflow] += 1
        if workflow == "refund_eligibility":
            return self._refund(_Session(self, workflow, "refund-agent", start))
        return self._triage(_Session(self, workflow, "triage-agent", start))

    def _outcome(self) -> tuple[str, str | None]:
        r = self.rng.random()
        if r < 0.78:
            return "success", None
        if r < 0.90:
            return "escalated", None
        return "failure", self.rng.choice(["tool_error", "missing_context", "ambiguity", "model_refusal"])

    def _refund(self, s: _Session) -> list[dict]:
        order = f"ORD-{self.rng.randint(100000, 999999)}"
        s.llm(SMALL_MODEL, "classify", f"Classify the request about order {order}", "refund_request")
        s.retrieval("refund policy for damaged items")
        fail = self.rng.random() < 0.03
        s.tool("lookup_order", {"order_id": order}, {"order_id": order, "total": 42.5, "status": "delivered"},
               "read", fail_mode=self.rng.choice(["status", "payload"]) if fail else None,
               attempts_to_success=99)
        s.llm(LARGE_MODEL, "decide", "Is the order eligible for a refund?", "Eligible: item damaged.")
        outcome, category = self._outcome()
        if outcome == "success" and self.rng.random() < 0.6:
            s.policy("issue_refund", "require_approval", "refund.over_limit", "refunds need approval")
            if self.unapproved_pending and self.rng.random() < 0.2:
                self.unapproved_pending = False
                self.truth.unapproved_risky_writes.append(s.session_id)
            else:
                s.approval("issue_refund")
            s.tool("issue_refund", {"order_id": order, "amount": 42.5}, {"refund_id": f"RF-{self.hexid(6)}"},
                   "write", risk="money_movement")
        s.llm(SMALL_MODEL, "respond", "Draft the reply to the customer", "We have processed your request.")
        return self._close(s, outcome, category)

    def _triage(self, s: _Session) -> list[dict]:
        ticket = f"T-{self.rng.randint(10000, 99999)}"
        s.llm(SMALL_MODEL, "classify", f"Classify ticket {ticket}", "billing")
        s.retrieval("billing questions")
        transient = self.rng.random() < 0.05
        s.tool("search_kb", {"query": "billing"}, {"hits": 3}, "read",
               fail_mode="status" if transient else None, attempts_to_success=2)
        transient = self.rng.random() < 0.03
        s.tool("get_customer", {"ticket": ticket},
               {"customer_id": f"C-{self.rng.randint(1000, 9999)}", "email": REDACTED_EMAIL,
                "phone": REDACTED_PHONE}, "read",
               fail_mode="payload" if transient else None, attempts_to_success=2, pii_field=True)
        outcome, category = self._outcome()
        s.policy("update_ticket", "allow", "ticket.update", "internal note")
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
             batch: int = 10, start: datetime = EPOCH) -> dict:
    """Write ``traces.otlp.jsonl`` and ``truth.json`` into ``out_dir``; return the truth."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(seed)
    step = timedelta(days=days) / max(sessions, 1)
    lines, pending = [], []
    for i in range(sessions):
        pending.extend(gen.session(start + step * i))
        if (i + 1) % batch == 0 or i == sessions - 1:
            lines.append(json.dumps(_request(pending), separators=(",", ":")))
            pending = []
    traces = out / "traces.otlp.jsonl"
    traces.write_text("\n".join(lines) + "\n")
    truth = gen.truth.as_dict()
    truth["seed"], truth["generated_sessions"] = seed, sessions
    truth["sha256"] = hashlib.sha256(traces.read_bytes()).hexdigest()
    (out / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True))
    return truth
