"""Docs that cannot drift: the README's command table names every command and every option the CLI's
argparse has, and nothing it does not; its check tables are exactly what ``agentops_audit.readme``
generates from the ``@check`` declarations and the catalog's ``checks`` (``make docs`` rewrites them)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from agentops_audit import catalog, cli, readme

ROOT = Path(__file__).resolve().parent.parent


def cli_options() -> dict[str, set[str]]:
    """Command -> its long options (the first long spelling of each), from the CLI's own parser."""
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    out = {}
    for name, parser in sub.choices.items():
        opts = set()
        for action in parser._actions:
            longs = [o for o in action.option_strings if o.startswith("--")]
            if longs and action.help != argparse.SUPPRESS and "--help" not in longs:
                opts.add(longs[0])
        out[name] = opts
    return out


def readme_options(text: str) -> dict[str, set[str]]:
    """Command -> the options its rows of the README's command table name."""
    out: dict[str, set[str]] = {}
    for line in text.splitlines():
        m = re.match(r"\| `agentops-audit ([a-z-]+)([^`]*)`", line)
        if m:
            out.setdefault(m.group(1), set()).update(re.findall(r"--[a-z][a-z0-9-]*", m.group(2)))
    return out


def test_readme_command_table_matches_the_cli():
    documented, actual = readme_options((ROOT / "README.md").read_text()), cli_options()
    assert set(documented) == set(actual)
    missing = {c: sorted(actual[c] - documented[c]) for c in actual if actual[c] - documented[c]}
    unknown = {c: sorted(documented[c] - actual[c]) for c in actual if documented[c] - actual[c]}
    assert (missing, unknown) == ({}, {})


def test_the_table_check_finds_a_missing_option():
    text = "| `agentops-audit run PATH... --out DIR` | x |\n"
    assert readme_options(text) == {"run": {"--out"}}
    assert cli_options()["run"] - readme_options(text)["run"]  # the run row above leaves options out


def test_reports_folder_says_what_lands_there():
    readme = (ROOT / "reports" / "README.md").read_text()
    assert "reports/demo" in readme and "make audit" in readme


def test_readme_check_tables_are_as_generated():
    text = (ROOT / "README.md").read_text()
    assert readme.render(text) == text, "README's check tables are not as generated: run `make docs`"
    assert readme.main([str(ROOT / "README.md"), "--check"]) == 0


def test_a_new_check_gets_its_row_without_a_hand_written_one():
    """A judged check's row comes from the catalog: removed from the README, the generator writes it back,
    with what the catalog's ``checks`` entry says it means."""
    text = (ROOT / "README.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `strong_model_use` |"))
    without = text.replace(row + "\n", "")
    assert readme.render(without) == text
    assert catalog.load().checks["strong_model_use"].means.split(";")[0] in row


def test_the_generator_refuses_a_readme_without_its_markers(tmp_path):
    with pytest.raises(ValueError, match="no check table 'traces'"):
        readme.render("# a README without check tables\n")
    stale = tmp_path / "README.md"
    stale.write_text((ROOT / "README.md").read_text().replace("| `tool_success` |", "| `tool_success` | stale |", 1))
    assert readme.main([str(stale), "--check"]) == 1
    assert readme.main([str(stale)]) == 0 and readme.main([str(stale), "--check"]) == 0
