"""Masking for the explorer: every text value a frame returns goes through ``pii.mask_sql`` in DuckDB.

``mask_frame`` masks a polars frame exactly as ``pii.mask`` would (identifiers included: an id that looks
like personal data is masked too); ``masked_texts`` masks a few loose texts (verdict and evidence display
lines); ``pii_candidates`` builds the table ``pii.scan`` reads for the PII evidence query.
"""

from __future__ import annotations

import duckdb
import polars as pl

from agentops_audit import db, pii
from agentops_audit.evaluators.base import PII_FIELDS


def q(ident: str) -> str:
    """A quoted SQL identifier."""
    return '"' + ident.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def mask_frame(
    con: duckdb.DuckDBPyConnection, df: pl.DataFrame, extra_patterns: dict[str, str] | None = None
) -> pl.DataFrame:
    """``df`` with every text value masked exactly as ``pii.mask`` would (same SQL, ``pii.mask_sql``).

    Runs on ``con`` once per distinct text value of the frame (all text columns together), and only on
    the values some entity pattern matches (``pii.candidate_pattern``): the others cannot change."""
    text = [c for c, t in df.schema.items() if t == pl.String]
    if df.is_empty() or not text:
        return df
    values = pl.concat([df[c] for c in text]).drop_nulls().unique().to_frame("v")
    pii.install(con)  # the phone UDF that mask_sql calls
    con.register("_explore_values", values.to_arrow())
    try:  # MATERIALIZED: the candidates first, so the optimizer cannot run the mask on every value
        masked = db.frame(
            con,
            f"""
            WITH candidates AS MATERIALIZED (
                SELECT v FROM _explore_values WHERE regexp_matches(v, {lit(pii.candidate_pattern(extra_patterns))}))
            SELECT v, {pii.mask_sql("v", extra_patterns)} AS m FROM candidates""",
        )
    finally:
        con.unregister("_explore_values")
    changed = masked.filter(pl.col("v") != pl.col("m"))
    if changed.is_empty():
        return df
    return df.with_columns(pl.col(c).replace(changed["v"], changed["m"]) for c in text)


def pii_candidates(con: duckdb.DuckDBPyConnection, extra: dict[str, str] | None) -> str:
    """Build the TEMP table ``explore_pii_candidates`` for ``pii.scan`` (``pii.candidates_sql`` over the
    spans) and return its name."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE explore_pii_candidates AS "
        + pii.candidates_sql("spans", PII_FIELDS, extra_patterns=extra)
    )
    return "explore_pii_candidates"


def masked_texts(texts: list[str | None], extra: dict[str, str] | None = None) -> list[str | None]:
    """``pii.mask`` of each text, in one query of a private in-memory DuckDB."""
    if not any(texts):
        return texts
    con = duckdb.connect()
    try:
        pii.install(con)
        rows = con.execute(
            f"SELECT {pii.mask_sql('v', extra)} FROM unnest(?::VARCHAR[]) WITH ORDINALITY t(v, i) ORDER BY i", [texts]
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]
