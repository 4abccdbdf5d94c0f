"""The fast path of the OTLP reader: JSON Lines parsed and flattened by DuckDB, streamed a block at a time.

Python reads the file in blocks of whole lines (``reader.line_blocks``), numbers the lines, skips blank
ones, quarantines the ones that are not UTF-8 (as ``documents.json_documents`` does) and streams the rest
to DuckDB as Arrow record batches of strings over the blocks' own bytes. One INSERT over the whole file
(``insert_sql``) then

1. validates each line (``json_valid``) and parses it once with ``from_json`` against the OTLP shape,
   keeping every leaf as raw JSON text so its type can be checked;
2. unnests batches, scopes and spans, keeping each span's index in its line (the ``#n`` of its locator);
3. writes each span's attribute object as JSON text from the tagged values (span attributes first, then
   the batch's resource attributes as ``resource.*``: the first of a repeated name wins, as in
   ``otlp.attributes_of``) and reads the mapped attributes back out of it with one more ``from_json``;
4. writes canonical rows (into ``spans`` itself, or the staging table: see ``stage.Stage``), plus one
   marker row for every record it does not load itself: a line that is
   not JSON (quarantined), a span that breaks a span-level rule (missing or invalid ids, start before
   2000, end before start: quarantined with the reason and ``file:line#n`` locator ``otlp.span_row``
   gives), and a line or span it cannot convert exactly as the reference reader does (base64 ids,
   events, snake_case keys, kvlist values, an intValue that is not an integer, ...): ``_finish``
   converts those with ``otlp`` from the same line (read again), so the rows are the same either way.

DuckDB's JSON reader accepts NaN and Infinity literals, which orjson rejects. A line with one where a
span's field or attribute value should be goes to the reference reader, which quarantines it as invalid
JSON as ``otlp.read`` does; one in a field the reader does not use (a scope's version, an unknown key)
is loaded. A line with a trailing comma goes to the reference reader.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from agentops_audit.db import scalar
from agentops_audit.ingest import otlp
from agentops_audit.ingest.canonical import Quarantined, extend_map
from agentops_audit.ingest.otlp_sql_build import (
    _WHITESPACE,
    BATCH_BYTES,
    BLOCK_BYTES,
    INVALID_JSON,
    PYTHON_LINE,
    PYTHON_SPAN,
    insert_sql,
    supported,
)
from agentops_audit.ingest.reader import line_blocks


class _Block:
    """One block of lines: their numbers and byte ranges, which to skip, and the Arrow view of the rest."""

    def __init__(self, first: int, data: bytes, position: int = 0):
        self.data, self.position = data, position  # position: bytes of the file (as stored) read so far
        buf = np.frombuffer(data, dtype=np.uint8)
        starts = np.concatenate(([0], np.flatnonzero(buf == 10) + 1)).astype(np.int64)
        if starts[-1] == len(data):  # a final newline ends the last line; it does not start another
            starts = starts[:-1]
        self.offsets = np.append(starts, np.int64(len(data)))
        self.numbers = np.arange(first, first + len(starts), dtype=np.int64)
        ends = self.offsets[1:]
        self.keep = np.ones(len(starts), dtype=bool)
        candidates = np.flatnonzero(
            np.isin(buf[np.minimum(starts, max(len(data) - 1, 0))], _WHITESPACE) | (ends == starts)
        )
        for i in candidates:  # a line starting with whitespace: blank only if it is all whitespace
            if not data[starts[i] : ends[i]].strip():
                self.keep[i] = False

    def line(self, i: int) -> bytes:
        return self.data[self.offsets[i] : self.offsets[i + 1]].rstrip(b"\n")

    def nonblank(self) -> int:
        return int(self.keep.sum())

    def not_utf8(self, name: str) -> list[Quarantined]:
        """Drop the lines that are not UTF-8; their quarantine records, as ``documents.json_documents``
        gives them."""
        if self.data.isascii():
            return []
        try:
            self.data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return []
        from agentops_audit.ingest.documents import bad_line

        bad = []
        for i in np.flatnonzero(self.keep):
            line = self.line(i)
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.keep[i] = False
                bad.append(bad_line(f"{name}:{self.numbers[i]}", line, exc))
        return bad

    def batches(self) -> list[pa.RecordBatch]:
        """The kept lines as Arrow record batches of about BATCH_BYTES, over the block's own bytes."""
        n = len(self.numbers)
        text = pa.LargeStringArray.from_buffers(n, pa.py_buffer(self.offsets), pa.py_buffer(self.data))
        table = pa.table({"line_no": pa.array(self.numbers), "text": text})
        table = table if self.keep.all() else table.filter(pa.array(self.keep))
        rows = max(1, int(BATCH_BYTES * len(table) / max(len(self.data), 1)))
        return table.to_batches(max_chunksize=rows)


_LINES = pa.schema([("line_no", pa.int64()), ("text", pa.large_string())])


