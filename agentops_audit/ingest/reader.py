"""Input files: expand paths, globs and directories; open plain or gzip; read numbered lines, whole or
in blocks of complete lines (so a large file is never held in memory at once)."""

from __future__ import annotations

import glob
import gzip
import hashlib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from agentops_audit.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


def expand(paths: list[str]) -> list[Path]:
    """Files named by ``paths`` (files, globs or directories), sorted and de-duplicated."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            found.append(p)
        else:
            matches = sorted(Path(m) for m in glob.glob(raw, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError(f"no such file, directory or glob match: {raw}")
            found.extend(matches)
    seen, unique = set(), []
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it is gzip (by magic bytes, whatever its name)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: corrupt gzip stream ({exc})") from exc
    return data


def open_binary(path: Path) -> BinaryIO:
    """The file opened for reading, through gunzip when it is gzip (by magic bytes)."""
    try:
        with path.open("rb") as fh:
            gz = fh.read(2) == GZIP_MAGIC
        return gzip.open(path, "rb") if gz else path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of the file's content (gunzipped when it is gzip)."""
    with open_binary(path) as fh:
        try:
            return fh.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: corrupt gzip stream ({exc})") from exc


def line_blocks(path: Path, block_bytes: int = 16 << 20) -> Iterator[tuple[int, bytes, int]]:
    """(number of the block's first line, block, bytes of the file read so far) over the file's content:
    each block holds whole lines (about ``block_bytes``, more when one line is longer) and every block but
    the last ends with a newline. For gzip, the bytes read are of the compressed file."""
    number, pending = 1, []  # pending: the start of a line that has not ended yet
    with open_binary(path) as fh:
        raw = getattr(fh, "fileobj", fh)
        while True:
            try:
                chunk = fh.read(block_bytes)
            except (OSError, EOFError, zlib.error) as exc:
                raise InputError(f"{path}: corrupt gzip stream ({exc})") from exc
            if not chunk:
                break
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:
                pending.append(chunk)
                continue
            block = b"".join([*pending, chunk[:cut]]) if pending else chunk[:cut] if cut < len(chunk) else chunk
            pending = [chunk[cut:]] if cut < len(chunk) else []
            yield number, block, raw.tell()
            number += block.count(b"\n")
        if pending:
            yield number, b"".join(pending), raw.tell()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def numbered_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for every non-blank line, 1-based."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            yield number, line
