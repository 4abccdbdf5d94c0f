"""Metrics: one SQL file per metric in this folder, each opening with a header that names it.

Header lines (SQL comments) at the top of every file::

    -- name: tool_success
    -- grain: tool
    -- unit: ratio
    -- description: one line on what it measures

``METRICS`` is the registry, read from the files. ``run`` executes one against an audit database and
returns a polars frame. Metrics are set-based SQL over the canonical tables and views, and over the TEMP
tables ``params.install`` builds once per connection (``metrics/views/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from agentops_audit.db import frame

_HEADER = re.compile(r"^--\s*(name|grain|unit|description):\s*(.+)$")


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
    return Metric(sql=sql, **header)


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
