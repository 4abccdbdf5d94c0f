"""The benchmark's baseline: the audit's checks written the obvious way, on a pandas frame of the raw spans.

Per-row Python where a hand-written audit script would use it (JSON payload parsing, regex PII scanning,
hash verification, per-session loops for ordering questions), pandas group-bys for the aggregates, and
Great Expectations validating the raw spans frame. It computes the same numbers as the toolkit's metric SQL
(volume, propagation, tool success, PII, task outcomes and latency, required fields, failure taxonomy,
audit chain, write controls, policy violations, cost, budgets, retries, routing, cache reads, versions);
it is not used by the toolkit, only timed against it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

import numpy as np
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

RISKS = {"money_movement", "identity_change", "production_change", "external_comms"}
TEXT_FIELDS = ("input_text", "output_text", "tool_args", "tool_result", "status_message")


def _payload_failed(text) -> bool:
    if not isinstance(text, str):
        return False
    if re.match(r"^\s*(Error|ERROR|Exception|Traceback)\b", text):
        return True
    try:
        doc = json.loads(text)
    except ValueError:
        return False
    if not isinstance(doc, dict):
        return False
    return (
        doc.get("error") not in (None, False, "")
        or str(doc.get("status", "")).lower() in ("error", "failed", "failure")
        or doc.get("success") is False
        or doc.get("isError") is True
    )


def _s(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _earlier(writes: pd.DataFrame, events: pd.DataFrame, same_tool: bool, strict: bool = False) -> pd.Series:
    """For each write, is there an event row earlier in its session (optionally for the same tool)?"""
    by_session: dict[str, list] = {}
    for r in events.itertuples(index=False):
        by_session.setdefault(r.session_key, []).append(r)
    found = []
    for w in writes.itertuples(index=False):
        ok = False
        for e in by_session.get(w.session_key, ()):
            if same_tool and not pd.isna(e.tool_name) and e.tool_name != w.tool_name:
                continue
            if (e.start_time < w.start_time) if strict else (e.start_time <= w.start_time):
                ok = True
                break
        found.append(ok)
    return pd.Series(found, index=writes.index, dtype=bool)


def run_baseline(spans: pd.DataFrame) -> dict:
    from agentops_audit import pii, prices

    out: dict = {}
    trace_session = spans.dropna(subset=["session_id"]).groupby("trace_id")["session_id"].first()
    spans["session_key"] = spans["session_id"].fillna(spans["trace_id"].map(trace_session)).fillna(spans["trace_id"])
    tools = spans[spans["span_type"] == "tool"].copy()

    # volume, propagation, coverage
    ids = set(zip(spans["trace_id"], spans["span_id"], strict=True))
    orphan = [
        p is not None and (t, p) not in ids for t, p in zip(spans["trace_id"], spans["parent_span_id"], strict=True)
    ]
    spans["orphan"] = orphan
    roots = spans["parent_span_id"].isna().groupby(spans["trace_id"]).sum()
    per_session = spans.groupby("session_key").agg(
        orphans=("orphan", "sum"), roots=("parent_span_id", lambda s: s.isna().sum())
    )
    out["orphan_spans"] = int(sum(orphan))
    out["traces_with_several_roots"] = int((roots > 1).sum())
    out["coverage"] = float(((per_session["orphans"] == 0) & (per_session["roots"] == 1)).mean())

    # tool success, raw and after retries
    tools["failed"] = (
        tools["status_code"].eq("ERROR") | tools["error_type"].notna() | tools["tool_result"].apply(_payload_failed)
    )
    tools["args"] = tools["tool_args"].fillna("")
    logical = tools.groupby(["tool_name", "session_key", "args"])["failed"].agg(["all", "size"]).reset_index()
    out["tool_success"] = (1 - logical.groupby("tool_name")["all"].mean()).to_dict()

    # PII and secrets with Python regexes
    patterns = [(e.name, re.compile(e.pattern)) for e in pii._entities(None)]
    leaks = 0
    for field in TEXT_FIELDS:
        for text in spans[field].dropna():
            if any(p.search(text) for _, p in patterns):
                leaks += 1
    out["pii_records_with_leak"] = leaks

    # tasks: outcome, success, latency, tokens, tool calls, cost
    table = prices.load()
    spans["model"] = spans["response_model"].fillna(spans["request_model"])
    price = {m: table.match(m) for m in spans["model"].dropna().unique()}

    def span_cost(r) -> float:
        if pd.notna(r.cost_usd):
            return r.cost_usd
        p = price.get(r.model)
        if p is None:
            return np.nan
        inp, cache, outp = (0 if pd.isna(x) else x for x in (r.input_tokens, r.cache_read_tokens, r.output_tokens))
        return ((inp - cache) * p.input + cache * p.cache_read + outp * p.output) / table.per_tokens

    spans["cost"] = [
        span_cost(r)
        for r in spans[["cost_usd", "model", "input_tokens", "cache_read_tokens", "output_tokens"]].itertuples(
            index=False
        )
    ]
    spans["tokens"] = spans["input_tokens"].fillna(0) + spans["output_tokens"].fillna(0)
    tasks = spans.groupby("session_key").agg(
        workflow=("workflow", "first"),
        outcome=("session_outcome", "first"),
        category=("failure_category", "first"),
        start=("start_time", "min"),
        end=("end_time", "max"),
        tokens=("tokens", "sum"),
        cost=("cost", "sum"),
        tool_calls=("span_type", lambda s: (s == "tool").sum()),
    )
    tasks["latency_ms"] = (tasks["end"] - tasks["start"]).dt.total_seconds() * 1000
    tasks["success"] = tasks["outcome"].eq("success")
    out["task_success_rate"] = float(tasks["success"].mean())
    out["escalation_rate"] = float(tasks["outcome"].eq("escalated").mean())
    out["latency_p95_ms"] = float(tasks["latency_ms"].quantile(0.95))
    steps = spans[spans["span_type"] != "agent"]
    out["step_p95_ms"] = steps.groupby("span_type")["duration_ms"].quantile(0.95).to_dict()
    out["cost_per_task_p95"] = float(tasks["cost"].quantile(0.95))
    out["cost_per_successful_task"] = float(tasks["cost"].sum() / max(tasks["success"].sum(), 1))
    daily = tasks.groupby(tasks["start"].dt.date)["cost"].quantile(0.95)
    out["daily_p95_cv"] = float(daily.std() / daily.mean())
    out["over_budget"] = int(
        ((tasks["tokens"] > 100_000) | (tasks["tool_calls"] > 25) | (tasks["latency_ms"] > 300_000)).sum()
    )
    failed = tasks[tasks["outcome"] == "failure"]
    out["failure_categories"] = failed["category"].fillna("uncategorised").value_counts().to_dict()

    # required fields and versions
    llm = spans[spans["span_type"] == "llm"]
    out["required_fields"] = {
        "model_name": float(llm["request_model"].notna().mean()),
        "model_version": float(llm["response_model"].notna().mean()),
        "prompt_version": float(llm["prompt_version"].notna().mean()),
        "tool_args": float(tools["tool_args"].notna().mean()),
        "tool_result": float(tools["tool_result"].notna().mean()),
        "latency": float(spans["duration_ms"].notna().mean()),
    }
    out["tool_schema_version"] = float(tools["tool_schema_version"].notna().mean())
    firsts = llm.dropna(subset=["prompt_version"]).groupby(["workflow", "prompt_version"])["start_time"].min()
    out["prompt_versions"] = int(len(firsts))

    # audit chain: recompute every hash in Python
    writes = tools[tools["tool_access"] == "write"].copy()
    records = writes.dropna(subset=["audit_record_id"])
    hashes = set(records["audit_hash"].dropna())
    mismatches = dangling = 0
    for r in records.itertuples(index=False):
        prev = _s(r.audit_prev_hash)
        text = "|".join([prev, r.audit_record_id, _s(r.audit_actor), _s(r.tool_name), _s(r.tool_args)])
        mismatches += hashlib.sha256(text.encode()).hexdigest() != r.audit_hash
        dangling += bool(prev) and prev not in hashes
    out["audit"] = {
        "writes_without_record": int(writes["audit_record_id"].isna().sum()),
        "hash_mismatches": int(mismatches),
        "dangling": int(dangling),
    }

    # write controls and policy violations
    decisions = spans[spans["policy_decision"].notna() & spans["policy_enforcer"].ne("model")]
    approvals = spans[spans["approval_status"].eq("approved")]
    untrusted = spans[spans["input_trust"].eq("untrusted")]
    writes["decided"] = _earlier(writes, decisions, same_tool=True)
    writes["approved"] = _earlier(writes, approvals, same_tool=True)
    writes["after_untrusted"] = _earlier(writes, untrusted.assign(tool_name=None), same_tool=False, strict=True)
    writes["risky"] = writes["tool_risk"].isin(RISKS)
    denies = int(spans["policy_decision"].eq("deny").sum())
    violating = int((~writes["decided"] | (writes["risky"] & ~writes["approved"])).sum())
    out["policy_violation_rate"] = (denies + violating) / max(len(writes) + denies, 1)
    out["unapproved_risky_writes"] = int((writes["risky"] & ~writes["approved"]).sum())
    out["untrusted_unapproved"] = int((writes["after_untrusted"] & ~writes["approved"]).sum())
    out["decisions_without_reason"] = int((spans["policy_decision"].notna() & spans["policy_reason"].isna()).sum())

    # retries and error streaks (one Python pass per session)
    out["max_retries"] = int(logical["size"].max() - 1) if len(logical) else 0
    kept = 0
    for _, calls in tools.sort_values(["session_key", "start_time"]).groupby("session_key")["failed"]:
        streak, seen = 0, calls.tolist()
        for i, f in enumerate(seen):
            streak = streak + 1 if f else 0
            if streak >= 3 and i < len(seen) - 1:
                kept += 1
                break
    out["sessions_kept_calling"] = kept

    # routing and cache reads
    small = {m for m, p in price.items() if p is not None and p.tier == "small"}
    routed = llm[llm["purpose"].isin(["classify", "extract"])]
    out["small_model_share"] = float(routed["model"].isin(small).mean()) if len(routed) else None
    out["cache_read_share"] = float(llm["cache_read_tokens"].sum() / max(llm["input_tokens"].sum(), 1))

    out["gx"] = _gx_on_raw(spans)
    return {"checks": len(out), "gx_success": out["gx"]}


def _gx_on_raw(spans: pd.DataFrame) -> bool:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("raw")
        .add_dataframe_asset("spans")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": spans})
    )
    suite = gx.ExpectationSuite(name="raw_spans")
    for column in ("trace_id", "span_id", "span_type"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="span_type",
            value_set=["agent", "llm", "tool", "retrieval", "embedding", "policy", "approval", "other"],
        )
    )
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="duration_ms", min_value=0))
    for column, kind in (
        ("request_model", "llm"),
        ("response_model", "llm"),
        ("prompt_version", "llm"),
        ("tool_args", "tool"),
        ("tool_result", "tool"),
        ("tool_schema_version", "tool"),
    ):
        suite.add_expectation(
            gxe.ExpectColumnValuesToNotBeNull(
                column=column, mostly=0.99, row_condition=f'span_type=="{kind}"', condition_parser="pandas"
            )
        )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="tool_access",
            value_set=["read", "write"],
            row_condition='span_type=="tool"',
            condition_parser="pandas",
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToNotBeNull(
            column="policy_reason", row_condition="policy_decision.notna()", condition_parser="pandas"
        )
    )
    return bool(batch.validate(suite).success)
