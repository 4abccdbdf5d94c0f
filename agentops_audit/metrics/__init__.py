"""Metrics: one SQL file per metric in this folder, each opening with a header that names it.

Header lines (SQL comments) at the top of every file::

    -- name: tool_success
    -- grain: tool
    -- unit: ratio
    -- description: one line on what it measures

``METRICS`` is the registry, read from the files. ``run`` executes one against an audit database and
returns a polars frame. Metrics are set-based SQL over the canonical tables and views, and over the TEMP
tables ``params.install`` builds once per connection (``metrics/views/``). ``quantile_exact(s, p)`` in a file
is the continuous quantile ``p`` of the sorted list ``s`` (``list_sort(list(x))``), written out by ``expand``
before either engine sees the SQL (``QUANTILE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from agentops_audit.db import frame

_HEADER = re.compile(r"^--\s*(name|grain|unit|description):\s*(.+)$")
_QUANTILE_CALL = re.compile(r"quantile_exact\(\s*(\w+)\s*,\s*(0?\.\d+|1\.0|0)\s*\)")
# The continuous quantile p of the sorted list s: at rank rn = (n - 1) * p, between lo = s[floor(rn)] and
# hi = s[ceil(rn)] (0-based), lo * (1 - d) + hi * d with d = rn - floor(rn). DuckDB's quantile_cont has this
# formula but its build rounds it once, with a fused multiply-add, and Spark's percentile rounds it another
# way; written out, one IEEE operation at a time, both engines give the same bits (README: Running on Spark,
# exact parity; tests/test_quantiles.py).
QUANTILE = (
    "({s}[floor({rn})::INTEGER + 1] * (1 - ({rn} - floor({rn}))) + {s}[ceil({rn})::INTEGER + 1] * ({rn} - floor({rn})))"
)


def expand(sql: str) -> str:
    """``sql`` with every ``quantile_exact(s, p)`` written out (``QUANTILE``)."""

    def written(m: re.Match) -> str:
        s, p = m.group(1), m.group(2)
        return QUANTILE.format(s=s, rn=f"((array_length({s}) - 1) * {p}::DOUBLE)")

    return _QUANTILE_CALL.sub(written, sql)


@dataclass(frozen=True)
class Metric:
    name: str
    grain: str
    unit: str
    description: str
    sql: str


def _parse(path: Path) -> Metric:
    sql = path.read_text()
    header = {}
    for line in sql.splitlines():
        m = _HEADER.match(line.strip())
        if not m:
            break
        header[m.group(1)] = m.group(2).strip()
    missing = {"name", "grain", "unit", "description"} - set(header)
    if missing:
        raise ValueError(f"{path.name}: metric header lacks {', '.join(sorted(missing))}")
    if header["name"] != path.stem:
        raise ValueError(f"{path.name}: header name {header['name']!r} differs from the file name")
    return Metric(sql=expand(sql), **header)


METRICS: dict[str, Metric] = {p.stem: _parse(p) for p in sorted(Path(__file__).parent.glob("*.sql"))}


def run(con: duckdb.DuckDBPyConnection, name: str, config: dict | None = None) -> pl.DataFrame:
    """Run metric ``name``. A metric that reads the per-audit TEMP tables (``params.install``: price table,
    budgets, ``task_facts``, ``tool_attempts``, ...) gets them built first, from ``config`` (default settings
    when None), unless the connection has them already (an audit builds them once, with its config). A
    result stored in the database's ``engine_metrics`` schema by another engine is read instead."""
    from agentops_audit.metrics import params

    if con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'engine_metrics' AND table_name = ?", [name]
    ).fetchall()[0][0]:  # computed by another engine (audit --engine spark)
        return frame(con, f"SELECT * FROM engine_metrics.{name}")
    sql = METRICS[name].sql
    if params.needs_inputs(sql) and not params.installed(con):
        params.install(con, config or {})
    return frame(con, sql)


def overall_cost(cost_per_task: pl.DataFrame) -> dict:
    """The '(all)' row of a cost_per_task result when any span has a cost (exported, or tokens priced); empty
    when none has: whether there are cost figures at all (the cost checks, the headline metrics, the history)."""
    total = cost_per_task.filter(pl.col("workflow") == "(all)")
    row = total.row(0, named=True) if not total.is_empty() else {}
    return row if row.get("exported_cost_spans") or row.get("priced_spans") else {}
