"""Run the benchmarks (``make bench``): every ``bench/<name>.py`` with a ``main(argv)``, or those named.

    python bench/run.py [--only ingest[,audit,explore]] [--sizes small,medium] [--large]

By default each benchmark runs its short form, so the whole run takes a few minutes on two cores; ``--large``
runs the large forms instead (ingest adds ~1M spans, audit runs 1M and 10M, explore 1M). ``--sizes`` picks
the ingest sizes. Results are printed as Markdown; the recorded ones, with the machine they ran on, are in
``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (arguments of the short run, arguments of the large run); other benchmarks run with no arguments
ARGS: dict[str, tuple[list[str], list[str]]] = {
    "audit": ([], ["--full"]),
    "explore": (["--spans", "100000"], []),
}


def benchmarks() -> dict[str, Path]:
    """Every module beside this file that defines ``main``, by name (found without importing them)."""
    found = {}
    for path in sorted(HERE.glob("*.py")):
        if path.stem in ("run", "__init__"):
            continue
        tree = ast.parse(path.read_text())
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            found[path.stem] = path
    return found


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def arguments(name: str, sizes: str, large: bool) -> list[str]:
    if name == "ingest":
        return ["--sizes", sizes + (",large" if large and "large" not in sizes else "")]
    short, full = ARGS.get(name, ([], []))
    return full if large else short


def main(argv: list[str] | None = None) -> int:
    found = benchmarks()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help=f"comma-separated benchmarks to run (of: {', '.join(found)})")
    parser.add_argument("--sizes", default="small,medium", help="ingest sizes: small, medium, large")
    parser.add_argument("--large", action="store_true", help="the large form of each benchmark")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(found)
    unknown = [n for n in names if n not in found]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; known: {', '.join(found)}")
    status = 0
    for name in names:
        print(f"## {name}\n", flush=True)
        start = time.perf_counter()
        status |= _load(found[name]).main(arguments(name, args.sizes, args.large)) or 0
        print(f"\n({name}: {time.perf_counter() - start:.0f} s)\n", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
