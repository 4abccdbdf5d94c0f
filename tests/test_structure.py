"""The house rules the code can check: no import cycles, data flows one way (cli -> weekly -> audit ->
evaluators -> trends -> metrics -> ingest -> db), and no module over 400 lines.

``weekly/`` (the ``weekly`` command: week by week, and recording into the history under its lock) sits
above the audit; ``trends/`` (the ``Week`` type, the history store's reads, changes, alerts, streaks and
trend series: what an audit of one week and its evaluators read) sits below the evaluators."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "agentops_audit"
MAX_LINES = 400
# the layers, top first: a module may import its own layer and the layers below, never one above
LAYERS = ["cli", "weekly", "audit", "evaluators", "trends", "metrics", "ingest", "db"]


def module_name(path: Path) -> str:
    parts = ["agentops_audit", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules ``path`` imports, at the top or inside a function (not under TYPE_CHECKING)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    skip = {id(n) for t in ast.walk(tree) if _type_checking(t) for n in ast.walk(t)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules  # ``from pkg import module``
            found |= subs or {node.module}
            if len(subs) < len(node.names):  # names defined in the package or module itself
                found.add(node.module)
    return {m for m in found if m in modules}


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    paths = {module_name(p): p for p in package.rglob("*.py")}
    return {m: imports(p, set(paths)) - {m} for m, p in paths.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(sorted(scc))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> int | None:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else ""
    return LAYERS.index(name) if name in LAYERS else None


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from a lower layer to a higher one."""
    return sorted(
        (a, b)
        for a, bs in edges.items()
        for b in bs
        if layer(a) is not None and layer(b) is not None and layer(b) < layer(a)
    )


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_data_flows_one_way():
    assert upward(graph()) == []


def test_the_layer_check_finds_an_upward_import():
    edges = {"agentops_audit.db": {"agentops_audit.ingest"}, "agentops_audit.cli": {"agentops_audit.db"}}
    assert upward(edges) == [("agentops_audit.db", "agentops_audit.ingest")]


def test_the_weekly_parts_sit_on_both_sides_of_the_audit():
    """The weekly command and its history writes import the audit; the week arithmetic, store reads and
    trends the audit needs are imported by it, never the other way round."""
    edges = graph()
    assert layer("agentops_audit.weekly.audits") < layer("agentops_audit.audit") < layer("agentops_audit.trends")
    assert "agentops_audit.trends" in edges["agentops_audit.audit"]
    assert "agentops_audit.trends" in edges["agentops_audit.evaluators.weekly"]
    assert upward({"agentops_audit.trends.store": {"agentops_audit.weekly.history"}}) == [
        ("agentops_audit.trends.store", "agentops_audit.weekly.history")
    ]


def test_no_module_over_400_lines():
    long = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_public_front_names_what_it_exports():
    import agentops_audit
    from agentops_audit import results
    from agentops_audit.explore.explorer import Explorer
    from agentops_audit.trends.windows import Week

    assert (agentops_audit.Explorer, agentops_audit.Week) == (Explorer, Week)
    assert (agentops_audit.AuditDocument, agentops_audit.ItemResult, agentops_audit.Metrics) == (
        results.AuditDocument,
        results.ItemResult,
        results.Metrics,
    )
    assert agentops_audit.audit.run and agentops_audit.ingest.ingest


def test_the_tree_is_formatted_by_ruff():
    """`ruff format` (pyproject.toml's settings, the dev extra's ruff) leaves every file as it is: run it
    before committing (`make lint` checks both the linter and the formatter)."""
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run(
        [str(ruff), "format", "--check", "."], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# What schema.sql holds, per schema version: its text without comments and whitespace. A database keeps the
# tables and views of the version that wrote it, and the audit opens it read-only, so a change here without a
# version bump (and an UPGRADES entry in db.py) would leave older databases audited through older views.
SCHEMA_FINGERPRINTS = {"7": "6c433705f3573d15"}


def schema_fingerprint(text: str) -> str:
    import hashlib
    import re

    return hashlib.sha256(" ".join(re.sub(r"--[^\n]*", "", text).split()).encode()).hexdigest()[:16]


def test_a_schema_change_bumps_the_schema_version():
    from agentops_audit import db

    found = schema_fingerprint((PACKAGE / "schema.sql").read_text())
    assert SCHEMA_FINGERPRINTS.get(db.SCHEMA_VERSION) == found, (
        f"schema.sql changed (fingerprint {found}): raise db.SCHEMA_VERSION, add the UPGRADES entry from the "
        "version before, and record the new fingerprint here (a change of comments only does not count)"
    )
    assert schema_fingerprint("CREATE VIEW v AS SELECT 1 -- one\n") == schema_fingerprint("CREATE VIEW v AS  SELECT 1")
    assert schema_fingerprint("CREATE VIEW v AS SELECT 1") != schema_fingerprint("CREATE VIEW v AS SELECT 2")
