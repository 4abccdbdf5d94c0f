"""What each tool does, for the checks of writes, approvals, policy and escalation: read or write, a risk
class, whether it hands the session to a person, and where that class comes from.

A call's class comes from, in order:

1. ``trace``: the span's own ``agentops.tool.access`` / ``agentops.tool.risk``;
2. ``declared``: the manifest's ``tools`` entry for the tool (and the calling agent, else any agent);
3. ``trace``: MCP tool annotations in a tool definition the trace carries (``readOnlyHint`` true is read,
   ``destructiveHint`` true is write);
4. ``inferred``: the words of its name and, where the trace has one, its description (``tool_names``).

``install`` writes the TEMP table ``audit_tool_classes`` (one row per tool seen) and shadows the
``tool_calls`` view with a TEMP view whose ``tool_access`` and ``tool_risk`` are the classes (the span's
own values win) and which says where they came from (``class_origin``: trace, declared, inferred, or NULL
when nothing tells). A tool that is neither classified by the trace, declared nor recognised by its words
has no class: the checks that need one name it.
"""

from __future__ import annotations

import json

import duckdb

from agentops_audit import manifest
from agentops_audit.db import scalar
from agentops_audit.metrics.tool_names import HANDOFF, ToolClass, infer


def classify(
    tools: dict[str, str | None], declared: manifest.Manifest | None, annotations: dict[str, dict] | None = None
) -> list[ToolClass]:
    """The class of every tool in ``tools`` (name -> a description the trace has, or None)."""
    handoffs = frozenset(t.name for t in declared.tools if t.handoff) if declared is not None else frozenset()
    out = []
    for tool, description in sorted(tools.items()):
        entry = declared.tool(tool, None) if declared is not None else None
        hints = (annotations or {}).get(tool) or {}
        if entry is not None:
            out.append(
                ToolClass(
                    tool,
                    entry.access,
                    entry.risk,
                    entry.handoff or bool(HANDOFF.match(tool)),
                    "declared",
                    f"manifest {declared.where('tools')}",
                )
            )
        elif hints.get("readOnlyHint") is True or hints.get("destructiveHint") is True:
            access = "read" if hints.get("readOnlyHint") is True else "write"
            guess = infer(tool, description, handoffs)
            out.append(
                ToolClass(
                    tool,
                    access,
                    guess.risk if access == "write" else None,
                    guess.handoff,
                    "trace",
                    "MCP annotation " + ("readOnlyHint" if access == "read" else "destructiveHint"),
                )
            )
        else:
            out.append(infer(tool, description, handoffs))
    return out


def _described(con: duckdb.DuckDBPyConnection, tool_calls: str, tools: list[str]) -> dict[str, str | None]:
    """A description of each of ``tools`` from its spans (gen_ai.tool.description, tool.description)."""
    rows = con.execute(
        f"""
        SELECT tool_name, any_value(coalesce(json_extract_string(attributes, '$."gen_ai.tool.description"'),
                                             json_extract_string(attributes, '$."tool.description"')))
        FROM {tool_calls} WHERE tool_name IN (SELECT unnest(?::VARCHAR[])) GROUP BY tool_name""",
        [tools],
    ).fetchall()
    return dict(rows)


def _annotations(con: duckdb.DuckDBPyConnection, main: str, tools: list[str]) -> dict[str, dict]:
    """MCP annotations of ``tools`` where a span carries a tool definition with them (a tool span's own
    ``mcp.tool.annotations``, or ``{name, annotations}`` in a list of definitions such as
    ``gen_ai.tool.definitions``). Only spans that mention a hint are read."""
    found: dict[str, dict] = {}
    wanted = set(tools)

    def walk(value):
        if isinstance(value, str) and "Hint" in value and value[:1] in "[{":
            try:
                value = json.loads(value)
            except ValueError:
                return
        if isinstance(value, dict):
            name, hints = value.get("name"), value.get("annotations")
            if isinstance(name, str) and name in wanted and isinstance(hints, dict):
                found.setdefault(name, hints)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    rows = con.execute(f"""
        SELECT tool_name, attributes FROM {main}.spans
        WHERE span_type IN ('llm', 'tool', 'other')
          AND (contains(attributes::VARCHAR, 'readOnlyHint') OR contains(attributes::VARCHAR, 'destructiveHint'))
        """).fetchall()
    for tool, attributes in rows:
        attrs = json.loads(attributes)
        own = attrs.get("mcp.tool.annotations")
        if tool in wanted and own is not None:
            walk({"name": tool, "annotations": json.loads(own) if isinstance(own, str) else own})
        walk(attrs)
    return found


