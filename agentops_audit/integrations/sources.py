"""What a pull reads from a server (``pull.py``): the request, the pages a source yields (``phoenix.py``,
``mlflow_pull.py``) and the error a server that cannot be read raises. Apart from ``pull.py`` so that the
sources need not import the pull that dispatches to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agentops_audit.errors import InputError

KINDS = ("phoenix", "mlflow")
DEFAULT_PAGE_SIZE = 500
DEFAULT_OVERLAP_S = 3600


class PullError(InputError):
    """The server could not be read (one line, exit code 2); pages already loaded stay loaded."""


@dataclass
class Page:
    payload: bytes  # the file's content, as the server returned it
    records: int  # spans (Phoenix) or traces (MLflow) on the page
    mark: str | None  # where a pull that ends after this page resumes
    suffix: str = "json"


@dataclass
class Request:
    kind: str
    url: str
    scope: str  # Phoenix project or MLflow experiment (name or id)
    since: datetime | None = None  # naive UTC
    until: datetime | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    overlap_s: int = DEFAULT_OVERLAP_S
    pages_dir: Path | None = None
    filters: object = None  # ingest.filters.Filters (--workflow)
    extra: dict = field(default_factory=dict)

    @property
    def source(self) -> str:
        what = "project" if self.kind == "phoenix" else "experiment"
        return f"{self.kind} {self.url.rstrip('/')} {what} {self.scope}"
