"""``ingest --from phoenix URL --project P`` and ``ingest --from mlflow URI --experiment E``: pull traces
from where they live, page by page, through the same ingest as exported files.

Each page is written, as the server returned it, to a file under the pages directory (default
``DB.pulls/``), in a shape a reader already reads (Phoenix's REST span page: ``openinference``; MLflow's
``Trace.to_json()`` per line: ``mlflow``), and loaded with ``ingest.ingest``: the ledger (``sources``) has
one row per page file, with its sha256, so the audit can be verified against the pulled pages. The
``pulls`` table has one row per pull (window, pages, the sum of its pages' ledger rows, where it started
and where the next pull resumes) and ``pull_pages`` one row per page.

Resuming: a pull starts where the last complete pull of the same source ended, unless ``--since`` is
given (then it pulls from there; ``--until`` bounds any pull).
- Phoenix: by insertion order (``sort=id&order=asc``): the next pull reads the spans Phoenix stored after
  the last one read, whatever their start time, so a span that arrives late is not missed.
- MLflow: by trace start time (``timestamp_ms``), which is all MLflow searches on. The next pull starts
  ``overlap`` seconds (default 3600) before the latest trace start it read, and not after the start of a
  trace it read still in progress, so a trace that finishes later is read again whole; traces read twice
  count as duplicates in the ledger. A trace that takes longer than the overlap to reach the store is
  missed.
A pull that fails part-way keeps the pages it loaded and is recorded ``interrupted``; the next pull
starts from the same point as it did (its pages count as duplicates, or are skipped when identical).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from agentops_audit.errors import InputError
from agentops_audit.integrations.sources import DEFAULT_OVERLAP_S, DEFAULT_PAGE_SIZE, KINDS, Page, PullError, Request

__all__ = ["DEFAULT_OVERLAP_S", "DEFAULT_PAGE_SIZE", "KINDS", "Page", "PullError", "PullResult", "Request", "run"]

TOTALS = ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined", "rows_filtered")


@dataclass
class PullResult:
    pull_id: int
    source: str
    pages: int
    resumed_from: str | None
    mark: str | None
    totals: dict

    def line(self) -> str:
        t = self.totals
        start = describe(self.source.split(" ", 1)[0], self.resumed_from)
        kind = self.source.split(" ", 1)[0]
        filtered = f", filtered {t['rows_filtered']}" if t["rows_filtered"] else ""
        return (
            f"pull {self.pull_id} of {self.source} ({start}): {self.pages} page{'s' if self.pages != 1 else ''}, "
            f"read {t['rows_read']}, loaded {t['rows_loaded']}, duplicate {t['rows_duplicate']}, "
            f"quarantined {t['rows_quarantined']}{filtered}; the next pull starts {describe(kind, self.mark)}"
        )


def describe(kind: str, mark: str | None) -> str:
    """Where a pull starts, in words."""
    if not mark:
        return "from the start"
    if kind == "phoenix":
        return f"after Phoenix span row {mark}"
    moment = datetime.fromtimestamp(int(mark) / 1000, UTC).isoformat(timespec="seconds")
    return f"at traces started after {moment} less the overlap"


def last_mark(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    rows = con.execute(
        "SELECT mark FROM pulls WHERE source = ? AND status = 'complete' AND mark IS NOT NULL "
        "ORDER BY pull_id DESC LIMIT 1",
        [source],
    ).fetchall()
    return rows[0][0] if rows else None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80]


def run(
    con: duckdb.DuckDBPyConnection, req: Request, db_path: str | Path, echo: Callable[[str], None] | None = print
) -> PullResult:
    """Pull ``req`` into the database behind ``con``; see the module docstring."""
    from agentops_audit import ingest

    fetch = _fetcher(req.kind)
    resumed_from = None if req.since else last_mark(con, req.source)
    fetched = fetch(req, resumed_from)
    first = next(fetched, None)  # a server that cannot be read fails here, before a pull is recorded
    pull_id = con.execute("SELECT coalesce(max(pull_id), 0) + 1 FROM pulls").fetchall()[0][0]
    folder = Path(req.pages_dir or f"{db_path}.pulls") / _slug(req.source)
    folder.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        "INSERT INTO pulls (pull_id, source, window_start, window_end, resumed_from, status, pages, "
        "rows_read, rows_loaded, rows_duplicate, rows_quarantined, rows_filtered, started_at) "
        "VALUES (?, ?, ?, ?, ?, 'running', 0, 0, 0, 0, 0, 0, ?)",
        [pull_id, req.source, req.since, req.until, resumed_from, started],
    )
    totals = dict.fromkeys(TOTALS, 0)
    pages, mark, status = 0, resumed_from, "interrupted"
    try:
        for page in itertools.chain([first] if first else [], fetched):
            pages += 1
            path = folder / f"pull-{pull_id:05d}-page-{pages:05d}.{page.suffix}"
            path.write_bytes(page.payload)
            summary = ingest.ingest(con, [str(path)], fmt=_FORMATS[req.kind], filters=req.filters or None)[0]
            if echo:
                echo(summary.line())
            if summary.error:
                raise PullError(f"page {pages} of {req.source} could not be loaded: {summary.error}")
            for key in TOTALS:
                totals[key] += getattr(summary, key)
            source_id = con.execute(
                "SELECT max(source_id) FROM sources WHERE sha256 = ?",  # the row of this content
                [summary.sha256],
            ).fetchall()[0][0]
            con.execute(
                "INSERT INTO pull_pages VALUES (?, ?, ?, ?, ?)", [pull_id, pages, source_id, str(path), page.records]
            )
            mark = page.mark or mark
        status = "complete"
    finally:
        con.execute(
            "UPDATE pulls SET status = ?, pages = ?, mark = ?, rows_read = ?, rows_loaded = ?, "
            "rows_duplicate = ?, rows_quarantined = ?, rows_filtered = ?, finished_at = ? WHERE pull_id = ?",
            [
                status,
                pages,
                mark if status == "complete" else None,
                *(totals[k] for k in TOTALS),
                datetime.now(UTC).replace(tzinfo=None),
                pull_id,
            ],
        )
    return PullResult(pull_id, req.source, pages, resumed_from, mark, totals)


def _fetcher(kind: str) -> Callable[[Request, str | None], Iterator[Page]]:
    if kind == "phoenix":
        from agentops_audit.integrations.phoenix import pages
    elif kind == "mlflow":
        from agentops_audit.integrations.mlflow_pull import pages
    else:
        raise InputError(f"--from takes one of {', '.join(KINDS)}, not {kind!r}")
    return pages


_FORMATS = {"phoenix": "openinference", "mlflow": "mlflow"}
