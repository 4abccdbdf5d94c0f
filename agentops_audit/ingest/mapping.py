"""Mapping files (``--mapping``): validation, and the ``transcript`` section as a typed spec.

A mapping file is a YAML mapping. ``attributes`` puts a source's own attribute names first for the
canonical columns (see ``canonical.extend_map``); ``transcript`` says where a chat-transcript record
keeps its session id, messages, outcome, cost, timestamps and workflow (README, "Mapping files").
Every problem is one ``InputError`` naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from agentops_audit.errors import InputError, check_keys
from agentops_audit.ingest.canonical import COLUMNS
from agentops_audit.ingest.convert import dig

OUTCOMES = ("success", "failure", "escalated")
# a message's fields, each read from the key of the same name unless the mapping's transcript.message renames it
MESSAGE_FIELDS = {
    f: f for f in ("role", "content", "timestamp", "usage", "cost", "model", "tool_calls", "tool_call_id")
}
_PATH_FIELDS = ("records", "messages", "cost", "started_at")
_SOURCE_FIELDS = ("session_id", "workflow", "model", "agent_name")


class MappingError(InputError):
    """A mapping file that cannot be used: names the field and what is wrong with it."""


@dataclass(frozen=True)
class Source:
    """Where a text value comes from: dotted paths and constants, joined with ':' when there are several."""

    parts: tuple[tuple[str, object], ...]  # ("path", "a.b") or ("value", constant)

    def resolve(self, record) -> str | None:
        """The joined value, or None when a path part is absent."""
        out = []
        for kind, item in self.parts:
            value = item if kind == "value" else dig(record, item)
            if value is None or isinstance(value, dict | list):
                return None
            out.append(str(value))
        return ":".join(out)

    def describe(self) -> str:
        return "+".join(str(item) if kind == "path" else repr(item) for kind, item in self.parts)


@dataclass(frozen=True)
class OutcomeRule:
    """How a conversation's outcome (a label or a reward) becomes success, failure or escalated."""

    path: str
    success_at_least: float | None = None
    values: dict = field(default_factory=dict)

    def resolve(self, raw) -> str | None:
        if raw is None:
            return None
        for key, outcome in self.values.items():
            if _same(key, raw):
                return outcome
        if self.success_at_least is not None and _is_number(raw):
            return "success" if float(raw) >= self.success_at_least else "failure"
        if isinstance(raw, bool):
            return "success" if raw else "failure"
        if isinstance(raw, str) and raw.strip().lower() in OUTCOMES:
            return raw.strip().lower()
        return None


@dataclass(frozen=True)
class TranscriptSpec:
    records: str | None = None
    session_id: Source | None = None
    messages: str | None = None
    outcome: OutcomeRule | None = None
    cost: str | None = None
    started_at: str | None = None
    workflow: Source | None = None
    model: Source | None = None
    agent_name: Source | None = None
    message: dict = field(default_factory=lambda: dict(MESSAGE_FIELDS))


TRANSCRIPT_FIELDS = tuple(f.name for f in fields(TranscriptSpec))  # the keys of a mapping's transcript


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(key, raw) -> bool:
    if _is_number(raw) and not isinstance(key, bool):
        try:
            return float(key) == float(raw)
        except (TypeError, ValueError):
            return False
    return str(key).strip().lower() == str(raw).strip().lower()


def _path(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or any(not p for p in value.split(".")):
        raise MappingError(f"{where} must be a dotted path such as 'info.reward', got {value!r}")
    return value.strip()


def _source(value, where: str) -> Source:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise MappingError(f"{where} must name at least one path or {{value: ...}}")
    parts = []
    for item in items:
        if isinstance(item, dict):
            if set(item) != {"value"} or isinstance(item["value"], dict | list) or item["value"] is None:
                raise MappingError(f"{where}: a constant is written {{value: TEXT}}, got {item!r}")
            parts.append(("value", item["value"]))
        else:
            parts.append(("path", _path(item, where)))
    return Source(tuple(parts))


def _outcome(value, where: str) -> OutcomeRule:
    if isinstance(value, str):
        return OutcomeRule(_path(value, where))
    if not isinstance(value, dict):
        raise MappingError(f"{where} must be a dotted path or a mapping with 'path'")
    check_keys(value, ("path", "success_at_least", "values"), where, MappingError)
    if "path" not in value:
        raise MappingError(f"{where}.path is required")
    threshold = value.get("success_at_least")
    if threshold is not None and not _is_number(threshold):
        raise MappingError(f"{where}.success_at_least must be a number, got {threshold!r}")
    values = value.get("values") or {}
    if not isinstance(values, dict):
        raise MappingError(f"{where}.values must map raw values to one of {', '.join(OUTCOMES)}")
    for raw, outcome in values.items():
        if outcome not in OUTCOMES:
            raise MappingError(f"{where}.values.{raw} must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    return OutcomeRule(
        _path(value["path"], f"{where}.path"), None if threshold is None else float(threshold), dict(values)
    )


def transcript_spec(options: dict | None) -> TranscriptSpec:
    """The ``transcript`` section of a mapping as a spec (defaults when absent). Raises MappingError."""
    section = (options or {}).get("transcript")
    if section is None:
        return TranscriptSpec()
    if not isinstance(section, dict):
        raise MappingError("transcript must be a mapping of field names to paths")
    check_keys(section, TRANSCRIPT_FIELDS, "transcript", MappingError)
    args: dict = {}
    for name in _PATH_FIELDS:
        if section.get(name) is not None:
            args[name] = _path(section[name], f"transcript.{name}")
    for name in _SOURCE_FIELDS:
        if section.get(name) is not None:
            args[name] = _source(section[name], f"transcript.{name}")
    if section.get("outcome") is not None:
        args["outcome"] = _outcome(section["outcome"], "transcript.outcome")
    message = section.get("message")
    if message is not None:
        if not isinstance(message, dict):
            raise MappingError("transcript.message must map message fields to names")
        check_keys(message, MESSAGE_FIELDS, "transcript.message", MappingError)
        names = dict(MESSAGE_FIELDS)
        for key, value in message.items():
            names[key] = _path(value, f"transcript.message.{key}")
        args["message"] = names
    return TranscriptSpec(**args)


def _attributes(section) -> None:
    if not isinstance(section, dict):
        raise MappingError("attributes must map canonical columns to lists of attribute names")
    for column, names in section.items():
        if column not in COLUMNS:
            raise MappingError(f"attributes.{column} is not a canonical column")
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise MappingError(f"attributes.{column} must be a list of attribute names")


def validate(raw: dict, source: str) -> dict:
    """Check every section this module knows; return ``raw``. Errors read 'FILE: FIELD problem'."""
    try:
        if raw.get("attributes") is not None:
            _attributes(raw["attributes"])
        transcript_spec(raw)
    except MappingError as exc:
        raise MappingError(f"{source}: {exc}") from None
    return raw
