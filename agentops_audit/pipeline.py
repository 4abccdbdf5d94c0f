"""Run the audit and report notebooks with papermill; the executed notebooks are kept for operators."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import papermill as pm
from traitlets.config import Config

from agentops_audit.paths import notebooks_dir

REPORT_NAME = "readiness-report.html"
# The kernel talks to papermill over local IPC sockets, not TCP: nothing listens on a port, and ipykernel
# does not print its "Kernel is running over TCP without encryption" warning into every cron log.
KERNEL_CONFIG = Config({"KernelManager": {"transport": "ipc"}})
# jupyter_client interrupts a kernel before shutting it down; when that lands while the kernel still
# handles papermill's last request, ipykernel logs "KeyboardInterrupt caught in kernel." on stderr. The
# kernel process's own log is infrastructure only (cell output and errors go to the notebook), so only
# its critical lines reach the cron log.
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]


def run_notebook(name: str, out_dir: Path, parameters: dict) -> Path:
    executed = out_dir / "notebooks" / name
    executed.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(
        str(notebooks_dir() / name),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        cwd=str(out_dir),
        config=KERNEL_CONFIG,
        extra_arguments=KERNEL_ARGS,
    )
    return executed


def audit_and_report(
    db_path: str | Path,
    out_dir: str | Path,
    config_path: str | Path | None = None,
    manifest_path: str | Path | None = None,
    as_of: date | None = None,
    week: str | None = None,
    history: str | Path | None = None,
) -> dict:
    """Audit ``db_path`` into ``out_dir``: audit.json, readiness-report.html and the executed notebooks.

    ``manifest_path`` is the readiness manifest; ``as_of`` the reference date for staleness; ``week``
    (ISO, e.g. 2026-W46) audits that week alone, against the weekly ``history`` store (see ``audit.run``).
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    run_notebook(
        "audit.ipynb",
        out,
        {
            "db": str(Path(db_path).resolve()),
            "out_dir": str(out),
            "config": str(Path(config_path).resolve()) if config_path else "",
            "manifest": str(Path(manifest_path).resolve()) if manifest_path else "",
            "as_of": as_of.isoformat() if as_of else "",
            **({"week": week, "history": str(Path(history).resolve()) if history else ""} if week else {}),
        },
    )
    run_notebook(
        "report.ipynb",
        out,
        {
            "audit_json": str(out / "audit.json"),
            "out_html": str(out / REPORT_NAME),
        },
    )
    return json.loads((out / "audit.json").read_text())
