"""The derived views of ``metrics/views/*.sql``: what each file creates and reads, in dependency order.

Every view file opens with header lines (SQL comments), in the style of the metric and evidence headers::

    -- creates: task_facts
    -- reads: metered_spans, sessions, audit_model_map

``creates`` names the TEMP table(s) or view(s) the file makes; ``reads`` every table or view it selects from:
the canonical schema's (``schema.sql``), the audit's input tables (``INPUT_TABLES``) and
those other view files create. This module is the one reader of those headers: the audit
(``params.install``), the evidence queries and the explorer (``plan``) and the Spark engine
(``agentops_audit.engine``) run the files in the order ``ordered`` gives, so a new view needs no file-name
prefix to run after the views it reads. A cycle, a table two files create, or a read that nothing provides
is a ValueError that names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

VIEWS_DIR = Path(__file__).parent / "views"
# the audit's input tables, which metrics/params.py ``install_inputs`` creates before the views run
INPUT_TABLES = (
    "audit_prices",
    "audit_limits",
    "audit_generic_words",
    "audit_allowlist",
    "audit_routing",
    "audit_small_models",
    "audit_tool_classes",
)
SCHEMA = Path(__file__).resolve().parent.parent / "schema.sql"
_HEADER = re.compile(r"^--\s*(creates|reads):\s*(.*)$")
_SCHEMA_OBJECT = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True)
class ViewFile:
    path: Path
    creates: tuple[str, ...]
    reads: tuple[str, ...]
    sql: str

    @property
    def name(self) -> str:
        return self.path.name


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def parse(path: Path) -> ViewFile:
    """One view file and its header; ValueError when ``creates`` is missing."""
    sql = path.read_text()
    header: dict[str, tuple[str, ...]] = {}
    for line in sql.splitlines():
        m = _HEADER.match(line.strip())
        if not m:
            break
        header[m.group(1)] = header.get(m.group(1), ()) + _names(m.group(2))
    if not header.get("creates"):
        raise ValueError(f"{path.name}: view header lacks '-- creates: <table>'")
    return ViewFile(path=path, creates=header["creates"], reads=header.get("reads", ()), sql=sql)


@cache
def schema_objects() -> frozenset[str]:
    """The tables and views of the canonical schema (``schema.sql``)."""
    return frozenset(_SCHEMA_OBJECT.findall(SCHEMA.read_text()))


def ordered(files: list[ViewFile], provided: set[str] | frozenset[str]) -> list[ViewFile]:
    """``files`` in an order where each runs after the files creating what it reads (ties: file name).
    ``provided``: the names that exist before any view runs (schema, audit inputs). A view may read a
    schema name it also creates (a TEMP table shadowing the schema view of the same name)."""
    creator: dict[str, ViewFile] = {}
    for f in files:
        for name in f.creates:
            if name in creator:
                raise ValueError(f"{name} is created by both {creator[name].name} and {f.name}")
            creator[name] = f
    deps: dict[str, set[str]] = {}
    for f in sorted(files, key=lambda f: f.name):
        missing = [r for r in f.reads if r not in creator and r not in provided]
        if missing:
            raise ValueError(
                f"{f.name} reads {', '.join(missing)}, which no view file creates and the "
                "schema and audit inputs do not provide"
            )
        deps[f.name] = {creator[r].name for r in f.reads if r in creator and creator[r] is not f}
    out: list[ViewFile] = []
    done: set[str] = set()
    by_name = {f.name: f for f in files}
    while len(out) < len(files):
        ready = sorted(n for n in by_name if n not in done and deps[n] <= done)
        if not ready:
            stuck = sorted(n for n in by_name if n not in done)
            raise ValueError(f"the view files {', '.join(stuck)} read each other in a cycle")
        done.add(ready[0])
        out.append(by_name[ready[0]])
    return out


@cache
def views() -> tuple[ViewFile, ...]:
    """Every file of ``metrics/views``, in dependency order."""
    files = [parse(p) for p in VIEWS_DIR.glob("*.sql")]
    return tuple(ordered(files, schema_objects() | set(INPUT_TABLES)))


def creators() -> dict[str, ViewFile]:
    """Every derived table or view and the file that creates it."""
    return {name: f for f in views() for name in f.creates}


def plan(targets: list[str] | tuple[str, ...]) -> list[ViewFile]:
    """The view files to run, in order, to build ``targets`` and every derived table they read."""
    by = creators()
    unknown = [t for t in targets if t not in by]
    if unknown:
        raise ValueError(f"no view file creates {', '.join(unknown)}")
    need: set[str] = set()
    stack = [by[t] for t in targets]
    while stack:
        f = stack.pop()
        if f.name in need:
            continue
        need.add(f.name)
        stack.extend(by[r] for r in f.reads if r in by and by[r] is not f)
    return [f for f in views() if f.name in need]


def inputs_of(files: list[ViewFile]) -> set[str]:
    """The audit input tables (``INPUT_TABLES``) ``files`` read, or {'{success_predicate}'} too when
    one of them holds the predicate placeholder: what only ``params.install`` provides."""
    out = {r for f in files for r in f.reads if r in INPUT_TABLES}
    return out | ({"{success_predicate}"} if any("{success_predicate}" in f.sql for f in files) else set())
