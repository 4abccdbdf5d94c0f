"""The expected errors: bad input the command line reports as one clear line, never a traceback.

Every part raises these (or a subclass naming its file and field: ``ManifestError``, ``MappingError``,
``PullError``); ``cli.main`` catches them. They live here, at the bottom of the layers, so that reading a
config or a manifest does not import the ingest package for its error class.
"""

from __future__ import annotations

from collections.abc import Iterable


class InputError(Exception):
    """An expected problem with the user's input (unreadable path, unknown format, bad mapping)."""


class UsageError(Exception):
    """A command line that cannot run as given: printed as one line, exit code 2."""


def check_keys(section: dict, known: Iterable[str], where: str, error: type[Exception] = InputError) -> None:
    """Raise ``error`` naming the first key of ``section`` (a setting, a mapping field) that is not in ``known``,
    as ``<where>.<key> is not a known key (known: ...)``."""
    known = tuple(known)
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise error(f"{where}.{unknown[0]} is not a known key (known: {', '.join(known)})")
