"""Whether a database can be audited, said in one line before any notebook runs."""

from __future__ import annotations

from pathlib import Path

from agentops_audit import db
from agentops_audit.errors import UsageError

# the body of a Claude Code event is its name, a JSON string: "claude_code.api_request"
_LOGS = "SELECT count(*), count(*) FILTER (WHERE body LIKE '\"claude_code.%') FROM log_events"
_BETA = "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1 and OTEL_TRACES_EXPORTER=otlp"


def check_database(db_path: str) -> None:
    """UsageError when the database is missing, a directory, not an audit database, of another schema
    version (``db.SchemaMismatch``, which names the upgrade command when there is one) or holds nothing to
    audit: no span and no eval result (log records alone are no spans; Claude Code's are named)."""
    if not Path(db_path).exists():
        raise UsageError(f"audit database not found: {db_path} (create it with `agentops-audit ingest`)")
    if Path(db_path).is_dir():
        raise UsageError(f"--db {db_path} is a directory; give the audit database file, e.g. {db_path}/audit.duckdb")
    con = db.connect(db_path, read_only=True)  # not a DuckDB file: one line from main()
    try:
        if db.schema_version(con) is None:
            raise UsageError(f"{db_path} is not an audit database (create one with `agentops-audit ingest`)")
        if db.scalar(con, "SELECT count(*) FROM (SELECT 1 FROM spans LIMIT 1)"):
            return
        if db.scalar(con, "SELECT count(*) FROM (SELECT 1 FROM evals LIMIT 1)"):
            return  # eval results alone: the checks of section 2 read them
        logs, claude = con.execute(_LOGS).fetchone()
    finally:
        con.close()
    why = f" ({logs} log records, which the audit reads only as the messages of their spans)" if logs else ""
    if claude:
        why += (
            f"; Claude Code writes spans only with its tracing beta on ({_BETA}); its session logs "
            "(~/.claude/projects/*/*.jsonl) are read as transcripts"
        )
    raise UsageError(f"{db_path} holds no spans and no eval results: nothing to audit{why}")
