"""Ingest trace exports into the canonical audit database.

``ADAPTERS`` (bottom of this module) is the registry of input formats. Each adapter sniffs a file's
first bytes and reads it into canonical rows or quarantine records; ``loader`` does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from agentops_audit.ingest import otlp
from agentops_audit.ingest.canonical import Quarantined
from agentops_audit.ingest.loader import SourceSummary, load_file
from agentops_audit.ingest.reader import InputError, expand, read_bytes

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Adapter:
    name: str
    description: str
    sniff: Callable[[bytes], bool]
    read: Callable[[Path, bytes, dict], Iterator[dict | Quarantined]]


def sniff(path: Path) -> str | None:
    """The name of the first adapter that recognises the file, or None."""
    head = read_bytes(path)[:SNIFF_BYTES]
    for adapter in ADAPTERS.values():
        if adapter.sniff(head):
            return adapter.name
    return None


def ingest(con: duckdb.DuckDBPyConnection, paths: list[str], fmt: str | None = None,
           options: dict | None = None, echo: Callable[[str], None] | None = None) -> list[SourceSummary]:
    """Load every file named by ``paths``; one summary per file. Raises InputError before loading
    anything when a path does not exist or the format is unknown."""
    if fmt is not None and fmt not in ADAPTERS:
        raise InputError(f"unknown format {fmt!r}; known formats: {', '.join(ADAPTERS)}")
    files = expand(paths)
    summaries = []
    for path in files:
        name = fmt
        if name is None:
            try:
                name = sniff(path)
            except InputError as exc:
                summaries.append(SourceSummary(path=str(path), format="?", error=str(exc)))
                continue
        if name is None:
            summaries.append(SourceSummary(
                path=str(path), format="?",
                error=f"format not recognised; pass --format (one of: {', '.join(ADAPTERS)})"))
        else:
            summaries.append(load_file(con, path, name, ADAPTERS[name].read, options))
        if echo:
            echo(summaries[-1].line())
    return summaries


ADAPTERS: dict[str, Adapter] = {
    otlp.NAME: Adapter(otlp.NAME, "OpenTelemetry OTLP JSON (file exporter JSON Lines or one document)",
                       otlp.sniff, otlp.read),
}
