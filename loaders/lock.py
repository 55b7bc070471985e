"""One run at a time: an OS file lock that a crashed run cannot leave behind.

`flock` is released by the kernel when the holding process dies, however it dies (a SIGKILL,
an OOM kill, a power cut), so a killed run's lock never blocks next week's run even though
the lock file stays. The file only records who holds it — pid, host, start time and command —
so a "busy" message can say who to wait for. Descriptors are not inherited by child
processes (Python opens them close-on-exec), so nothing the run starts can keep the lock alive.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from data_layer.errors import LockUnavailable, RefreshLocked


@contextmanager
def refresh_lock(path: Path, what: str = "refresh") -> Iterator[None]:
    """Hold the lock at `path` for the block; RefreshLocked at once if another `what` has it.

    LockUnavailable when the lock file cannot be opened or its filesystem refuses locks.
    """
    fd = _open(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefreshLocked(
                f"another {what} is running ({holder(path)}); wait for it to finish"
            ) from None
        except OSError as exc:
            raise lock_failure(path, exc) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder_info()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def lock_failure(path: Path, exc: OSError) -> LockUnavailable:
    """The one-line error for a lock the filesystem refuses (NFS without lockd, some FUSE)."""
    return LockUnavailable(
        f"cannot lock {path}: {exc.strerror or exc} — its filesystem does not support file "
        "locks; keep the store (or at least its _state directory) on a local disk"
    )


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LockUnavailable(
            f"cannot open the lock file {path}: {exc.strerror or exc} — check that the store "
            "directory exists and is writable"
        ) from exc


def _holder_info() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(os.path.basename(a) for a in sys.argv[:2]),
    }


def holder(path: Path) -> str:
    """Who holds the lock, as the lock file records it: "pid 12 on host h since <time>"."""
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    text = f"pid {info.get('pid', '?')} on {info.get('host', '?')} since {info.get('started', '?')}"
    return f"{text}, {info['command']}" if info.get("command") else text
