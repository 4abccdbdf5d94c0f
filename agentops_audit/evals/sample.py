"""A stratified, reproducible sample of production sessions to label as an eval set.

Strata are (workflow, outcome, set of tools used) over the ``top_workflows`` busiest workflows. Within a
stratum sessions are ranked by ``md5(session_id || ':' || seed)``; the sample takes the sessions with the
smallest ``(rank - 1) / stratum size``, so every stratum gets its first session before any stratum gets
a second, and then allocation is proportional to stratum size. The same database and seed always give
the same sample. Sessions of a non-production deployment (``deployment.environment`` set to anything
other than ``production``/``prod``) are left out. All text is masked with ``pii.mask_sql``.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl

from agentops_audit import __version__, pii
from agentops_audit.db import frame

LABEL_FIELDS = ("correct_action", "correct_policy", "correct_tool_use", "human_label", "notes")
RECOMMENDED = (200, 500)  # 002: "sample 200-500 traces across the top workflows"

_ENV = (
    "coalesce(attributes->>'$.\"resource.deployment.environment.name\"', "
    "attributes->>'$.\"resource.deployment.environment\"')"
)

_SESSIONS_SQL = f"""
WITH env AS (
    SELECT session_key, lower(any_value({_ENV})) AS environment FROM span_sessions GROUP BY session_key
),
firsts AS (
    SELECT session_key,
           arg_min(input_text, start_time) FILTER (WHERE span_type = 'llm' AND input_text IS NOT NULL) AS input_text,
           arg_max(output_text, start_time) FILTER (WHERE span_type = 'llm' AND output_text IS NOT NULL)
               AS output_text,
           any_value(trace_id) AS trace_id,
           any_value(service_version) FILTER (WHERE service_version IS NOT NULL) AS release,
           list(DISTINCT tool_name ORDER BY tool_name) FILTER (WHERE span_type = 'tool' AND tool_name IS NOT NULL)
               AS tools
    FROM span_sessions GROUP BY session_key
),
population AS (
    SELECT s.session_id, f.trace_id, f.release, coalesce(s.workflow, '(none)') AS workflow,
           coalesce(s.outcome, '(none)') AS outcome, coalesce(f.tools, []) AS tools,
           f.input_text, f.output_text
    FROM sessions s JOIN firsts f ON f.session_key = s.session_id
    JOIN env e ON e.session_key = s.session_id
    WHERE e.environment IS NULL OR e.environment IN ('production', 'prod')
),
top AS (
    SELECT workflow FROM population GROUP BY workflow ORDER BY count(*) DESC, workflow LIMIT $top
),
strata AS (
    SELECT p.*, p.workflow || ' | ' || p.outcome || ' | ' || array_to_string(p.tools, '+') AS stratum,
           md5(p.session_id || ':' || $seed) AS draw
    FROM population p JOIN top USING (workflow)
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY stratum ORDER BY draw, session_id) AS rank,
           count(*) OVER (PARTITION BY stratum) AS stratum_size
    FROM strata
)
"""


def draw(con: duckdb.DuckDBPyConnection, n: int, seed: int, top_workflows: int = 5) -> tuple[pl.DataFrame, dict]:
    """(the sample, one row per session with masked text; per-stratum population and sample counts)."""
    params = {"top": top_workflows, "seed": str(seed)}
    pii.install(con)  # the phone UDF that mask_sql calls
    sample = frame(
        con,
        _SESSIONS_SQL
        + f"""
        , chosen AS (SELECT * FROM ranked ORDER BY (rank - 1) / stratum_size, draw, session_id LIMIT {int(n)})
        SELECT session_id AS case_id, session_id, trace_id, release, workflow, outcome, tools, stratum,
               {pii.mask_sql("input_text")} AS input_text, {pii.mask_sql("output_text")} AS output_text
        FROM chosen ORDER BY workflow, outcome, stratum, draw, session_id""",
        params,
    )
    strata = frame(
        con,
        _SESSIONS_SQL
        + """
        SELECT stratum, count(*) AS population FROM ranked GROUP BY stratum ORDER BY stratum""",
        params,
    )
    taken = sample.group_by("stratum").len("sampled")
    table = strata.join(taken, on="stratum", how="left").with_columns(pl.col("sampled").fill_null(0))
    return sample, {
        r["stratum"]: {"population": r["population"], "sampled": r["sampled"]} for r in table.iter_rows(named=True)
    }


def write(
    con: duckdb.DuckDBPyConnection,
    out: str | Path,
    n: int = 300,
    seed: int = 7,
    top_workflows: int = 5,
    db_path: str | None = None,
) -> dict:
    """Write the sample as JSON Lines (empty label fields ready for labelling) and ``OUT.meta.json`` with
    the seed and the strata; return the metadata. Nothing is written when there is no session to draw."""
    sample, strata = draw(con, n, seed, top_workflows)
    if sample.is_empty():
        return {"seed": seed, "n_requested": n, "n_drawn": 0, "population": 0, "strata": {}}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for row in sample.iter_rows(named=True):
            record = {**row, "from_production": True, **dict.fromkeys(LABEL_FIELDS)}
            fh.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
    meta = {
        "seed": seed,
        "n_requested": n,
        "n_drawn": sample.height,
        "top_workflows": top_workflows,
        "population": sum(s["population"] for s in strata.values()),
        "strata": strata,
        "method": "stratified by (workflow, outcome, tools used); within a stratum ordered by "
        "md5(session_id || ':' || seed); first one per stratum, then proportional",
        "recommended_size": list(RECOMMENDED),
        "database": db_path,
        "toolkit_version": __version__,
        "masked": True,
    }
    meta_path = out.with_suffix(".meta.json")
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True))
    meta["meta_path"] = str(meta_path)
    return meta
