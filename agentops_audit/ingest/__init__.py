"""Ingest trace exports into the canonical audit database.

``ADAPTERS`` (bottom of this module) is the registry of input formats. Each adapter sniffs a file's
first bytes and reads it into canonical rows or quarantine records; ``loader`` does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from agentops_audit.errors import InputError
from agentops_audit.ingest import (
    evals,
    langfuse,
    mlflow,
    openinference,
    otlp,
    otlp_logs,
    otlp_sql,
    session_registry,
    tabular,
    transcripts,
)
from agentops_audit.ingest.canonical import Quarantined
from agentops_audit.ingest.convert import sniff_head
from agentops_audit.ingest.filters import Filters
from agentops_audit.ingest.loader import FastPath, SourceSummary, load_file, load_records
from agentops_audit.ingest.postload import settle
from agentops_audit.ingest.reader import expand, read_bytes, read_head

SNIFF_BYTES = 64 * 1024
PROGRESS_DELAY = 1.0  # seconds before the progress bar appears: short ingests show none


@dataclass(frozen=True)
class Adapter:
    name: str
    description: str
    sniff: Callable[[bytes], bool]
    read: Callable[[Path, bytes, dict], Iterator[dict | Quarantined]]
    load: FastPath | None = None  # optional fast path, tried first (see loader.load_file)


SNIFF_WHOLE_BYTES = 256 << 20  # a JSON document no adapter recognises by its head is parsed whole up to this size


def sniff(path: Path) -> str | None:
    """The name of the first adapter that recognises the file, or None."""
    head = read_head(path, SNIFF_BYTES)  # a large export is not read whole just to sniff it
    if head[:4] == b"PAR1":
        head = sniff_head(read_bytes(path), SNIFF_BYTES)  # for Parquet, with the column names from its footer
    for adapter in ADAPTERS.values():
        if adapter.sniff(head):
            return adapter.name
    if head.lstrip()[:1] == b"{" and path.stat().st_size <= SNIFF_WHOLE_BYTES:
        # one JSON object whose header hides what follows (a benchmark's results file: info, tasks, then the
        # conversations): recognised by its shape
        try:
            doc = orjson.loads(read_bytes(path))
        except orjson.JSONDecodeError:
            return None
        if transcripts.sniff_document(doc):
            return transcripts.NAME
    return None


def ingest(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    fmt: str | None = None,
    options: dict | None = None,
    echo: Callable[[str], None] | None = None,
    filters: Filters | None = None,
    progress: bool = False,
) -> list[SourceSummary]:
    """Load every file named by ``paths``; one summary per file. Raises InputError before loading
    anything when a path does not exist or the format is unknown. ``filters`` keeps only the sessions
    in a time window or of one workflow (``ingest.filters``); ``progress`` shows a progress bar on
    stderr when it is a terminal and the ingest takes more than a second."""
    if fmt is not None and fmt not in ADAPTERS:
        raise InputError(f"unknown format {fmt!r}; known formats: {', '.join(ADAPTERS)}")
    if fmt is None and (options or {}).get("transcript") is not None:
        fmt = transcripts.NAME  # a mapping with a transcript section is about chat transcripts
    files = expand(paths)
    summaries = []
    bar = _progress_bar(files) if progress else None
    done = 0
    for path in files:
        advance = None
        if bar is not None:

            def advance(position: int, _start: int = done) -> None:
                bar.update(max(0, _start + position - bar.n))  # never back: a restaged file reads again

        name, unreadable = fmt, None
        blank = False
        if name is None:
            try:
                blank = not read_head(path, SNIFF_BYTES).strip()
                name = None if blank else sniff(path)
            except InputError as exc:
                unreadable = str(exc)
        if blank:  # nothing to sniff: reported as empty, not an error (with --format it is loaded, and logged)
            summaries.append(SourceSummary(path=str(path), format=name or "?"))
        elif unreadable:
            summaries.append(SourceSummary(path=str(path), format="?", error=unreadable))
        elif name is None:
            summaries.append(
                SourceSummary(
                    path=str(path),
                    format="?",
                    error=f"format not recognised; pass --format (one of: {', '.join(ADAPTERS)})",
                )
            )
        elif name == session_registry.NAME:  # not spans: its own loader, same ledger rules
            summaries.append(session_registry.load_registry(con, path, options))
        elif name == evals.NAME:  # eval results, into the evals table: its own loader, same ledger rules
            summaries.append(evals.load(con, path, options))
        elif name == otlp_logs.NAME:  # log records, into log_events; their messages settle on their spans
            summaries.append(load_records(con, path, name, otlp_logs.read, otlp_logs.commit, options, after=settle))
        else:
            adapter = ADAPTERS[name]
            summaries.append(
                load_file(con, path, name, adapter.read, options, fast=adapter.load, filters=filters, progress=advance)
            )
        if bar is not None:
            done += _size(path)
            bar.update(done - bar.n)
        if echo and bar is not None:
            with bar.external_write_mode():  # the summary line above the bar, not through it
                echo(summaries[-1].line())
        elif echo:
            echo(summaries[-1].line())
    if bar is not None:
        bar.close()
    return summaries


def nothing_loaded(summaries: list[SourceSummary]) -> str | None:
    """The one-line error when no input file put anything in the database (an empty audit would follow),
    else None."""
    if any(s.contributed for s in summaries):
        return None
    kinds = {
        "failed": sum(bool(s.error) for s in summaries),
        "empty": sum(s.empty for s in summaries),
        "entirely quarantined": sum(s.all_quarantined for s in summaries),
        "left out by the filters": sum(bool(s.rows_filtered) and not s.rows_loaded for s in summaries),
    }
    detail = ", ".join(f"{n} {k}" for k, n in kinds.items() if n)
    files = f"{len(summaries)} file{'s' if len(summaries) != 1 else ''}"
    return f"nothing loaded from {files}" + (f" ({detail})" if detail else "") + "; see the lines above"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _progress_bar(files: list[Path]):
    """A byte-count progress bar on stderr, or None when stderr is not a terminal."""
    import sys

    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(
        total=sum(_size(f) for f in files),
        unit="B",
        unit_scale=True,
        desc="ingest",
        delay=PROGRESS_DELAY,
        file=sys.stderr,
        leave=False,
    )


ADAPTERS: dict[str, Adapter] = {
    otlp.NAME: Adapter(
        otlp.NAME,
        "OpenTelemetry OTLP JSON (file exporter JSON Lines or one document)",
        otlp.sniff,
        otlp.read,
        otlp_sql.load_large,
    ),
    otlp_logs.NAME: Adapter(
        otlp_logs.NAME,
        "OpenTelemetry OTLP JSON log records (collector file exporter JSON "
        "Lines): GenAI message events beside their spans",
        otlp_logs.sniff,
        otlp_logs.read,
    ),
    mlflow.NAME: Adapter(
        mlflow.NAME,
        "MLflow traces (Trace JSON, `mlflow traces search` output, search_traces() saved as JSON Lines or Parquet)",
        mlflow.sniff,
        mlflow.read,
    ),
    tabular.NAME: Adapter(
        tabular.NAME, "canonical spans written by this toolkit (Parquet, CSV, JSON Lines)", tabular.sniff, tabular.read
    ),
    langfuse.NAME: Adapter(
        langfuse.NAME, "Langfuse export of traces and observations (JSON, JSON Lines)", langfuse.sniff, langfuse.read
    ),
    openinference.NAME: Adapter(
        openinference.NAME,
        "OpenInference / Arize Phoenix span export (JSON Lines, Parquet)",
        openinference.sniff,
        openinference.read,
    ),
    evals.NAME: Adapter(
        evals.NAME,
        "evaluation results, one row per case, release and rubric item (JSON Lines, CSV, Parquet)",
        evals.sniff,
        evals.read,
    ),
    transcripts.NAME: Adapter(
        transcripts.NAME,
        "chat transcripts, one conversation per record (--mapping)",
        transcripts.sniff,
        transcripts.read,
    ),
    session_registry.NAME: Adapter(
        session_registry.NAME,
        "session registry: the application's list of sessions (CSV, JSON Lines)",
        session_registry.sniff,
        session_registry.read,
    ),
}
