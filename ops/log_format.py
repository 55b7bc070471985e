"""Log lines for people and for machines: human lines on a terminal, JSON lines elsewhere.

Unattended runs (cron, systemd, CI) write to a file or the journal, where one JSON object
per line is what log tools index: time, level, event, dataset and figures. Code attaches the
last three with `extra={"event": ..., "dataset": ..., "figures": {...}}`; plain log calls
get their logger's name as the event. On a terminal, lines stay readable and
`loaders.progress` draws its live progress line instead of logging it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", record.name),
            "dataset": getattr(record, "dataset", None),
            "figures": getattr(record, "figures", None),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def wants_json(log_format: str, stream: TextIO) -> bool:
    """JSON for `json`, text for `text`; for `auto`, JSON unless `stream` is a terminal."""
    if log_format == "auto":
        return not bool(getattr(stream, "isatty", lambda: False)())
    return log_format == "json"


def configure_logging(
    verbose: bool, log_format: str = "auto", stream: TextIO | None = None
) -> None:
    """Send the root logger to `stream` (stderr) in the chosen format, once per process."""
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    if wants_json(log_format, stream):
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
