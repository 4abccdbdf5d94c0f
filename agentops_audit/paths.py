"""Where the toolkit's bundled files live.

In a source checkout (editable install) they sit at the repository's top level; in a wheel they are
bundled under ``agentops_audit/_bundled``.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# the agent a span runs for (ingest/tree.py), also run by the upgrade from schema 6 (db.UPGRADES)
SPAN_AGENTS_SQL = PACKAGE_DIR / "ingest" / "span_agents.sql"


def bundled(name: str) -> Path:
    """Return the directory ``checks``, ``notebooks`` or ``mappings`` for this installation."""
    inside = PACKAGE_DIR / "_bundled" / name
    return inside if inside.exists() else PACKAGE_DIR.parent / name


def checks_dir() -> Path:
    return bundled("checks")


def notebooks_dir() -> Path:
    return bundled("notebooks")


def mappings_dir() -> Path:
    """Shipped mapping files for transcript exports (e.g. ``tau-bench.yml``)."""
    return bundled("mappings")
