"""Input files: expand paths, globs and directories; open plain or gzip; read numbered lines."""

from __future__ import annotations

import glob
import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"


class InputError(Exception):
    """An expected problem with the user's input (unreadable path, unknown format, bad mapping)."""


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
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: corrupt gzip stream ({exc})") from exc
    return data


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