def install(con: duckdb.DuckDBPyConnection, main: str, declared: manifest.Manifest | None) -> list[ToolClass]:
    """Classify the tools whose calls the trace does not classify into ``audit_tool_classes``, and shadow
    ``tool_calls`` (``main``: the database's own catalog, so the shadow reads the persistent view). Tools the
    trace classifies on every call cost one narrow scan; annotations are read for the tools not declared,
    descriptions for those their names do not classify."""
    tool_calls = f"{main}.tool_calls"
    unclassed = [
        t
        for (t,) in con.execute(
            f"SELECT DISTINCT tool_name FROM {tool_calls} WHERE tool_access IS NULL AND tool_name IS NOT NULL"
        ).fetchall()
    ]
    classes = classify(dict.fromkeys(unclassed), declared)
    undeclared = [c.tool for c in classes if c.origin != "declared"]
    if undeclared:  # annotations outrank names; a description helps where the name says nothing
        unknown = [c.tool for c in classes if c.origin is None]
        described = _described(con, tool_calls, unknown) if unknown else {}
        classes = classify({t: described.get(t) for t in unclassed}, declared, _annotations(con, main, undeclared))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE audit_tool_classes (tool VARCHAR, access VARCHAR, risk VARCHAR, "
        "handoff BOOLEAN, origin VARCHAR, basis VARCHAR)"
    )
    if classes:
        con.executemany(
            "INSERT INTO audit_tool_classes VALUES (?, ?, ?, ?, ?, ?)",
            [[c.tool, c.access, c.risk, c.handoff, c.origin, c.basis] for c in classes],
        )
    con.execute(f"CREATE OR REPLACE TEMP VIEW tool_calls AS {shadow_sql(tool_calls)}")
    return classes


def shadow_sql(tool_calls: str) -> str:
    """The classified tool calls: the schema's ``tool_calls`` view (named ``tool_calls``) with the classes of
    ``audit_tool_classes`` where the trace has none (also run on Spark, agentops_audit/engine/spark.py)."""
    return f"""
        SELECT t.* REPLACE (coalesce(t.tool_access, c.access) AS tool_access,
                            CASE WHEN t.tool_access IS NOT NULL THEN t.tool_risk ELSE c.risk END AS tool_risk),
               CASE WHEN t.tool_access IS NOT NULL THEN 'trace' ELSE c.origin END AS class_origin,
               coalesce(c.handoff, false) AS handoff
        FROM {tool_calls} t LEFT JOIN audit_tool_classes c ON c.tool = t.tool_name"""


def summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Calls per class origin, and the tools that were inferred or could not be classified."""
    rows = con.execute("SELECT class_origin, count(*) FROM tool_calls GROUP BY ALL ORDER BY ALL").fetchall()
    tools = con.execute(
        "SELECT tool, access, risk, handoff, origin, basis FROM audit_tool_classes ORDER BY tool"
    ).fetchall()
    return {
        "calls_by_origin": {str(origin or "unclassified"): n for origin, n in rows},
        "inferred": [
            {"tool": t, "access": a, "risk": r, "handoff": h, "basis": b}
            for t, a, r, h, o, b in tools
            if o in ("inferred", "trace")
        ],
        "unclassified": [t for t, a, *_ in tools if a is None],
        "unclassified_calls": scalar(con, "SELECT count(*) FROM tool_calls WHERE tool_access IS NULL") or 0,
    }


def declaration(row: dict) -> str:
    """The manifest line that turns an inferred class into a declared one."""
    fields = [f"name: {row['tool']}", f"access: {row['access']}"]
    if row.get("risk"):
        fields.append(f"risk: {row['risk']}")
    if row.get("handoff"):
        fields.append("handoff: true")
    return "- {" + ", ".join(fields) + "}"
