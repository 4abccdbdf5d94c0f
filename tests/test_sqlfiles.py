"""The view files' headers (metrics/sqlfiles.py): dependency order, clear errors, and headers true to the SQL."""

from pathlib import Path

import pytest

from agentops_audit.metrics import params, sqlfiles

sqlglot = pytest.importorskip("sqlglot")
from sqlglot import exp  # noqa: E402


def _write(folder: Path, name: str, creates: str, reads: str = "") -> sqlfiles.ViewFile:
    header = f"-- creates: {creates}\n" + (f"-- reads: {reads}\n" if reads else "")
    path = folder / name
    path.write_text(header + f"CREATE TEMP TABLE {creates} AS SELECT 1 AS x;\n")
    return sqlfiles.parse(path)


def test_order_follows_reads_not_file_names(tmp_path):
    files = [
        _write(tmp_path, "a.sql", "late", "early"),
        _write(tmp_path, "b.sql", "early", "spans"),
        _write(tmp_path, "c.sql", "other", "spans"),
    ]
    assert [f.name for f in sqlfiles.ordered(files, {"spans"})] == ["b.sql", "a.sql", "c.sql"]


def test_cycle_is_a_clear_error(tmp_path):
    files = [_write(tmp_path, "a.sql", "x", "y"), _write(tmp_path, "b.sql", "y", "x")]
    with pytest.raises(ValueError, match=r"a\.sql, b\.sql read each other in a cycle"):
        sqlfiles.ordered(files, {"spans"})


def test_missing_input_is_named(tmp_path):
    files = [_write(tmp_path, "a.sql", "x", "spans, nowhere")]
    with pytest.raises(ValueError, match=r"a\.sql reads nowhere, which no view file creates"):
        sqlfiles.ordered(files, {"spans"})


def test_two_creators_and_no_header_are_errors(tmp_path):
    files = [_write(tmp_path, "a.sql", "x"), _write(tmp_path, "b.sql", "x")]
    with pytest.raises(ValueError, match="x is created by both a.sql and b.sql"):
        sqlfiles.ordered(files, set())
    (tmp_path / "c.sql").write_text("-- a comment first\nCREATE TEMP TABLE c AS SELECT 1;\n")
    with pytest.raises(ValueError, match="c.sql: view header lacks"):
        sqlfiles.parse(tmp_path / "c.sql")


def test_shadowing_a_schema_view_reads_the_schema():
    """07_sessions creates the TEMP sessions table from the schema's sessions view; task_facts reads the copy."""
    order = [f.name for f in sqlfiles.views()]
    assert order.index("07_sessions.sql") < order.index("20_task_facts.sql")
    assert order.index("10_model_map.sql") < order.index("20_task_facts.sql")


def _tables(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql.replace("{success_predicate}", "true"), read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table)} - ctes


@pytest.mark.parametrize("view", sqlfiles.views(), ids=lambda v: v.name)
def test_headers_declare_what_the_sql_does(view):
    tree = sqlglot.parse_one(view.sql.replace("{success_predicate}", "true"), read="duckdb")
    assert isinstance(tree, exp.Create) and tree.this.name in view.creates
    read = _tables(tree.expression.sql(dialect="duckdb"))
    # tool_calls in an audit is the classified shadow view tool_classes.install builds on audit_tool_classes
    implied = {"audit_tool_classes"} if "tool_calls" in read else set()
    assert set(view.reads) == read | implied


def test_plan_builds_what_a_table_reads_and_knows_the_inputs():
    plan = sqlfiles.plan(["task_facts"])
    assert [f.name for f in plan] == ["07_sessions.sql", "10_model_map.sql", "20_task_facts.sql"]
    assert sqlfiles.inputs_of(plan) >= {"audit_prices", "{success_predicate}"}
    assert [f.name for f in sqlfiles.plan(["span_orphans"])] == ["08_span_orphans.sql"]
    assert not sqlfiles.inputs_of(sqlfiles.plan(["span_orphans"]))
    with pytest.raises(ValueError, match="no view file creates nothing_here"):
        sqlfiles.plan(["nothing_here"])
    assert set(params.derived_tables()) >= {"task_facts", "write_actions", "audit_records", "audit_prices"}
