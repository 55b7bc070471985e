"""The refresh run log: one JSON line per dataset per run, appended and flushed to disk.

It is the durable record behind `status`, the data-health figures and alerts
(DESIGN §5): dataset, source and its modified time, bytes, rows in/out, rejects,
duration, outcome and error. `data_layer.status` reads it back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def append_run(path: Path, record: dict[str, Any]) -> None:
    """Append one run record; fsync so a crash right after cannot lose it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, default=str, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
