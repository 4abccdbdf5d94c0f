"""What a loaded file settles beyond its own rows, in the traces it touched, inside its transaction.

In order: the readings that need a span's neighbours (``tree``), the messages log records carry for their
spans (``otlp_logs.attach``), and the tool calls found only in LLM messages (``derive``). A file of spans
touches the traces of its spans; a file of log records, the traces its records name.
"""

from __future__ import annotations

import duckdb

from agentops_audit.ingest import otlp_logs, tree
from agentops_audit.ingest.derive import derive

TOUCHED = "SELECT trace_id FROM _touched_by_file"


def settle(con: duckdb.DuckDBPyConnection, source_id: int) -> int:
    """Settle the traces ``source_id`` touched; return the tool calls derived in them."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _touched_by_file AS
        SELECT DISTINCT trace_id FROM spans WHERE source_id = {source_id}
        UNION SELECT DISTINCT trace_id FROM log_events WHERE source_id = {source_id} AND trace_id IS NOT NULL""")
    tree.resolve(con, TOUCHED)
    otlp_logs.attach(con, f"trace_id IN ({TOUCHED})")
    derived = derive(con, TOUCHED)
    con.execute("DROP TABLE _touched_by_file")  # (an error rolls back the file, and this table with it)
    return derived
