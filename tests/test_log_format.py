"""Log lines: JSON objects when stderr is a pipe or file, readable lines with live progress on
a terminal — checked on real `cli.py refresh` processes."""

from __future__ import annotations

import json
import logging
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from ops.log_format import JsonFormatter, wants_json
from tests.factories import rows_for, write_csv

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"time", "level", "event", "dataset", "figures", "logger", "message"}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    return tmp_path / "src"


def _args(tmp_path: Path, source: Path) -> tuple[list[str], dict[str, str]]:
    args = [sys.executable, "cli.py", "refresh", "--source", str(source), "--dataset", "violations"]
    env = os.environ | {"PYTHONPATH": str(ROOT), "STORMWATER_STORE": str(tmp_path / "store")}
    env.pop("STORMWATER_LOG_FORMAT", None)
    return args, env


def test_refresh_logs_json_lines_when_stderr_is_not_a_terminal(tmp_path: Path, source: Path):
    args, env = _args(tmp_path, source)
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert entries and all(set(e) >= KEYS for e in entries)
    (done,) = [e for e in entries if e["event"] == "dataset_refreshed"]
    assert done["dataset"] == "violations" and done["level"] == "info"
    assert done["figures"]["outcome"] == "published" and done["figures"]["rows_out"] == 5
    assert any(e["event"] == "progress_done" and e["figures"]["total"] > 0 for e in entries)
    assert result.stdout.startswith("violations: published")  # stdout stays for results


def test_text_format_can_be_chosen(tmp_path: Path, source: Path):
    args, env = _args(tmp_path, source)
    env["STORMWATER_LOG_FORMAT"] = "text"
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert " INFO loaders.refresh: violations: published in " in result.stderr
    assert not result.stderr.lstrip().startswith("{")


def test_unknown_log_format_is_a_one_line_error(tmp_path: Path, source: Path):
    args, env = _args(tmp_path, source)
    env["STORMWATER_LOG_FORMAT"] = "xml"
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: configuration: STORMWATER_LOG_FORMAT must be one of auto, json, text, not 'xml'"
    ]


def test_terminal_gets_human_lines_and_live_progress(tmp_path: Path, source: Path):
    args, env = _args(tmp_path, source)
    main, tty = pty.openpty()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=tty)
    os.close(tty)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    assert proc.wait(timeout=120) == 0
    text = seen.decode()
    assert "\r\x1b[Kconverting violations" in text  # the live progress line
    assert " INFO loaders.refresh: violations: published in " in text
    assert '"event"' not in text


def test_json_formatter_keeps_a_traceback_on_one_line() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["event"] == "x" and entry["level"] == "error"
    assert "ValueError: bad" in entry["error"]


def test_auto_means_json_unless_terminal(tmp_path: Path) -> None:
    with (tmp_path / "log").open("w") as fh:
        assert wants_json("auto", fh) and wants_json("json", fh) and not wants_json("text", fh)
