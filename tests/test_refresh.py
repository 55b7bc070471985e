"""Refresh on small real files: publish, skip unchanged, diff, keep versions, roll back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from data_layer.changes import changed_keys
from data_layer.errors import NothingToRollBack, RefreshLocked
from data_layer.status import dataset_status
from data_layer.store import Store, store_at
from loaders.lock import refresh_lock
from loaders.publish import rollback
from loaders.refresh import FAILED, PUBLISHED, UNCHANGED, RefreshOptions, refresh
from tests.factories import rows_for, write_csv


def run(store: Store, source: Path, *names: str, force: bool = False, threshold: float = 0.01):
    options = RefreshOptions(
        source=str(source),
        datasets=list(names),
        force=force,
        reject_threshold=threshold,
        memory_limit="500MB",
    )
    return {o.dataset: o for o in refresh(store, options)}


def read(store: Store, name: str, sql: str = "SELECT * FROM t") -> list[tuple]:
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW t AS SELECT * FROM read_parquet('{store.data_glob(name)}',"
        " hive_partitioning = true)"
    )
    return con.execute(sql).fetchall()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return store_at(tmp_path / "store")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    write_csv(src / "violations.csv", "violations", rows_for("violations", 50))
    return src


def test_first_refresh_publishes_typed_rows(store: Store, source: Path) -> None:
    out = run(store, source, "violations")["violations"]
    assert out.outcome == PUBLISHED and out.rows_out == 50 and out.rejects == 0
    ((count, serious, when, region),) = read(
        store,
        "violations",
        "SELECT count(*), any_value(serious_violation), max(occurrence_date), any_value(region)"
        " FROM t",
    )
    assert count == 50 and serious is False and str(when) == "2021-03-04" and region == "4"
    manifest = store.manifest("violations")
    assert manifest["rows"] == 50 and manifest["changes"] == {
        "added": 50,
        "changed": 0,
        "removed": 0,
    }


@pytest.mark.parametrize(
    ("name", "column", "spellings"),
    [
        (
            "industrial_monitoring",
            "WDID",
            {
                "4 19I000001": "4",
                " 5s34I012345": "5S",
                "6B 33I1": "6B",
                "1A19I000002": None,
                "5 19I000003": None,
                "X19I000004": None,
            },
        ),
        (
            "violations",
            "REGIONAL_BOARD",
            {"4": "4", "Region 5S": "5S", "R6A": "6A", "5": None, "region 9": "9", "NA": None},
        ),
    ],
)
def test_region_is_derived_from_each_spelling(
    store: Store, tmp_path: Path, name: str, column: str, spellings: dict[str, str | None]
) -> None:
    src = tmp_path / "regions"
    rows = rows_for(name, len(spellings))
    for row, spelling in zip(rows, spellings, strict=True):
        row[column] = spelling
    write_csv(src / f"{name}.csv", name, rows)
    assert run(store, src, name)[name].outcome == PUBLISHED
    source = {"WDID": "wdid", "REGIONAL_BOARD": "regional_board"}[column]
    got = dict(read(store, name, f"SELECT {source}, region FROM t"))
    expected = {(None if s == "NA" else s): r for s, r in spellings.items()}
    assert got == expected


def test_a_first_version_records_its_keys_as_added_without_a_changes_file(
    store: Store, source: Path
) -> None:
    out = run(store, source, "violations")["violations"]
    assert out.changes == {"added": 50, "changed": 0, "removed": 0}
    assert not store.changes_path("violations").exists()
    added = changed_keys(store, "violations")
    assert added.height == 50 and set(added["change"]) == {"added"}


def test_unchanged_source_is_skipped_and_force_reloads(store: Store, source: Path) -> None:
    first = run(store, source, "violations")["violations"]
    second = run(store, source, "violations")["violations"]
    assert second.outcome == UNCHANGED and second.version == first.version
    forced = run(store, source, "violations", force=True)["violations"]
    assert forced.outcome == PUBLISHED and forced.version != first.version
    assert forced.changes == {"added": 0, "changed": 0, "removed": 0}


def test_changes_record_added_changed_removed_keys(store: Store, source: Path) -> None:
    run(store, source, "violations")
    rows = rows_for("violations", 50)
    rows[0]["VIOLATION_STATUS"] = "Dismissed"
    del rows[1]
    rows += rows_for("violations", 2, start=100)
    write_csv(source / "violations.csv", "violations", rows)
    os.utime(source / "violations.csv", (1, 1))
    out = run(store, source, "violations")["violations"]
    assert out.changes == {"added": 2, "changed": 1, "removed": 1}
    changes = duckdb.sql(
        f"SELECT violation_id, change FROM '{store.changes_path('violations')}' ORDER BY 1"
    ).fetchall()
    assert changes == [
        ("V000001", "changed"),
        ("V000002", "removed"),
        ("V000100", "added"),
        ("V000101", "added"),
    ]


def test_two_previous_versions_are_kept_and_rollback_restores(store: Store, source: Path) -> None:
    versions = [
        run(store, source, "violations", force=True)["violations"].version for _ in range(4)
    ]
    assert store.versions("violations") == versions[1:]
    assert rollback(store, "violations") == (versions[3], versions[2])
    assert store.current_version("violations") == versions[2]
    assert read(store, "violations", "SELECT count(*) FROM t") == [(50,)]
    rollback(store, "violations")
    with pytest.raises(NothingToRollBack):
        rollback(store, "violations")


def test_second_refresh_while_locked_fails_at_once(store: Store, source: Path) -> None:
    with refresh_lock(store.lock_path), pytest.raises(RefreshLocked, match="another refresh"):
        run(store, source, "violations")


def test_lock_of_a_dead_process_does_not_block(store: Store, source: Path) -> None:
    store.lock_path.parent.mkdir(parents=True)
    store.lock_path.write_text(json.dumps({"pid": 999999, "started": "2020-01-01"}))
    assert run(store, source, "violations")["violations"].outcome == PUBLISHED


def test_missing_source_file_fails_that_dataset_only(store: Store, source: Path) -> None:
    outcomes = run(store, source)
    assert outcomes["violations"].outcome == PUBLISHED
    assert outcomes["inspections"].outcome == FAILED
    assert "no source file" in outcomes["inspections"].error
    status = {r["dataset"]: r for r in dataset_status(store)}
    assert status["violations"]["health"] == "ok"
    assert status["inspections"]["health"] == "missing"


def test_run_log_records_every_dataset(store: Store, source: Path) -> None:
    run(store, source, "violations")
    records = [json.loads(line) for line in store.runlog_path.read_text().splitlines()]
    assert [r["dataset"] for r in records] == ["violations"]
    assert records[0]["outcome"] == PUBLISHED and records[0]["rows_out"] == 50
    assert records[0]["bytes"] > 0 and records[0]["duration_s"] >= 0


def test_package_file_without_size_or_date_goes_by_the_file_on_disk(
    store: Store, source: Path
) -> None:
    resource = {"name": "Violations", "url": "violations.csv", "format": "CSV", "size": None}
    (source / "package.json").write_text(
        json.dumps({"success": True, "result": {"name": "smarts", "resources": [resource]}})
    )
    assert run(store, source, "violations")["violations"].outcome == PUBLISHED
    assert run(store, source, "violations")["violations"].outcome == UNCHANGED
    write_csv(source / "violations.csv", "violations", rows_for("violations", 60))
    again = run(store, source, "violations")["violations"]
    assert again.outcome == PUBLISHED and again.changes["added"] == 10


def test_one_thread_publishes_the_same_rows(store: Store, source: Path, tmp_path: Path) -> None:
    run(store, source, "violations")
    single = store_at(tmp_path / "single")
    options = RefreshOptions(source=str(source), datasets=["violations"], threads=1)
    (out,) = refresh(single, options)
    assert out.outcome == PUBLISHED
    sql = "SELECT * FROM t ORDER BY violation_id"
    assert read(single, "violations", sql) == read(store, "violations", sql)
