"""Print the HTML report to PDF with headless Chromium (optional: the HTML file is the report).

Chromium's ``--print-to-pdf`` applies the report's print stylesheet (charts scaled to the page width,
no element wider than the page), so the PDF is what the browser's own "Print" gives. The page carries no
script and a Content-Security-Policy forbidding any load, and it is our own file, so Chromium runs with
``--no-sandbox`` (needed as root and in most containers) and a throw-away profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ENV_VAR = "AGENTOPS_CHROMIUM"  # path of the browser, instead of looking on PATH
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120
# a headless browser for one local file: no sandbox (root, containers), no GPU, nothing fetched in the background
FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class PdfError(Exception):
    """The PDF could not be written; the message is one line."""


def find_chromium() -> str:
    """The Chromium executable: ``$AGENTOPS_CHROMIUM`` or the first of ``CANDIDATES`` on PATH."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        if shutil.which(explicit):
            return shutil.which(explicit)
        raise PdfError(f"cannot write the PDF: {ENV_VAR}={explicit} is not an executable")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(
        "cannot write the PDF: Chromium is not installed (install Debian's `chromium` package, "
        f"or set {ENV_VAR} to a Chrome/Chromium executable)"
    )


def write(html_path: str | Path, pdf_path: str | Path | None = None, chromium: str | None = None) -> Path:
    """Print ``html_path`` to ``pdf_path`` (default: beside it, ``.pdf``) and return the PDF's path."""
    html = Path(html_path).resolve()
    pdf = Path(pdf_path).resolve() if pdf_path else html.with_suffix(".pdf")
    if not html.is_file():
        raise PdfError(f"cannot write the PDF: no report at {html}")
    exe = chromium or find_chromium()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="agentops-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            *FLAGS,
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"cannot write the PDF: Chromium did not finish within {TIMEOUT_S} s") from exc
        except OSError as exc:
            raise PdfError(f"cannot write the PDF: cannot run {exe}: {exc.strerror or exc}") from exc
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip()]
        detail = lines[-1].strip() if lines else f"exit code {proc.returncode}"
        raise PdfError(f"cannot write the PDF: Chromium failed ({detail})")
    return pdf
