"""The project's DuckDB SQL as Spark SQL: sqlglot's DuckDB -> Spark transpiler plus the rewrite rules below.

The metric, view and evidence SQL stays DuckDB SQL (one source). Plain sqlglot gets most of it right; each
``RULES`` entry is one small function over the parsed tree for a construct it leaves wrong or unrunnable on
Spark 4 (tests/test_transpile.py tests each on its own, and on a real Spark session where one is available):

- ``quantile_cont``: refused (Unsupported). Spark's ``percentile`` interpolates as ``(ceil - rn) * lo + (rn -
  floor) * hi`` and DuckDB's ``quantile_cont`` as ``lo * (1 - d) + hi * d``, which its build compiles to a fused
  multiply-add (measured: DuckDB 2.0.1's results match ``fma(lo, 1 - d, hi * d)``, not the two-rounding form), so no
  Spark SQL reproduces it to the last bit. The metric SQL writes the interpolation out instead
  (README: Running on Spark, exact parity), which both engines evaluate with the same IEEE operations;
- ``list_slice``: ``l[a:b]`` (1-based, both ends included) -> ``slice(l, a, b - a + 1)``;
- ``filtered_string_agg``: ``string_agg(x, s) FILTER (WHERE c)`` -> ``string_agg(CASE WHEN c THEN x END, s)``,
  and with ``DISTINCT x ... ORDER BY x``: ``array_join(array_sort(collect_set(CASE WHEN c THEN x END)), s)``;
- ``filtered_any_value``: ``any_value(x) FILTER (WHERE c)`` -> ``any_value(CASE WHEN c THEN x END, true)``
  (Spark's second argument ignores NULLs, as DuckDB's filter drops the rows);
- ``ordered_distinct_list``: ``list(DISTINCT x ORDER BY x)`` -> ``array_sort(collect_set(x))``; sqlglot would
  drop the ORDER BY silently. Any other ordered list aggregate is an error here, never a silent reorder;
- ``ordered_distinct_string_agg``: ``string_agg(DISTINCT x, s ORDER BY x)`` -> ``array_join(array_sort(
  collect_set(x)), s)``;
- ``json_valid``: ``json_valid(x)`` -> ``CASE WHEN x IS NOT NULL THEN try_parse_json(x) IS NOT NULL END``
  (NULL for a NULL x, as DuckDB's); Spark 4.0+;
- ``json_extract_text``: ``json_extract(x, p)`` (DuckDB: the JSON text of the value, '""' for an empty string,
  'null' for JSON null) -> ``to_json(try_variant_get(try_parse_json(x), p, 'variant'))``; sqlglot's
  ``get_json_object`` returns '' and NULL for those, which the tool_calls failure flag tells apart;
- ``json_type``: ``json_type(x)`` -> the first word of ``schema_of_variant(try_parse_json(x))``: 'ARRAY' and
  'OBJECT' as in DuckDB (scalars are named differently: the SQL tests only for those two);
- ``json_list``: ``from_json(x, '["JSON"]')`` -> ``from_json(x, 'array<string>')`` (Spark keeps an object
  element's JSON text in a string field);
- ``epoch_us``: ``epoch_us(t)`` -> ``unix_micros(t)``;
- ``millisecond_diff``: ``date_diff('millisecond', a, b)`` counts millisecond boundaries crossed in DuckDB
  (12:00:00.0009 to 12:00:00.0011 is 1) where Spark's ``timestampdiff`` truncates the difference (0):
  -> ``floor(unix_micros(b) / 1000) - floor(unix_micros(a) / 1000)``;
- ``double_division``: ``a / b`` -> ``CAST(a AS DOUBLE) / b``: DuckDB's ``/`` gives a DOUBLE for decimals too
  (``x / 1000.0``), Spark's a DECIMAL;
- ``cte_hint``: ``WITH a AS MATERIALIZED (...)`` -> ``WITH a AS (...)`` (a DuckDB planning hint; same rows);
- ``wide_hash``: ``hash(x)`` -> ``xxhash64(x)``. The values differ between engines in any case (DuckDB's
  64-bit hash, Spark's 32-bit murmur3 ``hash``): the SQL uses a hash only to group equal values, and a 64-bit
  one keeps collisions as rare as DuckDB's. No metric may return a hash.

The Spark session must run with ``spark.sql.session.timeZone=UTC`` (``engine.spark`` sets it): DuckDB's
TIMESTAMP has no zone, and Spark reads the Parquet timestamps as TIMESTAMP_NTZ.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp


class Unsupported(ValueError):
    """DuckDB SQL the rules cannot carry to Spark without changing its result."""


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _when(cond: exp.Expression, value: exp.Expression) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=cond, true=value)])


def quantile_cont(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.PercentileCont):
        raise Unsupported(
            f"{node.sql('duckdb')}: the engines round its interpolation differently; write it out in the SQL "
            "(README: Running on Spark, exact parity)"
        )
    return node


def list_slice(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Slice):
        s = node.expressions[0]
        start = s.this or exp.Literal.number(1)
        if s.expression is None:
            raise Unsupported(f"open-ended list slice {node.sql('duckdb')}")
        length = exp.Paren(
            this=exp.Add(
                this=exp.Sub(this=s.expression.copy(), expression=start.copy()), expression=exp.Literal.number(1)
            )
        )
        return _fn("slice", node.this, start, length)
    return node


def _filtered(node: exp.Expression, kind: type) -> tuple[exp.Expression, exp.Expression] | None:
    """(aggregate, condition) when ``node`` is ``kind(...) FILTER (WHERE condition)``."""
    if not isinstance(node, exp.Filter):
        return None
    agg = node.this.this if isinstance(node.this, exp.IgnoreNulls) else node.this
    return (agg, node.expression.this) if isinstance(agg, kind) else None


def filtered_string_agg(node: exp.Expression) -> exp.Expression:
    found = _filtered(node, exp.GroupConcat)
    if not found:
        return node
    agg, cond = found
    x = _distinct_ordered(agg.this, strict=False)
    if x is not None:  # collect_set drops the NULLs the CASE makes of the filtered rows
        sep = agg.args.get("separator") or exp.Literal.string(",")
        return _fn("array_join", _fn("array_sort", _fn("collect_set", _when(cond.copy(), x.copy()))), sep.copy())
    if isinstance(agg.this, exp.Distinct):
        raise Unsupported(f"string_agg(DISTINCT ...) FILTER without ORDER BY: {node.sql('duckdb')}")
    if isinstance(agg.this, exp.Order):  # listagg(x) WITHIN GROUP (ORDER BY y) FILTER (...): Spark 4 has it
        return node
    return exp.GroupConcat(this=_when(cond.copy(), agg.this.copy()), separator=agg.args.get("separator"))


def filtered_any_value(node: exp.Expression) -> exp.Expression:
    found = _filtered(node, exp.AnyValue)
    if not found:
        return node
    agg, cond = found
    return _fn("any_value", _when(cond.copy(), agg.this.copy()), exp.true())


def _distinct_ordered(arg: exp.Expression, strict: bool = True) -> exp.Expression | None:
    """x when ``arg`` is ``DISTINCT x ORDER BY x`` (ascending); Unsupported for any other ORDER BY when
    ``strict`` (else None: string_agg(x ORDER BY y) is Spark's listagg ... WITHIN GROUP, which sqlglot writes)."""
    if not isinstance(arg, exp.Order):
        return None
    inner, keys = arg.this, arg.expressions
    if (
        isinstance(inner, exp.Distinct)
        and len(inner.expressions) == 1
        and len(keys) == 1
        and keys[0].this == inner.expressions[0]
        and not keys[0].args.get("desc")
    ):
        return inner.expressions[0]
    if strict or isinstance(inner, exp.Distinct):
        raise Unsupported(f"ordered list aggregate other than DISTINCT x ORDER BY x: {arg.sql('duckdb')}")
    return None


def ordered_distinct_list(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ArrayAgg):
        x = _distinct_ordered(node.this)
        if x is not None:
            return _fn("array_sort", _fn("collect_set", x.copy()))
    return node


def ordered_distinct_string_agg(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.GroupConcat):
        x = _distinct_ordered(node.this, strict=False)
        if x is not None:
            sep = node.args.get("separator") or exp.Literal.string(",")
            return _fn("array_join", _fn("array_sort", _fn("collect_set", x.copy())), sep.copy())
    return node


def _anonymous(node: exp.Expression, name: str) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).lower() == name


