"""Ingest filters: keep only the sessions that started in a time window, or of one workflow.

A span is kept when its session (``span_sessions.session_key``: its session id, else its trace's, else its
trace id) started in ``[since, until)`` (UTC) and, with ``workflow``, when the session's workflow is that
one. A session's start and workflow are read from the spans of the file being loaded together with the
spans already stored, so a session split across files is kept or dropped whole. Spans left out are counted
in the ledger's ``rows_filtered``; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson

from agentops_audit.errors import InputError


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or date-time as naive UTC (a date is its midnight; no zone means UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text.strip()), datetime.min.time())
        except ValueError:
            raise InputError(
                f"expected an ISO date or date-time (e.g. 2026-11-09 or 2026-11-09T12:00Z), got {text!r}"
            ) from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    workflow: str | None = None

    def __post_init__(self):
        if self.since and self.until and self.since >= self.until:
            raise InputError(f"--since ({self.since.isoformat()}) must be before --until ({self.until.isoformat()})")

    @classmethod
    def of(
        cls, since: str | datetime | None = None, until: str | datetime | None = None, workflow: str | None = None
    ) -> Filters:
        def as_time(value):
            if isinstance(value, str):
                return parse_time(value)
            return value.astimezone(UTC).replace(tzinfo=None) if value is not None and value.tzinfo else value

        return cls(as_time(since), as_time(until), workflow or None)

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.since, self.until, self.workflow))

    def key(self) -> str:
        """The ledger's ``filters`` value: '' without filters, else canonical JSON. Re-ingesting a file
        is skipped only when the file and this key are the same."""
        if not self:
            return ""
        parts = {
            "since": self.since and self.since.isoformat(),
            "until": self.until and self.until.isoformat(),
            "workflow": self.workflow,
        }
        return orjson.dumps({k: v for k, v in parts.items() if v is not None}, option=orjson.OPT_SORT_KEYS).decode()

    def kept_sql(self) -> tuple[str, list]:
        """A query over the staging table ``_stage`` giving (_line, _idx) of the spans kept."""
        conditions, params = [], []
        if self.since is not None:
            conditions.append("started_at >= ?")
            params.append(self.since)
        if self.until is not None:
            conditions.append("started_at < ?")
            params.append(self.until)
        if self.workflow is not None:
            conditions.append("session_workflow = ?")
            params.append(self.workflow)
        return (
            f"""
            WITH trace_sessions AS (
                SELECT trace_id, min(session_id) AS trace_session FROM (
                    SELECT trace_id, session_id FROM _stage WHERE session_id IS NOT NULL
                    UNION ALL
                    SELECT trace_id, session_id FROM spans
                    WHERE session_id IS NOT NULL AND trace_id IN (SELECT trace_id FROM _stage)
                ) GROUP BY trace_id
            ), staged AS (
                SELECT s._line, s._idx, s.start_time, s.workflow,
                       coalesce(s.session_id, t.trace_session, s.trace_id) AS session_key
                FROM _stage s LEFT JOIN trace_sessions t USING (trace_id)
            ), sessions AS (
                SELECT session_key, min(start_time) AS started_at,
                       any_value(workflow) FILTER (WHERE workflow IS NOT NULL) AS session_workflow
                FROM (SELECT session_key, start_time, workflow FROM staged
                      UNION ALL
                      SELECT session_key, start_time, workflow FROM span_sessions
                      WHERE session_key IN (SELECT session_key FROM staged))
                GROUP BY session_key
            )
            SELECT _line, _idx FROM staged JOIN sessions USING (session_key)
            WHERE {" AND ".join(conditions)}
        """,
            params,
        )
