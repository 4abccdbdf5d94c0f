"""The continuous quantiles the metric SQL writes out (``quantile_exact`` in the latency, cost and token
metrics, expanded by ``metrics.expand``; README: Running on Spark, exact parity): DuckDB's quantile_cont
formula evaluated one IEEE operation at a time, so that Spark, which runs the same SQL, gets the same bits.
Checked here on DuckDB alone against that formula in Python and against quantile_cont itself (which DuckDB's
build computes with a fused multiply-add: one unit in the last place apart at most)."""

from __future__ import annotations

import math
import random

import duckdb

from agentops_audit import metrics


def _written_out(values: list[float], p: float) -> float:
    s = sorted(values)
    rn = (len(s) - 1) * p
    lo, hi, d = s[math.floor(rn)], s[math.ceil(rn)], rn - math.floor(rn)
    return lo * (1 - d) + hi * d


def test_step_latency_quantiles_are_the_formula_and_quantile_cont_to_one_ulp():
    rng = random.Random(5)
    groups = {f"g{k}": [rng.lognormvariate(3, 2) for _ in range(n)] for k, n in enumerate([1, 2, 3, 7, 20, 101, 997])}
    con = duckdb.connect()
    con.execute("CREATE TABLE spans (span_type VARCHAR, duration_ms DOUBLE)")
    con.executemany("INSERT INTO spans VALUES (?, ?)", [(g, x) for g, xs in groups.items() for x in xs])
    con.execute("INSERT INTO spans VALUES ('g1', NULL), ('agent', 5.0)")  # left out: no duration, a task
    got = {row[0]: row for row in metrics.run(con, "step_latency").rows()}
    assert set(got) == set(groups)
    native = con.execute(
        "SELECT span_type, quantile_cont(duration_ms, 0.50), quantile_cont(duration_ms, 0.95), "
        "quantile_cont(duration_ms, 0.99) FROM spans WHERE span_type <> 'agent' GROUP BY span_type"
    ).fetchall()
    apart = 0
    for step, *cont in native:
        assert got[step][1] == len(groups[step])
        for p, value, reference in zip((0.50, 0.95, 0.99), got[step][2:], cont, strict=True):
            assert value == _written_out(groups[step], p), (step, p)
            assert abs(value - reference) <= math.ulp(reference), (step, p, value, reference)
            apart += value != reference
    assert apart > 0  # the reason the SQL writes it out: quantile_cont rounds otherwise


def test_quantiles_of_nothing_are_null():
    con = duckdb.connect()
    con.execute("CREATE TABLE spans (span_type VARCHAR, duration_ms DOUBLE)")
    con.execute("INSERT INTO spans VALUES ('tool', NULL)")
    assert metrics.run(con, "step_latency").rows() == []
    con.execute("CREATE TEMP TABLE task_facts (latency_ms DOUBLE)")
    assert con.execute(metrics.METRICS["session_latency"].sql).fetchall() == [(0, None, None, None, None)]


def test_quantile_exact_is_written_out_before_any_engine_sees_the_sql():
    assert "quantile_exact(" not in "".join(m.sql for m in metrics.METRICS.values())
    written = metrics.expand("SELECT quantile_exact(s, 0.95) AS p95 FROM t")
    assert written.startswith("SELECT (s[floor(((array_length(s) - 1) * 0.95::DOUBLE))::INTEGER + 1] * (1 - ")
    con = duckdb.connect()
    values = [5.0, 1.0, 4.0, 2.0]
    con.execute("CREATE TABLE t AS SELECT list_sort(?::DOUBLE[]) AS s", [values])
    assert con.execute(written).fetchall() == [(_written_out(values, 0.95),)]
