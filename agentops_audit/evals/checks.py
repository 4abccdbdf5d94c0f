"""Automated checks on the outputs of one release's eval cases, set-based in DuckDB.

The unit is a case (its rows for every rubric item share one output). The four checks the first
checklist names:

- ``json_schema_valid``: an output that looks like JSON (starts with ``{`` or ``[``, optionally inside a
  fenced json code block), or any output of a case with an ``output_schema``, must parse, and must have
  every top-level key listed in the schema's ``required``;
- ``citation_present``: a case with ``citation_required`` must cite a source: a bracketed reference such
  as ``[kb-1042]`` or ``[3]``, a URL, a ``Source:`` line, or a non-empty JSON ``citations`` list;
- ``pii_leakage``: no personal data or secret in the output (``agentops_audit.pii`` scanner);
- ``policy_violation``: no case flagged ``policy_violation`` by the eval harness.

A check with no applicable case is reported with ``applicable = 0`` (not run), never as a pass.
"""

from __future__ import annotations

import duckdb
import polars as pl

from agentops_audit import pii
from agentops_audit.db import frame

CHECKS = ("json_schema_valid", "citation_present", "pii_leakage", "policy_violation")
CITATION = r"\[[A-Za-z0-9][A-Za-z0-9_.:#/-]{0,79}\]|https?://\S+|(?i)\bsources?\s*:\s*\S"


def _units(release: str) -> str:
    rel = release.replace("'", "''")
    return f"""(
        SELECT case_id, release, any_value(output_text) AS output_text,
               any_value(output_schema) AS output_schema,
               bool_or(citation_required) AS citation_required,
               bool_or(policy_violation) AS policy_violation,
               regexp_replace(trim(any_value(output_text)), '^```(json)?\\s*|\\s*```$', '', 'g') AS body
        FROM eval_results WHERE release = '{rel}' GROUP BY case_id, release)"""


def output_checks(
    con: duckdb.DuckDBPyConnection, release: str, extra_patterns: dict[str, str] | None = None
) -> pl.DataFrame:
    """One row per check: applicable cases, failed cases, failure rate (NULL when nothing applies) and
    one masked example case id."""
    units = _units(release)
    pii.scan(
        con,
        f"(SELECT case_id, release, output_text FROM {units} WHERE output_text IS NOT NULL)",
        ["output_text"],
        key_cols=("case_id", "release"),
        extra_patterns=extra_patterns,
        table="eval_output_pii",
    )
    required = "from_json(json_extract(output_schema, '$.required'), '[\"VARCHAR\"]')"
    return frame(
        con,
        f"""
        WITH u AS (SELECT * FROM {units}),
        flags AS (
            SELECT case_id,
                   output_schema IS NOT NULL OR regexp_matches(coalesce(body, ''), '^[\\{{\\[]') AS json_applies,
                   CASE WHEN json_valid(body) THEN coalesce(output_schema IS NULL OR (
                            json_type(body) = 'OBJECT' AND list_has_all(json_keys(body), {required})), true)
                        ELSE false END AS json_ok,
                   coalesce(citation_required, false) AS citation_applies,
                   regexp_matches(coalesce(output_text, ''), '{CITATION}')
                   OR CASE WHEN json_valid(body) AND json_type(body) = 'OBJECT'
                           THEN coalesce(json_array_length(body, '$.citations') > 0, false) ELSE false END
                       AS cited,
                   coalesce(output_text, '') <> '' AS pii_applies,
                   case_id IN (SELECT case_id FROM eval_output_pii) AS leaked,
                   policy_violation IS NOT NULL AS policy_applies,
                   coalesce(policy_violation, false) AS violated
            FROM u),
        results AS (
            SELECT 'json_schema_valid' AS "check", json_applies AS applies, NOT json_ok AS failed, case_id FROM flags
            UNION ALL SELECT 'citation_present', citation_applies, NOT cited, case_id FROM flags
            UNION ALL SELECT 'pii_leakage', pii_applies, leaked, case_id FROM flags
            UNION ALL SELECT 'policy_violation', policy_applies, violated, case_id FROM flags)
        SELECT c."check",
               count(*) FILTER (WHERE r.applies) AS applicable,
               count(*) FILTER (WHERE r.applies AND r.failed) AS failed,
               count(*) FILTER (WHERE r.applies AND r.failed) / nullif(count(*) FILTER (WHERE r.applies), 0)
                   AS failure_rate,
               {pii.mask_sql("min(r.case_id) FILTER (WHERE r.applies AND r.failed)")} AS example_case
        FROM (SELECT unnest({list(CHECKS)}) AS "check") c LEFT JOIN results r USING ("check")
        GROUP BY c."check" ORDER BY list_position({list(CHECKS)}, c."check")""",
    )