def json_valid(node: exp.Expression) -> exp.Expression:
    if _anonymous(node, "json_valid"):
        x = node.expressions[0]
        valid = exp.Not(this=exp.Is(this=_fn("try_parse_json", x.copy()), expression=exp.Null()))
        return _when(exp.Not(this=exp.Is(this=x.copy(), expression=exp.Null())), valid)
    return node


def json_extract_text(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.JSONExtract) and not isinstance(node, exp.JSONExtractScalar):
        path = node.expression
        text = path.sql("duckdb") if not isinstance(path, exp.Literal) else path.this
        if isinstance(path, exp.JSONPath):
            text = path.sql("duckdb").strip("'")
        return _fn(
            "to_json",
            _fn(
                "try_variant_get",
                _fn("try_parse_json", node.this),
                exp.Literal.string(text),
                exp.Literal.string("variant"),
            ),
        )
    return node


def json_type(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.JSONType):
        schema = _fn("schema_of_variant", _fn("try_parse_json", node.this))
        return _fn("regexp_extract", schema, exp.Literal.string("^[A-Z]+"), exp.Literal.number(0))
    return node


def json_list(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.FromJson) and isinstance(node.expression, exp.Literal):
        if node.expression.this.replace(" ", "") != '["JSON"]':
            raise Unsupported(f"from_json with a structure other than '[\"JSON\"]': {node.sql('duckdb')}")
        return exp.FromJson(this=node.this, expression=exp.Literal.string("array<string>"))
    return node


