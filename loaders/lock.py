"""One refresh at a time: an OS file lock that a crashed run cannot leave behind.

`flock` is released by the kernel when the holding process dies, so a killed run's
lock never blocks next week's run; the file only records who holds it, for the message.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from data_layer.errors import RefreshLocked


@contextmanager
def refresh_lock(path: Path) -> Iterator[None]:
    """Hold the store's refresh lock for the block; RefreshLocked at once if another run has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            raise RefreshLocked(
                f"another refresh is running ({holder}); wait for it to finish"
            ) from None
        info = {
            "pid": os.getpid(),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        yield
    finally:
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    return f"pid {info.get('pid', '?')}, started {info.get('started', '?')}"
