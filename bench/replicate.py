"""Grow a benchmark database by copying its spans with SQL (shared by ``audit.py`` and ``explore.py``)."""

from __future__ import annotations


def replicate(con, spans: int, period: int, unit: str) -> None:
    """Copy the spans already in ``con`` until there are at least ``spans``: copy ``k`` gets ``k`` in hex
    appended to its trace, span, parent and session ids (so traces, trees and sessions stay intact and
    distinct) and is shifted by ``k % period`` ``unit`` (DAY, WEEK)."""
    from agentops_audit import db

    base = db.scalar(con, "SELECT count(*) FROM spans")
    copies = -(-spans // base)  # ceiling
    con.execute("CREATE TEMP TABLE seed AS SELECT * FROM spans")
    con.execute(f"""
        INSERT INTO spans
        SELECT seed.* REPLACE (
            trace_id || printf('%05x', k) AS trace_id,
            span_id || printf('%05x', k) AS span_id,
            parent_span_id || printf('%05x', k) AS parent_span_id,
            session_id || printf('-%05x', k) AS session_id,
            start_time + INTERVAL (k % {int(period)}) {unit} AS start_time,
            end_time + INTERVAL (k % {int(period)}) {unit} AS end_time)
        FROM seed, range(1, {copies}) AS r(k)""")
    con.execute("DROP TABLE seed")
    con.execute("CHECKPOINT")