def epoch_us(node: exp.Expression) -> exp.Expression:
    if _anonymous(node, "epoch_us"):
        return _fn("unix_micros", exp.cast(node.expressions[0], "timestamp"))
    return node


def millisecond_diff(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.DateDiff) and str(node.args.get("unit") or "").upper().strip("'") == "MILLISECOND":

        def ms(t):
            return _fn(
                "floor",
                exp.Div(this=_fn("unix_micros", exp.cast(t.copy(), "timestamp")), expression=exp.Literal.number(1000)),
            )

        return exp.Paren(this=exp.Sub(this=ms(node.this), expression=ms(node.expression)))
    return node


def double_division(node: exp.Expression) -> exp.Expression:
    cast = isinstance(node, exp.Div) and isinstance(node.this, exp.Cast) and node.this.is_type("double")
    if type(node) is exp.Div and not cast:
        return exp.Div(this=exp.cast(node.this, "double"), expression=node.expression)
    return node


def cte_hint(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    return node


def wide_hash(node: exp.Expression) -> exp.Expression:
    if _anonymous(node, "hash"):
        return _fn("xxhash64", *node.expressions)
    return node


def star_replace(columns: dict[str, list[str]]) -> Callable[[exp.Expression], exp.Expression]:
    """``alias.* REPLACE (e AS c)`` -> the relation's columns with ``e AS c`` in the place of ``c`` (Spark has no
    REPLACE). ``columns``: the column names of every table or view the SQL reads."""

    def rule(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Select):
            return node
        aliases = {}
        for table in node.find_all(exp.Table):
            if table.parent_select is node:
                aliases[table.alias_or_name] = table.name
        out, changed = [], False
        for proj in node.expressions:
            star = proj.this if isinstance(proj, exp.Column) else proj
            if not (isinstance(star, exp.Star) and star.args.get("replace")):
                out.append(proj)
                continue
            qualifier = proj.table if isinstance(proj, exp.Column) else None
            table = (
                aliases.get(qualifier) if qualifier else (next(iter(aliases.values())) if len(aliases) == 1 else None)
            )
            if table not in columns:
                raise Unsupported(f"* REPLACE over a relation of unknown columns: {proj.sql('duckdb')}")
            new = {a.alias: a for a in star.args["replace"]}
            for c in columns[table]:
                out.append(new[c].copy() if c in new else exp.column(c, table=qualifier))
            changed = True
        if changed:
            node.set("expressions", out)
        return node

    return rule


RULES: tuple[Callable[[exp.Expression], exp.Expression], ...] = (
    quantile_cont,
    list_slice,
    filtered_string_agg,
    filtered_any_value,
    ordered_distinct_list,
    ordered_distinct_string_agg,
    json_valid,
    json_extract_text,
    json_type,
    json_list,
    epoch_us,
    millisecond_diff,
    wide_hash,
    double_division,
    cte_hint,
)


def rewrite(tree: exp.Expression, rules=RULES) -> exp.Expression:
    for rule in rules:
        tree = tree.transform(rule)
    return tree


def to_spark(
    sql: str, rules=RULES, columns: dict[str, list[str]] | None = None, tables: dict[str, str] | None = None
) -> str:
    """``sql`` (DuckDB SQL, one statement) as Spark SQL; Unsupported when a construct has no faithful rule.
    ``columns``: the columns of the relations it reads (for ``* REPLACE``); ``tables``: names to read instead
    ("main.sessions" or "sessions" -> another name), for a view that shadows the relation it reads."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if tables:
        for table in tree.find_all(exp.Table):
            key = f"{table.db}.{table.name}" if table.db else table.name
            if key in tables:
                table.set("this", exp.to_identifier(tables[key]))
                table.set("db", None)
    if columns is not None:
        rules = (*rules, star_replace(columns))
    return rewrite(tree, rules).sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
