"""Comparing results of two engines (or two readers): equal, exactly. Floats too, to the last bit (NaN equals
NaN): the metric SQL adds money as exact decimals and writes its quantiles out, so that DuckDB and Spark
perform the same IEEE operations on the same values whatever order their threads or partitions give
(README: Running on Spark, exact parity)."""

from __future__ import annotations

import math

import polars as pl


def equal(x, y) -> bool:
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(equal(x[k], y[k]) for k in x)
    if isinstance(x, list | tuple):
        return isinstance(y, list | tuple) and len(x) == len(y) and all(map(equal, x, y))
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y))
    return x == y


def same(got: pl.DataFrame, want: pl.DataFrame, what: str) -> None:
    """Same columns and rows (as sets of rows: ties of an ORDER BY may come in another order)."""
    assert got.columns == want.columns, what
    assert got.height == want.height, what
    g = got.sort(got.columns, nulls_last=True).rows()
    w = want.sort(want.columns, nulls_last=True).rows()
    for a, b in zip(g, w, strict=True):
        assert equal(a, b), (what, a, b)
