"""The run lock with real processes: busy messages name the holder, a killed holder's lock
(file left behind) never blocks the next run, and a lock that cannot be taken says why."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from data_layer.errors import LockUnavailable, RefreshLocked
from data_layer.store import store_at
from loaders.lock import lock_failure, refresh_lock
from ops.exit_codes import ExitCode
from tests.factories import rows_for, write_csv

ROOT = Path(__file__).resolve().parents[1]

#: Takes the lock, optionally starts a long-lived child, says so, then waits to be killed.
HOLDER = """
import subprocess, sys, time
from pathlib import Path
from loaders.lock import refresh_lock
with refresh_lock(Path(sys.argv[1])):
    child = subprocess.Popen(["sleep", "60"]) if sys.argv[2] == "child" else None
    print("held", child.pid if child else "", flush=True)
    time.sleep(60)
"""


def _env(**extra: str) -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(ROOT)} | extra


@pytest.fixture
def holder(tmp_path: Path) -> Iterator:
    """Start `holder(path, child=False)`: a process holding the lock at `path` until killed."""
    procs: list[subprocess.Popen] = []
    children: list[int] = []

    def start(path: Path, child: bool = False) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path), "child" if child else "-"],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        words = proc.stdout.readline().split()
        assert words and words[0] == "held", "the holder did not take the lock"
        if len(words) > 1:
            children.append(int(words[1]))
            proc.child_pid = int(words[1])
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _take(path: Path) -> float:
    """Take and release the lock; seconds it took."""
    started = time.monotonic()
    with refresh_lock(path):
        pass
    return time.monotonic() - started


def test_busy_lock_names_pid_host_and_start(tmp_path: Path, holder) -> None:
    path = tmp_path / "_state" / "refresh.lock"
    proc = holder(path)
    with pytest.raises(RefreshLocked) as caught, refresh_lock(path):
        pass
    message = str(caught.value)
    assert f"pid {proc.pid} on {socket.gethostname()} since 20" in message
    assert "another refresh is running" in message and "\n" not in message


def test_sigkilled_holder_does_not_block_the_next_run(tmp_path: Path, holder) -> None:
    path = tmp_path / "refresh.lock"
    proc = holder(path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert path.exists() and json.loads(path.read_text())["pid"] == proc.pid  # file left behind
    assert _take(path) < 1.0
    assert path.read_text() == ""  # released: the file no longer names a holder


def test_a_child_of_a_killed_holder_does_not_keep_the_lock(tmp_path: Path, holder) -> None:
    path = tmp_path / "refresh.lock"
    proc = holder(path, child=True)
    proc.kill()
    proc.wait()
    os.kill(proc.child_pid, 0)  # the child still runs...
    assert _take(path) < 1.0  # ...but did not inherit the lock


def test_cli_refresh_while_locked_exits_75_naming_the_holder(tmp_path: Path, holder) -> None:
    store = store_at(tmp_path / "store")
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    proc = holder(store.lock_path)
    result = subprocess.run(
        [sys.executable, "cli.py", "refresh", "--source", str(tmp_path / "src")],
        cwd=ROOT,
        env=_env(STORMWATER_STORE=str(store.root)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == ExitCode.LOCKED == 75, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"pid {proc.pid}" in errors[0], result.stderr
    assert result.stdout == ""
    assert store.current_version("violations") is None


def test_lock_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "not_a_dir").write_text("")
    with pytest.raises(LockUnavailable, match="cannot open the lock file .*Not a directory"):
        _take(tmp_path / "not_a_dir" / "_state" / "refresh.lock")


def test_filesystem_without_locks_is_a_one_line_error(tmp_path: Path) -> None:
    refused = OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
    message = str(lock_failure(tmp_path / "refresh.lock", refused))
    assert "No locks available" in message and "local disk" in message
    assert str(tmp_path) in message and "\n" not in message
