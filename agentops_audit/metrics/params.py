"""Audit inputs that the metric SQL reads besides the canonical schema, installed per connection.

Some metrics need more than the traces: the price table, the task budgets, the tool allow-list, the
success predicate. ``install`` puts them into TEMP tables of the audit connection (allowed on a
read-only database), then materialises the derived TEMP tables of ``metrics/views/*.sql`` in the
order their headers' ``creates``/``reads`` give (``metrics/sqlfiles.py``; ``task_facts`` one row per
session, ``write_actions`` one row per write tool call, ...), so each is
computed once per audit and the metric files stay plain SELECTs over them.

Inputs come from the audit config (tool settings: prices, budgets, routing) and, when one is supplied, the
readiness manifest, the home of declared facts (success predicate, SLOs, tool allow-list); the config's
old keys for those still work, behind the manifest, with a deprecation line (``config.DEPRECATED``).
Input TEMP tables: ``audit_prices`` (the versioned price table), ``audit_limits``
(task budgets and the error-streak and tasks-per-day constants), ``audit_allowlist``, ``audit_routing``
(purposes that belong on a small model), ``audit_small_models``, ``audit_generic_words`` (generic HTTP
tool names). The success predicate is written into ``task_facts`` in place of ``{success_predicate}``.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa

from agentops_audit import manifest, prices
from agentops_audit.db import main_catalog
from agentops_audit.errors import check_keys
from agentops_audit.metrics import sqlfiles, tool_classes

# Defaults when the config declares no `budgets` (documented in README, "Checks"): generous ceilings
# for an interactive support agent, meant to catch runaway tasks rather than to tune normal ones.
DEFAULT_BUDGETS = {
    "max_tokens_per_task": 100_000,  # input + output tokens over all LLM calls of a task
    "max_tool_calls_per_task": 25,  # tool call attempts, retries included
    "max_latency_ms_per_task": 300_000,  # 5 minutes, first span start to last span end
    "max_input_tokens_per_call": 32_000,  # one prompt above this is "stuffed" (cache_reads check)
}
ROUTING_PURPOSES = ("classify", "extract")  # agentops.llm.purpose values that belong on a small model
ERROR_STREAK = 3  # consecutive failed tool calls after which a task must stop calling tools
MIN_TASKS_PER_DAY = 10  # days with fewer tasks are left out of the daily P95 cost series
MIN_DAYS = 3  # fewer qualifying days than this: cost predictability has no data
# A tool is a generic HTTP tool when every word of its name (split on _ . - and spaces) is generic and
# one of them names a web request: http_request, fetch, fetch_url, curl, browse, requests_get, call_api.
GENERIC_WORDS = (
    "http",
    "https",
    "request",
    "requests",
    "fetch",
    "url",
    "curl",
    "wget",
    "browse",
    "browser",
    "web",
    "api",
    "get",
    "post",
    "open",
    "call",
    "make",
    "send",
    "do",
    "raw",
    "generic",
)
WEB_WORDS = ("http", "https", "request", "requests", "fetch", "url", "curl", "wget", "browse", "browser", "web", "api")

DEFAULT_PREDICATE = "CASE WHEN outcome IN ('success', 'failure', 'escalated') THEN outcome = 'success' END"


def validate_predicate(expr: str) -> str:
    """Check a success predicate (a SQL boolean over the ``sessions`` view's columns) with the same rules
    as the readiness manifest's (``manifest.predicate_problem``); returns it, or raises ValueError."""
    problem = "it must be a text" if not isinstance(expr, str) else manifest.predicate_problem(expr)
    if problem:
        raise ValueError(f"success_predicate: {problem}")
    return expr


def success_predicate(config: dict, declared: manifest.Manifest | None = None) -> tuple[str | None, str]:
    """(predicate, where it comes from): the manifest's when it declares one, else the config's, else
    None (judged by agentops.session.outcome)."""
    if declared is not None and declared.success_predicate:
        where = declared.where("workflow.success_predicate")
        return declared.success_predicate, f"manifest success_predicate ({where})"
    if config.get("success_predicate"):
        return config["success_predicate"], "config success_predicate"
    return None, "agentops.session.outcome"


def budgets_of(config: dict) -> tuple[dict, str]:
    """The task budgets in force and where they come from ('config' or 'default')."""
    declared = config.get("budgets") or {}
    check_keys(declared, DEFAULT_BUDGETS, "budgets", ValueError)
    merged = {**DEFAULT_BUDGETS, **{k: float(v) for k, v in declared.items()}}
    return merged, ("config" if declared else "default")


def price_table(config: dict) -> prices.PriceTable:
    return prices.load(config.get("price_table"))


def install(con: duckdb.DuckDBPyConnection, config: dict, declared: manifest.Manifest | None = None) -> None:
    """Create the TEMP input tables for ``config`` and the readiness manifest, then materialise the
    derived views."""
    expr = install_inputs(con, config, declared)
    for view in sqlfiles.views():
        con.execute(view.sql.replace("{success_predicate}", expr))


def install_inputs(con: duckdb.DuckDBPyConnection, config: dict, declared: manifest.Manifest | None = None) -> str:
    """The TEMP input tables (``INPUT_TABLES``) and the classified ``tool_calls``; returns the success
    predicate the views use (validated)."""
    table = price_table(config)
    entries = list(table.models.values())
    con.register(
        "_prices",
        pa.table(
            {
                "model": [p.model for p in entries],
                "input_usd": [p.input / table.per_tokens for p in entries],
                "cache_read_usd": [p.cache_read / table.per_tokens for p in entries],
                "output_usd": [p.output / table.per_tokens for p in entries],
                "tier": [p.tier for p in entries],
            }
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE audit_prices AS SELECT *, ? AS version FROM _prices", [table.version])
    con.unregister("_prices")

    budgets, source = budgets_of(config)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE audit_limits AS SELECT ?::DOUBLE AS max_tokens_per_task, "
        "?::DOUBLE AS max_tool_calls_per_task, ?::DOUBLE AS max_latency_ms_per_task, "
        "?::DOUBLE AS max_input_tokens_per_call, ? AS budgets_source, ?::INTEGER AS error_streak, "
        "?::INTEGER AS min_tasks_per_day",
        [
            budgets["max_tokens_per_task"],
            budgets["max_tool_calls_per_task"],
            budgets["max_latency_ms_per_task"],
            budgets["max_input_tokens_per_call"],
            source,
            ERROR_STREAK,
            MIN_TASKS_PER_DAY,
        ],
    )

    con.execute(
        "CREATE OR REPLACE TEMP TABLE audit_generic_words AS "
        "SELECT w AS word, list_contains(?::VARCHAR[], w) AS web FROM unnest(?::VARCHAR[]) t(w)",
        [list(WEB_WORDS), list(GENERIC_WORDS)],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE audit_allowlist (tool VARCHAR, agent VARCHAR, access VARCHAR, scopes VARCHAR[])"
    )
    for entry in allowlist_of(config, declared)[0]:
        con.execute(
            "INSERT INTO audit_allowlist VALUES (?, ?, ?, ?)",
            [entry["tool"], entry["agent"], entry["access"], entry["scopes"]],
        )

    routing = config.get("routing") or {}
    purposes = [str(p) for p in routing.get("purposes") or ROUTING_PURPOSES]
    con.execute("CREATE OR REPLACE TEMP TABLE audit_routing AS SELECT unnest(?::VARCHAR[]) AS purpose", [purposes])
    small = [str(m) for m in routing.get("small_models") or []]
    con.execute("CREATE OR REPLACE TEMP TABLE audit_small_models AS SELECT unnest(?::VARCHAR[]) AS model", [small])

    tool_classes.install(con, main_catalog(con), declared)  # before the views: they read the classes

    predicate, _ = success_predicate(config, declared)
    return validate_predicate(predicate) if predicate else DEFAULT_PREDICATE


INPUT_TABLES = sqlfiles.INPUT_TABLES


def derived_tables() -> tuple[str, ...]:
    """The TEMP tables and views ``install`` creates: its inputs and those of ``metrics/views/*.sql``."""
    return INPUT_TABLES + tuple(sqlfiles.creators())


def needs_inputs(sql: str) -> bool:
    """Whether ``sql`` reads a table only ``install`` creates (the shadowed schema views do not count)."""
    own = set(derived_tables()) - {"span_sessions", "sessions"}
    return any(re.search(rf"\b{name}\b", sql) for name in own)


def installed(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'write_actions'").fetchall()[
            0
        ][0]
    )


def allowlist_of(config: dict, declared: manifest.Manifest | None = None) -> tuple[list[dict], str | None]:
    """(allow-list entries {tool, agent, access, scopes}, where they come from): the manifest's ``tools``
    (which may name an agent), else the config's deprecated ``tool_allowlist`` ({tool: {access: read|write,
    scopes: [...]}}), else ([], None). ValueError on a malformed config entry."""
    if declared is not None and declared.tools:
        return (
            [{"tool": t.name, "agent": t.agent, "access": t.access, "scopes": list(t.scopes)} for t in declared.tools],
            f"manifest tools ({declared.where('tools')})",
        )
    raw = config.get("tool_allowlist")
    if raw:
        if not isinstance(raw, dict):
            raise ValueError("tool_allowlist must map tool names to {access: read|write, scopes: [...]}")
        out = []
        for tool, spec in raw.items():
            spec = spec or {}
            access = spec.get("access", "read") if isinstance(spec, dict) else None
            if access not in ("read", "write"):
                raise ValueError(f"tool_allowlist.{tool}: access must be read or write, not {access!r}")
            out.append(
                {
                    "tool": str(tool),
                    "agent": None,
                    "access": access,
                    "scopes": [str(x) for x in spec.get("scopes") or []],
                }
            )
        return out, "config tool_allowlist"
    return [], None


def slo_of(config: dict, declared: manifest.Manifest | None = None) -> dict:
    """The latency SLO in force: {session_p95_ms: float|None, step_p95_ms: {span_type or '*': float},
    source}. The manifest's ``workflow.slos``; the config's deprecated ``slo`` only fills a key the
    manifest does not declare."""
    base = {
        k: v
        for k, v in (declared.slos if declared is not None else {}).items()
        if k in ("session_p95_ms", "step_p95_ms")
    }
    raw = config.get("slo") or {}
    if not isinstance(raw, dict) or set(raw) - {"session_p95_ms", "step_p95_ms"}:
        raise ValueError("slo must be a mapping with session_p95_ms and/or step_p95_ms (a number, or span type -> ms)")
    raw = {k: v for k, v in raw.items() if base.get(k) is None}  # the manifest is the home of declared facts
    merged = {**raw, **base}
    steps = merged.get("step_p95_ms")
    try:
        steps = (
            {}
            if steps is None
            else ({"*": float(steps)} if not isinstance(steps, dict) else {str(k): float(v) for k, v in steps.items()})
        )
        session = None if merged.get("session_p95_ms") is None else float(merged["session_p95_ms"])
    except (TypeError, ValueError) as exc:
        raise ValueError("slo budgets must be numbers of milliseconds") from exc
    source = " and ".join(x for x, used in (("manifest workflow.slos", base), ("config slo", raw)) if used)
    return {"session_p95_ms": session, "step_p95_ms": steps, "source": source or None}


MEASURE_KEYS = ("success_predicate", "slo", "tool_allowlist", "budgets", "routing", "price_table", "memory_limit")
# DuckDB's limit for an audit: its cache and hash tables stay under it (it spills beyond). 2560MB keeps a
# 10M-span audit's peak RSS near 2.8 GB (3GB gave 4.0 GB) at ~10% more time (bench/RESULTS.md, "Full audit").
DEFAULT_MEMORY_LIMIT = "2560MB"


def memory_limit(config: dict) -> str:
    """The DuckDB memory limit of the audit connection (config ``memory_limit``, e.g. "3GB")."""
    value = str(config.get("memory_limit") or DEFAULT_MEMORY_LIMIT).strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value):
        raise ValueError(f"memory_limit must look like 3GB or 512MB, not {value!r}")
    return value


def validate_config(config: dict, base_dir: Path | None = None) -> None:
    """Check the config settings the measured checks read (MEASURE_KEYS); ValueError with one line.
    A relative ``price_table`` path is made absolute against ``base_dir`` (the config file's folder)."""
    memory_limit(config)
    if config.get("success_predicate") is not None:
        validate_predicate(config["success_predicate"])
    slo_of(config)
    allowlist_of(config)
    try:
        budgets_of(config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"budgets: {exc}" if not str(exc).startswith("budgets") else str(exc)) from exc
    routing = config.get("routing") or {}
    if (
        not isinstance(routing, dict)
        or set(routing) - {"purposes", "small_models"}
        or any(not isinstance(routing.get(k) or [], list) for k in ("purposes", "small_models"))
    ):
        raise ValueError("routing must be a mapping with lists purposes and/or small_models")
    if config.get("price_table"):
        path = Path(config["price_table"])
        if base_dir is not None and not path.is_absolute():
            config["price_table"] = str(base_dir / path)
        prices.load(config["price_table"])


def success_source(config: dict, declared: manifest.Manifest | None = None) -> str:
    return success_predicate(config, declared)[1]
