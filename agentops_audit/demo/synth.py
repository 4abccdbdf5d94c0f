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
from datetime import datetime, timedelta
from pathlib import Path

from agentops_audit import prices
from agentops_audit.demo.sessions import NEVER, Failing, Session
from agentops_audit.demo.truth import (
    CATEGORIES,
    EPOCH,
    LARGE_MODEL,
    REDACTED_EMAIL,
    REDACTED_PHONE,
    SERVICE,
    SMALL_MODEL,
    Truth,
    attr,
)


class Generator:
    def __init__(
        self,
        seed: int = 7,
        leak_rate: float = 0.04,
        orphan_rate: float = 0.02,
        token_scale: float = 1.0,
        writes: bool = True,
        policy: bool = True,
        missing_results: int = 0,
        generic_http: bool = True,
    ):
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
            return self._refund(Session(self, workflow, "refund-agent", start, late))
        return self._triage(Session(self, workflow, "triage-agent", start, late))

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

    def _policy(self, s: Session, tool: str, decision: str, rule: str, reason: str) -> None:
        if self.policy_spans:
            s.policy(tool, decision, rule, reason)

    def _refund(self, s: Session) -> list[dict]:
        order = f"ORD-{self.rng.randint(100000, 999999)}"
        s.llm(self._classify_model(), "classify", f"Classify the request about order {order}", "refund_request")
        s.retrieval("refund policy for damaged items")
        fail = self.rng.random() < 0.03
        slow = self.slow_pending and not fail and self.rng.random() < 0.1
        self.slow_pending = self.slow_pending and not slow
        found = s.tool(
            "lookup_order",
            {"order_id": order},
            {"order_id": order, "total": 42.5, "status": "delivered"},
            "read",
            failing=Failing(self.rng.choice(["status", "payload"]), succeeds_at=99) if fail else NEVER,
            ms=400_000.0 if slow else None,
        )
        if not found:
            if self.runaway_pending:  # defect: keeps guessing order ids after repeated errors
                self.runaway_pending = False
                for n in range(24):
                    s.tool(
                        "lookup_order",
                        {"order_id": f"{order}-{n}"},
                        {},
                        "read",
                        failing=Failing("payload", succeeds_at=99, attempts=1),
                    )
            s.llm(SMALL_MODEL, "respond", "Tell the customer the order was not found", "We could not find it.")
            return self._close(s, "failure", self._category("tool_error"))
        stuffed = self.stuffed_pending and self.rng.random() < 0.1
        self.stuffed_pending = self.stuffed_pending and not stuffed
        s.llm(
            LARGE_MODEL,
            "decide",
            "Is the order eligible for a refund?",
            "Eligible: item damaged.",
            input_tokens=120_000 if stuffed else None,
        )  # defect: whole documents stuffed into the prompt
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
            s.tool(
                "issue_refund",
                {"order_id": order, "amount": 42.5},
                {"refund_id": f"RF-{self.hexid(6)}"},
                "write",
                risk="money_movement",
            )
        s.llm(SMALL_MODEL, "respond", "Draft the reply to the customer", "We have processed your request.")
        return self._close(s, outcome, category)

    def _triage(self, s: Session) -> list[dict]:
        ticket = f"T-{self.rng.randint(10000, 99999)}"
        s.llm(self._classify_model(), "classify", f"Classify ticket {ticket}", "billing")
        s.retrieval("billing questions")
        transient = self.rng.random() < 0.05
        if transient and self.retry_loop_pending:  # defect: retried 5 times, over the cap of 3
            self.retry_loop_pending = False
            s.tool(
                "search_kb",
                {"query": "billing"},
                {"hits": 3},
                "read",
                failing=Failing("status", succeeds_at=6, attempts=6),
            )
        else:
            s.tool(
                "search_kb",
                {"query": "billing"},
                {"hits": 3},
                "read",
                failing=Failing("status", succeeds_at=2) if transient else NEVER,
            )
        transient = self.rng.random() < 0.03
        s.tool(
            "get_customer",
            {"ticket": ticket},
            {"customer_id": f"C-{self.rng.randint(1000, 9999)}", "email": REDACTED_EMAIL, "phone": REDACTED_PHONE},
            "read",
            failing=Failing("payload", succeeds_at=2) if transient else NEVER,
            pii_field=True,
        )
        if self.generic_http and self.rng.random() < 0.1:  # defect: a generic HTTP tool fetching untrusted web content
            s.tool(
                "http_request",
                {"method": "GET", "url": f"https://carrier.example/track/{ticket}"},
                {"status": 200, "body": "Parcel delayed at depot."},
                "read",
                extra={"agentops.input.trust": "untrusted", "agentops.tool.schema_version": None},
            )
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

    def _close(self, s: Session, outcome: str, category: str | None) -> list[dict]:
        spans = s.finish(outcome, category)
        self.truth.sessions += 1
        self.truth.spans += len(spans)
        self.truth.outcomes[outcome] += 1
        return spans


def _request(spans: list[dict]) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [attr(k, v) for k, v in SERVICE.items()]},
                "scopeSpans": [{"scope": {"name": "agentops.demo", "version": "1"}, "spans": spans}],
            }
        ]
    }


def generate(
    out_dir: str | Path,
    sessions: int = 400,
    seed: int = 7,
    days: int = 7,
    batch: int = 10,
    start: datetime = EPOCH,
    *,
    token_scale: float = 1.0,
    writes: bool = True,
    policy: bool = True,
    missing_results: int = 0,
    generic_http: bool = True,
) -> dict:
    """Write ``traces.otlp.jsonl`` and ``truth.json`` into ``out_dir``; return the truth.

    ``token_scale`` multiplies every token count; ``writes=False`` gives a read-only agent (no write tools,
    no policy decisions on writes); ``policy=False`` drops every policy decision and approval span;
    ``missing_results`` tool calls lose their result and carry ``agentops.tool.result_missing``;
    ``generic_http=False`` leaves out the generic ``http_request`` tool (and the untrusted input it brings).
    Versions change for the sessions of the second half of the window.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(
        seed,
        token_scale=token_scale,
        writes=writes,
        policy=policy,
        missing_results=missing_results,
        generic_http=generic_http,
    )
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
