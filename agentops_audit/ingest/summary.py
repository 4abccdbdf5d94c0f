"""What loading one file did: its counts (every record read is loaded, filtered, duplicate or
quarantined), whether it was skipped or failed, and the one line ``ingest`` prints for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SourceSummary:
    path: str
    format: str
    sha256: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    rows_filtered: int = 0
    rows_derived: int = 0  # tool calls found only in LLM messages, in the traces this file touched
    skipped: bool = False
    staged: bool = False  # loaded through the staging table (filters, or see Restage)
    error: str | None = None
    reasons: dict | None = None

    @property
    def empty(self) -> bool:
        """The file held no record at all (not an error: the other files still count)."""
        return not (self.error or self.skipped or self.rows_read)

    @property
    def all_quarantined(self) -> bool:
        """Every record of the file was quarantined: the input is not what the format says."""
        return bool(self.rows_read) and self.rows_quarantined == self.rows_read

    @property
    def contributed(self) -> bool:
        """The database holds this file's spans (loaded now, already stored, or loaded before)."""
        return self.skipped or bool(self.rows_loaded or self.rows_duplicate)

    def line(self) -> str:
        if self.error:
            return f"{self.path}: FAILED, nothing loaded: {self.error}"
        if self.skipped:
            return f"{self.path}: already ingested (sha256 {self.sha256[:12]}), nothing changed"
        if self.empty:
            return f"{self.path} [{self.format}]: empty, no records"
        reasons = "; ".join(f"{n} {r}" for r, n in sorted((self.reasons or {}).items()))
        return (
            f"{self.path} [{self.format}]: read {self.rows_read}, loaded {self.rows_loaded}, "
            f"duplicate {self.rows_duplicate}, quarantined {self.rows_quarantined}"
            + (f", filtered {self.rows_filtered}" if self.rows_filtered else "")
            + (f"; {self.rows_derived} tool calls taken from LLM messages" if self.rows_derived else "")
            + (f" ({reasons})" if reasons else "")
        )