def _blocks(path: Path):
    """Blocks with at least one non-blank line; blank-only blocks are dropped."""
    for first, data, position in line_blocks(path, BLOCK_BYTES):
        block = _Block(first, data, position)
        if block.nonblank():
            yield block


FAST_PATH_MIN_BYTES = 1 << 20  # below this, planning the fast path's query costs more than it saves


def load_large(con, path: Path, stage, options: dict) -> bool:
    """The fast path (``load``) for files of FAST_PATH_MIN_BYTES or more; False when ``otlp.read`` must do
    it (a small file, a file that is not JSON Lines, a mapping the fast path cannot apply)."""
    if path.stat().st_size < FAST_PATH_MIN_BYTES:
        return False
    return load(con, path, stage, options)


def load(con, path: Path, stage, options: dict) -> bool:
    """Stage every record of a JSON Lines OTLP file through ``stage`` with one INSERT over the whole file
    (its lines stream in as Arrow batches), then let the reference reader convert the records marked for
    it. False, with nothing staged, when the file is not JSON Lines (its first non-blank line is not a JSON
    value on its own: ``otlp.read`` parses such a file whole) or the mapping needs the reference reader."""
    mapping = extend_map(options.get("attributes"))
    if not supported(mapping):
        return False
    blocks = _blocks(path)
    first = next(blocks, None)
    if first is None:
        return True
    head = int(np.flatnonzero(first.keep)[0])
    try:
        orjson.loads(first.line(head))
    except orjson.JSONDecodeError:
        return False
    pending, shift = [first], 0
    if first.nonblank() == 1:
        second = next(blocks, None)
        if second is None:  # one document in the file: its locator is line 1, as json_documents gives it
            shift = int(first.numbers[head]) - 1
            first.numbers = first.numbers - shift
        else:
            pending.append(second)

    def batches():
        for block in itertools.chain(pending, blocks):
            for record in block.not_utf8(path.name):
                stage.quarantine(record, int(record.locator.rsplit(":", 1)[1]), -1)
            if block.keep.any():
                yield from block.batches()
            stage.advance(block.position)

    con.register("_otlp_lines", pa.RecordBatchReader.from_batches(_LINES, batches()))
    try:
        staged = scalar(con, insert_sql(mapping, stage.source_id, stage.direct))
    finally:
        con.unregister("_otlp_lines")
    _finish(con, path, stage, mapping, staged, shift)
    return True


def _finish(con, path: Path, stage, mapping, staged: int, shift: int) -> None:
    """Move the marker rows out of the stage: quarantine them, or convert them with the reference reader
    from their lines (read again from the file)."""
    markers = stage.take_markers()
    stage.counted(staged - len(markers))
    if not markers:
        return
    lines = _lines(path, {int(m[0]) + shift for m in markers})
    docs: dict[int, tuple[object, list]] = {}

    def doc(number: int):
        if number not in docs:
            parsed = orjson.loads(lines[number + shift])
            docs[number] = parsed, list(otlp.spans_of(otlp.batches_of(parsed) or []))
        return docs[number]

    lenient: set[int] = set()  # lines DuckDB parsed but orjson rejects (NaN, trailing commas): invalid JSON
    for number, idx, reason in markers:
        number, locator = int(number), f"{path.name}:{number}"
        if number in lenient:
            continue
        head = lines[number + shift][:300].decode("utf-8", errors="replace")
        if reason == INVALID_JSON:
            stage.quarantine(Quarantined(locator, reason, head), number, -1)
            continue
        try:
            parsed, spans = doc(number)
        except orjson.JSONDecodeError:
            lenient.add(number)
            stage.drop_line(number)
            stage.quarantine(Quarantined(locator, INVALID_JSON, head), number, -1)
            continue
        if reason == PYTHON_LINE:
            for index, record in otlp.doc_records(parsed, locator, mapping):
                _stage_record(stage, record, number, index)
            continue
        span, resource = spans[idx]  # an IndexError here is a bug: DuckDB and otlp.spans_of disagree
        if reason == PYTHON_SPAN:
            _stage_record(stage, otlp.span_row(span, resource, f"{locator}#{idx}", mapping), number, idx)
        else:
            stage.quarantine(Quarantined(f"{locator}#{idx}", reason, otlp.excerpt_of(span)), number, idx)


def _lines(path: Path, wanted: set[int]) -> dict[int, bytes]:
    """The file's lines numbered in ``wanted`` (one more pass over the file, stopping after the last)."""
    found, last = {}, max(wanted)
    for first, data, _ in line_blocks(path, BLOCK_BYTES):
        block = _Block(first, data)
        for number in wanted.intersection(range(first, first + len(block.numbers))):
            found[number] = block.line(number - first)
        if first + len(block.numbers) > last:
            break
    return found


def _stage_record(stage, record, number: int, idx: int) -> None:
    if isinstance(record, Quarantined):
        stage.quarantine(record, number, idx)
    else:
        stage.add(record, number, idx)
