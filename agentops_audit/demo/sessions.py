"""One demo session's spans on a running clock, with the defects the generator injects (``synth.py``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from agentops_audit.demo.truth import (
    EXPORTER_FEE,
    HOSTILE,
    LARGE_MODEL,
    SMALL_MODEL,
    Task,
    attr,
)
from agentops_audit.metrics.params import DEFAULT_BUDGETS

if TYPE_CHECKING:
    from agentops_audit.demo.synth import Generator


@dataclass(frozen=True)
class Failing:
    """How a demo tool call fails: on every attempt before ``succeeds_at`` (99: never), by ``mode`` 'status'
    (an error status) or 'payload' (status OK, an error in the result), tried ``attempts`` times at most."""

    mode: str | None = None  # None: it succeeds at once
    succeeds_at: int = 1
    attempts: int = 3


NEVER = Failing()


class Session:
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
        self.decided: set[str] = set()  # tools with a gateway decision so far
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

    def span(
        self,
        name: str,
        stype: str,
        attrs: dict,
        ms: float,
        status: int = 1,
        message: str = "",
        parent: str | None = None,
        kind: int = 1,
        events: list | None = None,
    ) -> str:
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
            "attributes": [attr(k, v) for k, v in merged.items()],
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
            ("policy", "agentops.policy.version", stype == "policy", "all"),
        ):
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
        for name, key in (
            ("model_name", "gen_ai.request.model"),
            ("model_version", "gen_ai.response.model"),
            ("prompt_version", "agentops.prompt.template_version"),
        ):
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
            "retrieval kb",
            "retrieval",
            {
                "gen_ai.operation.name": "retrieval",
                "gen_ai.data_source.id": "support-kb",
                "agentops.retrieval.document_ids": docs,
                "agentops.retrieval.query": query,
            },
            self.rng.uniform(20, 120),
            parent=parent,
            kind=3,
        )
        for name, present in (("retrieval_doc_ids", docs is not None), ("retrieval_timestamp", True)):
            self.g.truth.fields[name]["applicable"] += 1
            self.g.truth.fields[name]["present"] += present
        if parent is not None:
            self.g.truth.orphan_spans.append(span_id)

    def tool(
        self,
        name: str,
        args: dict,
        result: dict,
        access: str,
        risk: str | None = None,
        failing: Failing = NEVER,
        pii_field: bool = False,
        ms: float | None = None,
        extra: dict | None = None,
    ) -> bool:
        """One logical tool call, failing and retried as ``failing`` says; True when it succeeded."""
        g, truth = self.g, self.g.truth
        hostile = g.hostile_pending and access == "read" and failing.mode is not None
        if hostile:  # same arguments on every attempt, so it stays one logical call
            g.hostile_pending = False
            args = {**args, "note": HOSTILE}
        call_args = json.dumps(args, sort_keys=True)
        succeeded, attempt = False, 0
        truth.tool_access[name] = access
        for attempt in range(1, failing.attempts + 1):
            ok = failing.mode is None or attempt >= failing.succeeds_at
            status, message, error_type, payload = 1, "", None, result
            if not ok:
                if failing.mode == "status":
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
                truth.writes.append(
                    {
                        "tool": name,
                        "risk": risk,
                        "record": "agentops.audit.record_id" in attrs,
                        "gateway": name in self.decided,
                        "approved": name in self.approved,
                        "untrusted": self.seen_untrusted,
                    }
                )
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
        attrs.update(
            {
                "agentops.audit.record_id": record_id,
                "agentops.audit.actor": actor,
                "agentops.audit.hash": digest,
                "agentops.audit.prev_hash": g.chain_prev or None,
            }
        )
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
        self.span(
            f"policy {tool}",
            "policy",
            {
                "agentops.policy.decision": decision,
                "agentops.policy.rule": rule,
                "agentops.policy.reason": reason,
                "agentops.policy.enforcer": "gateway",
                "gen_ai.tool.name": tool,
            },
            self.rng.uniform(1, 8),
        )

    def approval(self, tool: str, approver: str | None = "ops-lead@corp") -> None:
        decided = datetime.fromtimestamp(self.clock_ns / 1e9, UTC) + timedelta(minutes=self.rng.uniform(1, 20))
        self.approved.add(tool)
        self.g.truth.approvals += 1
        self.g.truth.approvals_without_approver += approver is None
        self.span(
            f"approval {tool}",
            "approval",
            {
                "agentops.approval.status": "approved",
                "agentops.approval.approver": approver,
                "agentops.approval.decided_at": decided.isoformat(),
                "gen_ai.tool.name": tool,
            },
            self.rng.uniform(1000, 5000),
        )

    def finish(self, outcome: str, category: str | None) -> list[dict]:
        start = min(int(s["startTimeUnixNano"]) for s in self.spans) - 1_000_000
        end = max(int(s["endTimeUnixNano"]) for s in self.spans) + 1_000_000
        root = {
            "traceId": self.trace_id,
            "spanId": self.root_id,
            "name": f"invoke_agent {self.agent}",
            "kind": 2,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(end),
            "attributes": [
                attr(k, v)
                for k, v in {
                    **self.common,
                    "gen_ai.operation.name": "invoke_agent",
                    "agentops.session.outcome": outcome,
                    "agentops.failure.category": category,
                }.items()
                if v is not None
            ],
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
