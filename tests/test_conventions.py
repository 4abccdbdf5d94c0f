"""The README says what the code reads: the conventions registry, the input formats, the fixture groups."""

from __future__ import annotations

import re
from pathlib import Path

from agentops_audit.ingest import ADAPTERS
from agentops_audit.ingest.conventions import CONVENTIONS, DECORATED, attribute_map, needs_interpretation

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_readme_lists_the_conventions_in_registry_order():
    listed = re.search(r"The conventions, in the order they are tried: (.*?) \(`tests/", README, re.DOTALL).group(1)
    names = [n.strip() for n in re.split(r",\s*(?:and\s+)?", " ".join(listed.split()))]
    names = [re.sub(r" \(current and deprecated names\)$", "", n) for n in names]
    assert names == [c.name for c in CONVENTIONS]


def test_readme_lists_every_format_and_every_fixture_group():
    table = README[README.index("## Supported input formats") : README.index("### Ingest filters")]
    for name in ADAPTERS:
        assert f"| `{name}` |" in table, name
    groups = {p.parent.name for p in (REPO / "tests" / "fixtures" / "real").glob("*/*.expect.json")}
    assert groups and all(f"`{g}`" in table for g in groups), sorted(g for g in groups if f"`{g}`" not in table)


def test_the_fast_path_markers_find_every_name_the_reader_interprets():
    """A span carrying any convention's names must reach the reference reader (otlp_sql sends it there)."""
    for convention in CONVENTIONS:
        for name in convention.signatures:
            assert needs_interpretation({name: "x"}), name
    assert not needs_interpretation({"gen_ai.operation.name": "chat", "gen_ai.input.messages": "[]"})
    assert needs_interpretation({"gen_ai.output.messages": '[{"role": "assistant", "tool_calls": []}]'})
    plain = attribute_map()
    assert all("#" not in n for names in plain.values() for n in names)
    assert DECORATED.sub("", "execute_tool get_weather", count=1) == "get_weather"
