"""A YAML reader that keeps the line of every field, and the type checks that fail with
``file:line: field: problem`` (``ManifestError``)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import yaml

from agentops_audit.manifest.model import Entry, ManifestError


def read_yaml(path: Path, what: str) -> tuple[Any, dict[str, int], str]:
    """(data, line of every field path, sha256) of a YAML file; errors name the file and the line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: {what} is not UTF-8 text") from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ManifestError(f"{path}:{line}: invalid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    if node is not None:
        mark_lines(path, node, "", lines)
    return data, lines, hashlib.sha256(raw).hexdigest()


def mark_lines(path: Path, node: yaml.Node, prefix: str, lines: dict[str, int]) -> None:
    """Record the line of every field: the line of its key in a mapping, of the item in a list."""
    lines.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name == "<<":
                continue
            child = f"{prefix}.{name}" if prefix else name
            if name in seen:
                raise ManifestError(f"{path}:{key.start_mark.line + 1}: {child}: duplicate key")
            seen.add(name)
            lines[child] = key.start_mark.line + 1
            mark_lines(path, value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            mark_lines(path, value, f"{prefix}[{i}]", lines)


class Fields:
    """Type checks over one parsed file, each failing with ``file:line: field: problem``."""

    def __init__(self, path: Path, lines: dict[str, int]):
        self.path, self.lines = path, lines

    def line(self, key: str) -> int:
        while key and key not in self.lines:  # a missing field: report its parent's line
            key = key.rsplit(".", 1)[0] if "." in key else ""
        return self.lines.get(key, 1)

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ManifestError(f"{self.path}:{self.line(key)}: {key or '(top level)'}: {problem}")

    def mapping(self, value, key: str, known: tuple[str, ...] | None = None, required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping, got {kind_of(value)}")
        for name in value:
            if not isinstance(name, str):
                self.fail(key, f"keys must be text, got {name!r}")
        if known is not None:
            unknown = [k for k in value if k not in known]
            if unknown:
                where = f"{key}.{unknown[0]}" if key else unknown[0]
                self.fail(where, f"unknown field; known: {', '.join(known)}")
        for name in required:
            if value.get(name) is None:
                self.fail(f"{key}.{name}" if key else name, "required")
        return value

    def text(self, value, key: str, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected non-empty text, got {kind_of(value)}")
        return value.strip()

    def texts(self, value, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail(key, f"expected a non-empty list, got {kind_of(value)}")
        return tuple(self.text(v, f"{key}[{i}]") for i, v in enumerate(value))

    def number(self, value, key: str, low: float = 0, high: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"expected a number, got {kind_of(value)}")
        if value < low or (high is not None and value > high):
            self.fail(key, f"{value} is out of range ({low}..{high if high is not None else '∞'})")
        return float(value)

    def integer(self, value, key: str, low: int = 1, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected a whole number, got {kind_of(value)}")
        if value < low or (high is not None and value > high):
            self.fail(key, f"{value} is out of range ({low}..{high if high is not None else '∞'})")
        return value

    def day(self, value, key: str, optional: bool = False) -> date | None:
        if value is None and optional:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.fail(key, f"expected a date (YYYY-MM-DD), got {kind_of(value)}")

    def choice(self, value, key: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.fail(key, f"expected one of {', '.join(choices)}, got {kind_of(value)}")
        return value

    def boolean(self, value, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {kind_of(value)}")
        return value

    def link(self, value, key: str) -> str:
        text = self.text(value, key)
        if any(c.isspace() for c in text):
            self.fail(key, "a link has no spaces (a URL or a path)")
        return text

    def entry(
        self, value, key: str, known: tuple[str, ...], date_key: str = "date", date_optional: bool = False
    ) -> Entry:
        """An attested entry: ``owner``, a date (``date_key``) and ``link`` are required."""
        raw = self.mapping(value, key, known=("owner", date_key, "link", *known), required=("owner", "link"))
        if date_key not in raw and not date_optional:
            self.fail(f"{key}.{date_key}", "required")
        return Entry(
            field=key,
            line=self.line(key),
            owner=self.text(raw["owner"], f"{key}.owner"),
            date=self.day(raw.get(date_key), f"{key}.{date_key}", optional=date_optional),
            link=self.link(raw["link"], f"{key}.link"),
            data={k: v for k, v in raw.items() if k not in ("owner", date_key, "link")},
        )


def kind_of(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
