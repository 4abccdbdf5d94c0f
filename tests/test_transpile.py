"""Each rewrite rule of agentops_audit/engine/transpile.py on its own (the SQL text it produces); the Spark
parity tests (tests/test_spark.py) run them on a real Spark session."""

import pytest

pytest.importorskip("sqlglot")

from agentops_audit.engine import transpile  # noqa: E402
from agentops_audit.engine.transpile import Unsupported, to_spark  # noqa: E402


def only(rule, sql: str) -> str:
    """``sql`` with ``rule`` alone applied (and sqlglot's own DuckDB -> Spark translation)."""
    return to_spark(sql, rules=(rule,))


def test_quantile_cont_is_refused():
    """No Spark function rounds as DuckDB's quantile_cont does: the metric SQL writes the interpolation out."""
    for sql in ("SELECT quantile_cont(x, 0.95) FROM t", "SELECT quantile_cont(x, 0.5) FILTER (WHERE ok) FROM t"):
        with pytest.raises(Unsupported, match="round its interpolation differently"):
            only(transpile.quantile_cont, sql)
    assert "PERCENTILE_CONT" in to_spark("SELECT quantile_cont(x, 0.95) FROM t", rules=())  # what it stops
    assert only(transpile.quantile_cont, "SELECT quantile_disc(x, 0.5) FROM t").startswith("SELECT PERCENTILE_DISC")


def test_every_metric_transpiles():
    from agentops_audit import metrics

    for name, metric in metrics.METRICS.items():
        assert to_spark(metric.sql), name


def test_list_slice_is_one_based_and_inclusive():
    assert only(transpile.list_slice, "SELECT l[2:10] FROM t") == "SELECT SLICE(l, 2, (10 - 2 + 1)) FROM t"
    assert only(transpile.list_slice, "SELECT l[:3] FROM t") == "SELECT SLICE(l, 1, (3 - 1 + 1)) FROM t"
    with pytest.raises(Unsupported, match="open-ended"):
        only(transpile.list_slice, "SELECT l[2:] FROM t")


def test_filtered_string_agg():
    assert (
        only(transpile.filtered_string_agg, "SELECT string_agg(x, ', ') FILTER (WHERE y > 1) FROM t")
        == "SELECT LISTAGG(CASE WHEN y > 1 THEN x END, ', ') FROM t"
    )
    assert (
        only(transpile.filtered_string_agg, "SELECT string_agg(DISTINCT m, ', ' ORDER BY m) FILTER (WHERE c) FROM t")
        == "SELECT ARRAY_JOIN(ARRAY_SORT(COLLECT_SET(CASE WHEN c THEN m END)), ', ') FROM t"
    )
    assert (
        to_spark("SELECT string_agg(n, ', ' ORDER BY t) FILTER (WHERE p IS NULL) FROM x")
        == "SELECT LISTAGG(n, ', ') WITHIN GROUP (ORDER BY t NULLS LAST) FILTER(WHERE p IS NULL) FROM x"
    )


def test_filtered_any_value_ignores_nulls():
    assert (
        only(transpile.filtered_any_value, "SELECT any_value(w) FILTER (WHERE w IS NOT NULL) FROM t")
        == "SELECT ANY_VALUE(CASE WHEN NOT w IS NULL THEN w END, TRUE) FROM t"
    )


def test_ordered_distinct_list_keeps_its_order():
    assert (
        only(transpile.ordered_distinct_list, "SELECT list(DISTINCT s ORDER BY s) FROM t")
        == "SELECT ARRAY_SORT(COLLECT_SET(s)) FROM t"
    )
    assert "COLLECT_LIST(DISTINCT s)" in to_spark("SELECT list(DISTINCT s ORDER BY s) FROM t", rules=())  # the bug
    for sql in ("SELECT list(DISTINCT s ORDER BY s DESC) FROM t", "SELECT list(s ORDER BY u) FROM t"):
        with pytest.raises(Unsupported, match="ordered list aggregate"):
            only(transpile.ordered_distinct_list, sql)


def test_ordered_distinct_string_agg():
    assert (
        only(transpile.ordered_distinct_string_agg, "SELECT string_agg(DISTINCT m, ', ' ORDER BY m) FROM t")
        == "SELECT ARRAY_JOIN(ARRAY_SORT(COLLECT_SET(m)), ', ') FROM t"
    )


def test_json_valid():
    assert (
        only(transpile.json_valid, "SELECT json_valid(x) FROM t")
        == "SELECT CASE WHEN NOT x IS NULL THEN NOT TRY_PARSE_JSON(x) IS NULL END FROM t"
    )


def test_json_extract_keeps_json_text():
    assert (
        only(transpile.json_extract_text, "SELECT json_extract(r, '$.error') FROM t")
        == "SELECT TO_JSON(TRY_VARIANT_GET(TRY_PARSE_JSON(r), '$.error', 'variant')) FROM t"
    )
    assert "GET_JSON_OBJECT" in to_spark("SELECT json_extract_string(r, '$.status') FROM t")  # text: unchanged


def test_json_type_and_list():
    assert (
        only(transpile.json_type, "SELECT json_type(e) = 'ARRAY' FROM t")
        == "SELECT REGEXP_EXTRACT(SCHEMA_OF_VARIANT(TRY_PARSE_JSON(e)), '^[A-Z]+', 0) = 'ARRAY' FROM t"
    )
    assert (
        only(transpile.json_list, "SELECT from_json(e, '[\"JSON\"]') FROM t")
        == "SELECT FROM_JSON(e, 'array<string>') FROM t"
    )
    with pytest.raises(Unsupported, match="from_json with a structure"):
        only(transpile.json_list, 'SELECT from_json(e, \'{"a": "INT"}\') FROM t')


def test_epoch_us():
    assert only(transpile.epoch_us, "SELECT epoch_us(t) FROM x") == "SELECT UNIX_MICROS(CAST(t AS TIMESTAMP)) FROM x"


def test_millisecond_diff_counts_boundaries():
    assert (
        only(transpile.millisecond_diff, "SELECT date_diff('millisecond', a, b) FROM t")
        == "SELECT (FLOOR(UNIX_MICROS(CAST(b AS TIMESTAMP)) / 1000) - FLOOR(UNIX_MICROS(CAST(a AS TIMESTAMP)) "
        "/ 1000)) FROM t"
    )
    assert "DATEDIFF(MILLISECOND" in to_spark("SELECT date_diff('millisecond', a, b) FROM t", rules=())


def test_double_division():
    assert only(transpile.double_division, "SELECT x / 1000.0 FROM t") == "SELECT CAST(x AS DOUBLE) / 1000.0 FROM t"


def test_cte_hint():
    assert (
        only(transpile.cte_hint, "WITH a AS MATERIALIZED (SELECT 1 AS x) SELECT x FROM a")
        == "WITH a AS (SELECT 1 AS x) SELECT x FROM a"
    )


def test_wide_hash():
    assert only(transpile.wide_hash, "SELECT hash(coalesce(a, '')) FROM t") == "SELECT XXHASH64(COALESCE(a, '')) FROM t"


def test_rules_are_all_listed():
    names = {r.__name__ for r in transpile.RULES}
    assert names == {
        "quantile_cont",
        "list_slice",
        "filtered_string_agg",
        "filtered_any_value",
        "ordered_distinct_list",
        "ordered_distinct_string_agg",
        "json_valid",
        "json_extract_text",
        "json_type",
        "json_list",
        "epoch_us",
        "millisecond_diff",
        "wide_hash",
        "double_division",
        "cte_hint",
    }
