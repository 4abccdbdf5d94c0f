"""What the explorer starts from: the verdict (``audit.json``), wherever ``audit`` or ``weekly`` wrote it,
and the window that verdict covers.

``find_audit_json`` looks for the audit document of a database: the file or folder the caller names
(``audit_json=``), else ``audit.json`` beside the database (``audit --out`` into the database's folder,
``run``, ``demo``), else the per-week folders ``weekly`` writes (``OUT_ROOT/<week>/audit.json``) under the
database's folder, its ``reports/`` folder and the working directory's ``reports/``. A document counts only
when it names this database (``database``); of several, the latest week (then the newest) wins.

The window: a weekly audit covers one ISO week (``week.label``), a plain audit the whole database. The
explorer shows that window by default (``Window``), so its sessions, evidence and example traces agree with
the verdict; ``window="all"`` or an ISO week widens or moves it.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from agentops_audit.trends.windows import Week

_WORST_FIRST = ("FAIL", "ERROR")
SEARCH_DEPTH_DIRS = ("", "reports")  # below the database's folder: OUT_ROOT candidates for weekly's <week>/ folders


def week_range(week: str) -> tuple[datetime, datetime]:
    """The [Monday 00:00, next Monday 00:00) span of an ISO week such as ``2026-W46`` (``windows.Week``)."""
    w = Week.parse(week)
    return w.start, w.end


def read_audit(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise ValueError(f"{path}: not a readable audit.json ({exc})") from None


def _names(doc: dict, db_path: Path) -> bool:
    recorded = doc.get("database")
    if not recorded:
        return False
    try:
        return Path(recorded).resolve() == db_path.resolve()
    except OSError:
        return False


def _latest(found: list[tuple[Path, dict]]) -> Path | None:
    if not found:
        return None
    key = lambda pd: ((pd[1].get("week") or {}).get("label") or "", pd[1].get("generated_at") or "")  # noqa: E731
    return max(found, key=key)[0]


def find_audit_json(db_path: str | Path, audit_json: str | Path | None = None) -> Path | None:
    """The audit document for ``db_path`` (see the module docstring); None when there is none.
    ``audit_json`` may be a file, or a folder holding ``audit.json`` or weekly ``<week>/audit.json``
    folders; FileNotFoundError when it names nothing of the kind."""
    db_path = Path(db_path)
    if audit_json is not None:
        given = Path(audit_json)
        if given.is_file():
            return given
        if given.is_dir():
            if (given / "audit.json").is_file():
                return given / "audit.json"
            weekly = [(p, read_audit(p)) for p in sorted(given.glob("*/audit.json"))]
            chosen = _latest([(p, d) for p, d in weekly if _names(d, db_path)]) or _latest(weekly)
            if chosen:
                return chosen
        raise FileNotFoundError(
            f"no audit.json at {given} (give the file, or the folder `audit --out` or `weekly --out-root` wrote)"
        )
    beside = db_path.with_name("audit.json")
    if beside.is_file():
        return beside
    roots = [db_path.parent / d for d in SEARCH_DEPTH_DIRS] + [Path.cwd() / "reports"]
    found, seen = [], set()
    for root in roots:
        for path in sorted(root.glob("*/audit.json")) if root.is_dir() else []:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            doc = read_audit(path)
            if _names(doc, db_path):
                found.append((path, doc))
    return _latest(found)


def no_verdict_message(db_path: Path) -> str:
    """What to run when no audit document of ``db_path`` was found: commands that work as written."""
    out = db_path.parent if str(db_path.parent) not in ("", ".") else Path(".")
    return (
        f"no audit.json found for {db_path} (looked beside it and in weekly report folders): run "
        f"`agentops-audit audit --db {db_path} --out {out}` for the verdict, or pass audit_json= the "
        "audit.json (or the --out-root folder) that `agentops-audit weekly` wrote; evidence(item_id) lists "
        "the rows behind any checklist item meanwhile"
    )


@dataclass(frozen=True)
class Window:
    """The sessions the explorer shows: one ISO week (``week``), or every session (``week`` None)."""

    week: str | None
    why: str  # e.g. "the audited week of audit.json" or "every session in the database"

    @classmethod
    def of(cls, window: str | None, doc: dict | None) -> Window:
        """``window``: "audit" (the verdict's window: its week for a weekly audit, else everything),
        "all", or an ISO week."""
        audited = ((doc or {}).get("week") or {}).get("label")
        if window in (None, "audit"):
            if audited:
                return cls(
                    audited, f"the week the verdict covers ({audited}); Explorer(..., window='all') shows every week"
                )
            return cls(None, "every session in the database, as the verdict covers")
        if window == "all":
            return cls(
                None, "every session in the database" + (f" (the verdict covers {audited} only)" if audited else "")
            )
        window = str(Week.parse(window))  # ValueError unless an ISO week; 2026-W6 is 2026-W06
        return cls(
            window,
            f"{window}, as asked" + (f" (the verdict covers {audited})" if audited and audited != window else ""),
        )


@dataclass
class Verdict:
    """Where to start: the verdict and its blockers from the audit document. Without it there is no
    verdict (``verdict`` None, no blockers) and ``message`` says how to get one."""

    source: str
    verdict: str | None
    recommended_phase: int | None
    declared_phase: int | None
    generated_at: str | None
    blockers: pl.DataFrame
    message: str = ""
    config: dict = field(default_factory=dict)
    window: str = ""  # what the explorer shows (``Window.why``)

    @property
    def worst(self) -> str | None:
        """The item to drill into first: the first failing (then erroring) blocker with an evidence query,
        else the first blocker listed."""
        if self.blockers.is_empty():
            return None
        rows = self.blockers.to_dicts()
        for status in _WORST_FIRST:
            for r in rows:
                if r["status"] == status and r["has_evidence_query"]:
                    return r["item"]
        return rows[0]["item"]

    def _head(self) -> str:
        if self.verdict is None:
            return f"No verdict: {self.message}"
        phase = f", recommended phase {self.recommended_phase}"
        if self.declared_phase is not None:
            phase += f" (declared {self.declared_phase})"
        shown = f"\nShowing {self.window}" if self.window else ""
        return f"Verdict: {self.verdict}{phase}; from {self.source}, generated {_minute(self.generated_at)}{shown}"

    def __repr__(self) -> str:
        with wide_tables():
            return self._head() + "\n" + repr(self.blockers)

    def _repr_html_(self) -> str:
        with wide_tables():
            return f"<p><b>{html.escape(self._head()).replace(chr(10), '<br>')}</b></p>\n" + self.blockers._repr_html_()


def _minute(stamp: str | None) -> str | None:
    """``2026-12-04T03:57:42+00:00`` as ``2026-12-04 03:57 UTC``."""
    try:
        return datetime.fromisoformat(str(stamp)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


def wide_tables() -> pl.Config:
    """Polars display settings that show item names and display lines whole (the default cuts at 32)."""
    return pl.Config(fmt_str_lengths=200, tbl_width_chars=240, tbl_rows=100, tbl_cols=-1)


def blockers_frame(rows: list[dict]) -> pl.DataFrame:
    schema = {
        "item": pl.String,
        "title": pl.String,
        "section": pl.Int64,
        "severity": pl.String,
        "status": pl.String,
        "display": pl.String,
        "threshold": pl.String,
        "at_fault": pl.String,
        "has_evidence_query": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)
