"""What a sync reports: progress while it copies, and its counts when done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Progress(Protocol):
    """Where the sync reports rows copied (`loaders.progress.Progress` fits)."""

    def advance(self, amount: float) -> None: ...

    def finish(self, note: str = "done") -> None: ...


#: Makes a Progress for one copy: its label and the rows expected.
ProgressFactory = Callable[[str, int | None], Progress]


@dataclass(frozen=True)
class TableReport:
    """One table in one run: rows read from the store, written (new / changed), removed,
    not written (a finding says why), and data-quality findings raised."""

    table: str
    processed: int
    created: int
    updated: int
    deleted: int
    skipped: int
    findings: int

    @property
    def unchanged(self) -> int:
        return self.processed - self.skipped - self.created - self.updated


@dataclass
class SyncReport:
    """What a sync did, for the CLI's one-line summary and the nightly log."""

    target: str
    mode: str
    reason: str
    tables: list[TableReport] = field(default_factory=list)
    findings: int = 0
    seconds: float = 0.0
    lock_wait: float = 0.0

    def total(self, what: str) -> int:
        """The sum of one TableReport field (or property) over all tables."""
        return sum(getattr(t, what) for t in self.tables)

    def line(self) -> str:
        """One line: target, mode, rows written and not, findings, time."""
        written = self.total("created") + self.total("updated")
        return (
            f"{self.target}: {self.mode} sync ({self.reason}) — {written:,} rows written"
            f" ({self.total('created'):,} new, {self.total('updated'):,} changed),"
            f" {self.total('deleted'):,} removed, {self.total('unchanged'):,} unchanged,"
            f" {self.total('skipped'):,} not written; {self.findings:,} data-quality findings;"
            f" {self.seconds:.1f} s"
        )
