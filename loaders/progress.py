"""Progress for long work: a live line on a terminal, plain log lines otherwise.

One `Progress` per task (a download, a conversion). Callers report the amount done;
the reporter decides how often to say so, so hot loops can call `update` freely.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

log = logging.getLogger(__name__)


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _human_seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Progress:
    """Reports `done` of `total` units ("bytes" or "rows") with rate and ETA."""

    def __init__(
        self,
        label: str,
        total: float | None,
        unit: str = "bytes",
        stream: TextIO | None = None,
        interval: float | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.2 if self.live else 10.0)
        self.done = 0.0
        self.started = time.monotonic()
        self._last = 0.0

    def _amount(self, n: float) -> str:
        return _human_bytes(n) if self.unit == "bytes" else f"{n:,.0f} {self.unit}"

    def describe(self) -> str:
        """One line: label, amount done (of total), rate and ETA where known."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        text = f"{self.label}: {self._amount(self.done)}"
        if self.total:
            pct = min(100.0, 100.0 * self.done / self.total)
            text += f" of {self._amount(self.total)} ({pct:.0f}%)"
            if rate > 0 and self.done < self.total:
                text += f", ETA {_human_seconds((self.total - self.done) / rate)}"
        per = f"{_human_bytes(rate)}/s" if self.unit == "bytes" else f"{rate:,.0f} {self.unit}/s"
        return f"{text}, {per}"

    def update(self, done: float) -> None:
        """Set the amount done so far; prints at most once per interval."""
        self.done = done
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        self._emit()

    def advance(self, amount: float) -> None:
        """Add `amount` to the amount done."""
        self.update(self.done + amount)

    def _emit(self) -> None:
        if self.live:
            self.stream.write("\r\033[K" + self.describe())
            self.stream.flush()
        else:
            log.info(self.describe(), extra=self._extra("progress"))

    def finish(self, note: str = "done") -> None:
        """Close the line with a final summary."""
        elapsed = time.monotonic() - self.started
        summary = f"{self.label}: {self._amount(self.done)} {note} in {_human_seconds(elapsed)}"
        if self.live:
            self.stream.write("\r\033[K" + summary + "\n")
            self.stream.flush()
        else:
            log.info(summary, extra=self._extra("progress_done"))

    def _extra(self, event: str) -> dict[str, object]:
        """Fields for JSON log lines: the event and the figures behind the text."""
        figures = {"label": self.label, "done": self.done, "total": self.total, "unit": self.unit}
        figures["seconds"] = round(time.monotonic() - self.started, 3)
        return {"event": event, "figures": figures}
