"""Comparing results of two engines (or two readers): equal, floats to 1e-9 relative, since a sum of doubles
depends on the order of its terms (DuckDB's parallel scans and Spark's partitions add in different orders)."""

from __future__ import annotations

import math

import polars as pl


def close(x, y) -> bool:
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(close(x[k], y[k]) for k in x)
    if isinstance(x, list | tuple):
        return isinstance(y, list | tuple) and len(x) == len(y) and all(map(close, x, y))
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(x) and math.isnan(y))
    return x == y


def same(got: pl.DataFrame, want: pl.DataFrame, what: str) -> None:
    """Same columns and rows (as sets of rows: ties of an ORDER BY may come in another order)."""
    assert got.columns == want.columns, what
    assert got.height == want.height, what
    g = got.sort(got.columns, nulls_last=True).rows()
    w = want.sort(want.columns, nulls_last=True).rows()
    for a, b in zip(g, w, strict=True):
        assert close(a, b), (what, a, b)
