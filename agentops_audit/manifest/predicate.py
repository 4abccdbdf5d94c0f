"""The guard of the workflow's ``success_predicate``: a restricted SQL boolean over the columns of the
``sessions`` view, tokenized and then bound by DuckDB, so no subquery, cast or statement gets through."""

from __future__ import annotations

import re
from functools import lru_cache

from agentops_audit.paths import PACKAGE_DIR

# ---------------------------------------------------------------- the success predicate

_TOKEN = re.compile(
    r"""\s+|(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)
                        |(?P<op><>|!=|<=|>=|=|<|>|[(),+*/%-])""",
    re.VERBOSE,
)
PREDICATE_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "is",
        "null",
        "true",
        "false",
        "in",
        "between",
        "like",
        "ilike",
        "case",
        "when",
        "then",
        "else",
        "end",
        "distinct",
        "from",
    }
)
PREDICATE_FUNCTIONS = frozenset(
    {"lower", "upper", "coalesce", "length", "abs", "contains", "starts_with", "ends_with", "least", "greatest"}
)


@lru_cache(maxsize=1)
def session_columns() -> dict[str, str]:
    """Columns (and types) of the ``sessions`` view, read from the canonical schema itself."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute((PACKAGE_DIR / "schema.sql").read_text())
        return {name: typ for name, typ, *_ in con.execute("DESCRIBE sessions").fetchall()}
    finally:
        con.close()


def predicate_problem(expr: str) -> str | None:
    """Why ``expr`` is not a safe boolean over ``sessions`` columns, or None when it is.

    The language is a restricted SQL boolean: column names of ``sessions``, text and number literals,
    comparisons, AND/OR/NOT, IS [NOT] NULL, IN, BETWEEN, LIKE, CASE and a few functions
    (``PREDICATE_FUNCTIONS``). No subquery, cast, comment or statement separator can get through the
    tokenizer; DuckDB then checks that the expression binds and is BOOLEAN.
    """
    import duckdb

    if "--" in expr or "/*" in expr:
        return "comments are not allowed"
    columns = session_columns()
    tokens, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            return f"unexpected character {expr[pos]!r} at position {pos + 1}"
        pos = m.end()
        if m.lastgroup:
            tokens.append((m.lastgroup, m.group(m.lastgroup)))
    if not tokens:
        return "empty predicate"
    for i, (kind, text) in enumerate(tokens):
        if kind != "word":
            continue
        word = text.lower()
        is_call = i + 1 < len(tokens) and tokens[i + 1] == ("op", "(")
        if word in PREDICATE_KEYWORDS:
            continue
        if is_call:
            if word not in PREDICATE_FUNCTIONS:
                return f"function {text!r} is not allowed (allowed: {', '.join(sorted(PREDICATE_FUNCTIONS))})"
        elif word not in columns:
            return f"unknown column {text!r} (sessions has: {', '.join(columns)})"
    con = duckdb.connect()
    try:
        con.execute((PACKAGE_DIR / "schema.sql").read_text())
        rows = con.execute(f"DESCRIBE SELECT ({expr}) AS ok FROM sessions").fetchall()
    except duckdb.Error as exc:
        return f"not a valid SQL expression: {str(exc).splitlines()[0]}"
    finally:
        con.close()
    if rows[0][1] != "BOOLEAN":
        return f"must be true or false for a session, but is {rows[0][1]}"
    return None
