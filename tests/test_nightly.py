"""`nightly`: the chain's steps, their summary lines and exit codes, its lock, its alerts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import cli
from data_layer.store import Store, store_at
from loaders.lock import refresh_lock
from ops.exit_codes import ExitCode
from tests.factories import rows_for, write_csv
from tests.http_server import FileServer, http_server


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("STORMWATER_STORE", str(tmp_path / "store"))
    for name in ("STORMWATER_PG_URL", "STORMWATER_ALERT_WEBHOOK", "STORMWATER_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    return store_at(tmp_path / "store")


@pytest.fixture
def hook(tmp_path: Path) -> Iterator[FileServer]:
    with http_server(tmp_path) as server:
        yield server


def nightly(*args: str) -> Result:
    return CliRunner().invoke(cli, ["nightly", *args])


def test_updated_then_nothing_changed(store: Store, tiny_source: Path) -> None:
    first = nightly("--source", str(tiny_source))
    assert first.exit_code == ExitCode.UPDATED, first.output
    assert first.stdout.startswith("refresh: updated — 8 published, 0 unchanged, 0 failed")
    second = nightly("--source", str(tiny_source), "--json")
    assert second.exit_code == ExitCode.NOTHING_CHANGED, second.output
    steps = [json.loads(line) for line in second.stdout.splitlines()]
    assert steps[0]["step"] == "refresh" and steps[0]["outcome"] == "nothing_changed"
    assert steps[0]["code"] == 4 and steps[0]["figures"]["unchanged"] == 8
    logged = [json.loads(line) for line in store.nightly_log_path.read_text().splitlines()]
    assert [(r["step"], r["code"]) for r in logged if r["step"] == "refresh"] == [
        ("refresh", 0),
        ("refresh", 4),
    ]


def test_a_second_nightly_exits_75_without_touching_the_store(store: Store, tmp_path: Path):
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    with refresh_lock(store.nightly_lock_path, what="nightly run"):
        result = nightly("--source", str(tmp_path / "src"))
    assert result.exit_code == ExitCode.LOCKED, result.output
    assert result.stdout.startswith("lock: locked — another nightly run is running (pid ")
    assert result.stderr.startswith("Error: another nightly run is running (pid ")
    assert not store.runlog_path.exists()


def test_a_running_refresh_makes_the_chain_stop_locked(store: Store, tmp_path: Path):
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    with refresh_lock(store.lock_path):
        result = nightly("--source", str(tmp_path / "src"))
    assert result.exit_code == ExitCode.LOCKED, result.output
    assert result.stdout.startswith("refresh: locked — another refresh is running")


def test_partly_failed_refresh_alerts_and_exits_3(
    store: Store, tmp_path: Path, hook: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    monkeypatch.setenv("STORMWATER_ALERT_WEBHOOK", hook.url + "/hook")
    result = nightly("--source", str(tmp_path / "src"))
    assert result.exit_code == ExitCode.PARTLY_FAILED, result.output
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "7 of 8 datasets failed" in error
    (body,) = hook.posts("/hook")
    text = json.loads(body)["text"]
    assert text.startswith("Stormwater Watch nightly on ") and "partly failed (exit 3)" in text
    assert store.current_version("violations") is not None
