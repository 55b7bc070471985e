"""`nightly`: the chain's steps, their summary lines and exit codes, its lock, its alerts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql
from sqlalchemy import func, select

from cli import cli
from data_layer.pg.migrate import migrate
from data_layer.store import Store, store_at
from loaders.lock import refresh_lock
from matching.state import match_runs, open_state
from ops.exit_codes import ExitCode
from tests.factories import rows_for, write_csv
from tests.http_server import FileServer, http_server
from tests.platform_db import create_esmr_facilities


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
    lines = first.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["refresh", "match", "sync"]
    assert lines[0].startswith("refresh: updated — 8 published, 0 unchanged, 0 failed")
    assert lines[1].startswith("match: updated — match run 1: ")
    assert lines[2].startswith("sync: skipped — no PostgreSQL configured")
    second = nightly("--source", str(tiny_source), "--json")
    assert second.exit_code == ExitCode.NOTHING_CHANGED, second.output
    steps = [json.loads(line) for line in second.stdout.splitlines()]
    assert steps[0]["step"] == "refresh" and steps[0]["outcome"] == "nothing_changed"
    assert steps[0]["code"] == 4 and steps[0]["figures"]["unchanged"] == 8
    assert steps[1]["summary"].startswith("match run 2: ") and steps[1]["code"] == 4
    assert _match_runs(store) == 2
    logged = [json.loads(line) for line in store.nightly_log_path.read_text().splitlines()]
    assert [(r["step"], r["code"]) for r in logged] == [
        ("refresh", 0),
        ("match", 0),
        ("sync", None),
        ("refresh", 4),
        ("match", 4),
        ("sync", None),
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


def _match_runs(store: Store) -> int:
    engine = open_state(f"sqlite:///{store.state_dir / 'state.db'}")
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(match_runs)).scalar_one()


def test_matching_flag_off_skips_the_match_step(
    store: Store, tiny_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENABLE_FACILITY_MATCHING", "0")
    result = nightly("--source", str(tiny_source))
    assert result.exit_code == ExitCode.UPDATED, result.output
    assert "match: skipped — ENABLE_FACILITY_MATCHING is off" in result.stdout
    assert not (store.state_dir / "state.db").exists()


def test_a_failed_refresh_stops_the_chain_before_matching(store: Store, tmp_path: Path):
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    result = nightly("--source", str(tmp_path / "src"))
    assert result.exit_code == ExitCode.PARTLY_FAILED, result.output
    assert "match: skipped — an earlier step failed" in result.stdout
    assert not (store.state_dir / "state.db").exists()


def test_a_failed_match_fails_the_run_with_one_line(
    store: Store, tiny_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("STORMWATER_STATE_URL", f"sqlite:///{tmp_path / 'a_file' / 'state.db'}")
    result = nightly("--source", str(tiny_source))
    assert result.exit_code == ExitCode.FAILED, result.output
    assert "refresh: updated" in result.stdout and "match: failed — " in result.stdout
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "a_file" in error
    assert store.current_version("violations") is not None  # the refresh stands


@pytest.fixture
def platform_db(make_pg_database: Callable[[], str]) -> str:
    """A migrated platform database (with the platform's eSMR facilities)."""
    url = make_pg_database()
    create_esmr_facilities(url)
    migrate(url)
    return url


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        return conn.execute(query).fetchall()[0][0]


def test_sync_runs_last_and_a_second_night_writes_nothing(
    store: Store, tiny_source: Path, platform_db: str
) -> None:
    first = nightly("--source", str(tiny_source), "--pg", platform_db)
    assert first.exit_code == ExitCode.UPDATED, first.output
    lines = first.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["refresh", "match", "sync"]
    assert lines[2].startswith("sync: updated — ")
    assert _count(platform_db, "smarts_violations") > 0
    assert _count(platform_db, "smarts_import_logs") > 0
    second = nightly("--source", str(tiny_source), "--pg", platform_db, "--json")
    assert second.exit_code == ExitCode.NOTHING_CHANGED, second.output
    step = json.loads(second.stdout.splitlines()[2])
    assert (step["step"], step["outcome"]) == ("sync", "nothing_changed")
    assert step["figures"]["created"] == step["figures"]["updated"] == 0


def test_a_failed_refresh_never_reaches_postgres(
    store: Store, tmp_path: Path, platform_db: str
) -> None:
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    result = nightly("--source", str(tmp_path / "src"), "--pg", platform_db)
    assert result.exit_code == ExitCode.PARTLY_FAILED, result.output
    assert "sync: skipped — an earlier step failed" in result.stdout
    assert _count(platform_db, "smarts_import_logs") == 0


def test_an_unmigrated_database_fails_the_sync_step(
    store: Store, tiny_source: Path, make_pg_database: Callable[[], str]
) -> None:
    url = make_pg_database()
    create_esmr_facilities(url)  # the platform's own table is there; ours are not
    result = nightly("--source", str(tiny_source), "--pg", url)
    assert result.exit_code == ExitCode.FAILED, result.output
    assert "sync: failed — " in result.stdout
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "migrate" in error


def test_without_postgres_the_sync_step_is_skipped(store: Store, tmp_path: Path) -> None:
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    with refresh_lock(store.lock_path):  # refresh fails at once: the chain's shape is the point
        result = nightly("--source", str(tmp_path / "src"), "--json")
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(s["step"], s["outcome"]) for s in steps] == [
        ("refresh", "locked"),
        ("match", "skipped"),
        ("sync", "skipped"),
    ]
