"""What changed between versions: recorded and computed change sets, new rows, older versions."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from data_layer.changes import (
    at_version,
    changed_keys,
    changes_summary,
    diff_sql,
    new_since,
    rows_at_version,
)
from data_layer.connection import open_store
from data_layer.datasets import TYPES
from data_layer.datasets import dataset as contract
from data_layer.errors import StoreMissing
from data_layer.identifiers import ident, literal
from data_layer.store import Store, store_at
from loaders.refresh import RefreshOptions, refresh

YEARS = (2023, 2024)


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _publish(store: Store, source: Path, datasets: list[str]) -> dict[str, str]:
    outcomes = refresh(
        store, RefreshOptions(str(source), datasets=datasets, force=True, esmr_years=YEARS)
    )
    assert all(o.outcome == "published" for o in outcomes), [(o.dataset, o.error) for o in outcomes]
    return {o.dataset: o.version for o in outcomes}


@dataclass
class History:
    """A store with three versions of violations (two of esmr_samples) and what each changed."""

    store: Store
    source: Path
    v1: str
    v2: str
    v3: str
    esmr1: str
    esmr2: str
    removed_v2: set[str]
    changed_v2: set[str]
    added_v2: set[str]
    removed_v3: set[str]
    added_v3: set[str]
    esmr_new_result: str


@pytest.fixture(scope="module")
def history(tiny_source: Path, tmp_path_factory: pytest.TempPathFactory) -> History:
    base = tmp_path_factory.mktemp("changes")
    source = base / "source"
    shutil.copytree(tiny_source, source)
    store = store_at(base / "store")
    first = _publish(store, source, ["violations", "esmr_samples"])

    violations_csv = source / "violations.csv"
    header, rows = _read(violations_csv)
    vid, status = header.index("VIOLATION_ID"), header.index("VIOLATION_STATUS")
    removed_v2 = {rows[0][vid], rows[1][vid]}
    changed_v2 = {rows[2][vid], rows[3][vid]}
    for row in rows[2:4]:
        row[status] = "Closed" if row[status] != "Closed" else "Open"
    extra = list(rows[4])
    extra[vid] = "990000001"
    rows = [*rows[2:], extra]
    _write(violations_csv, header, rows)

    esmr_csv = source / "esmr_2024.csv"
    e_header, e_rows = _read(esmr_csv)
    result, qualifier = e_header.index("result"), e_header.index("qualifier")
    measured = next(r for r in e_rows if r[qualifier] == "=" and r[result])
    measured[result] = "123.456"
    _write(esmr_csv, e_header, e_rows)
    time.sleep(1.1)  # publish times have one-second resolution: keep v1 and v2 apart
    second = _publish(store, source, ["violations", "esmr_samples"])

    removed_v3 = {rows[5][vid]}
    extra3 = list(rows[6])
    extra3[vid] = "990000002"
    rows = [r for r in rows if r[vid] not in removed_v3] + [extra3]
    _write(violations_csv, header, rows)
    third = _publish(store, source, ["violations"])
    return History(
        store=store,
        source=source,
        v1=first["violations"],
        v2=second["violations"],
        v3=third["violations"],
        esmr1=first["esmr_samples"],
        esmr2=second["esmr_samples"],
        removed_v2=removed_v2,
        changed_v2=changed_v2,
        added_v2={"990000001"},
        removed_v3=removed_v3,
        added_v3={"990000002"},
        esmr_new_result="123.456",
    )


def _by_change(frame: pl.DataFrame, key: str = "violation_id") -> dict[str, set]:
    return {
        kind: set(frame.filter(pl.col("change") == kind)[key].to_list())
        for kind in ("added", "changed", "removed")
    }


def test_current_version_changes_are_those_recorded_at_publish(history: History) -> None:
    frame = changed_keys(history.store, "violations")
    assert frame.columns == ["violation_id", "change"]
    assert _by_change(frame) == {
        "added": history.added_v3,
        "changed": set(),
        "removed": history.removed_v3,
    }


def test_older_version_changes_against_its_predecessor(history: History) -> None:
    conn = open_store(history.store.root)
    frame = changed_keys(conn, "violations", version=history.v2)
    assert _by_change(frame) == {
        "added": history.added_v2,
        "changed": history.changed_v2,
        "removed": history.removed_v2,
    }
    assert changed_keys(conn, "violations", version=history.v2, since_version=history.v1).equals(
        frame
    )


def test_changes_across_two_publishes_are_computed_from_both_versions(history: History) -> None:
    frame = changed_keys(history.store, "violations", since_version=history.v1)
    assert _by_change(frame) == {
        "added": history.added_v2 | history.added_v3,
        "changed": history.changed_v2,
        "removed": history.removed_v2 | history.removed_v3,
    }
    removed = changed_keys(history.store, "violations", since_version=history.v1, change="removed")
    assert set(removed["change"]) == {"removed"}
    assert set(removed["violation_id"]) == history.removed_v2 | history.removed_v3


def test_computed_changes_agree_with_bare_sql(history: History) -> None:
    store = history.store
    old, new = (
        f"read_parquet('{store.data_glob('violations', v)}', hive_partitioning = true)"
        for v in (history.v1, history.v3)
    )
    con = duckdb.connect()
    expected = {
        "added": f"SELECT violation_id FROM {new} EXCEPT SELECT violation_id FROM {old}",
        "removed": f"SELECT violation_id FROM {old} EXCEPT SELECT violation_id FROM {new}",
        "changed": f"SELECT violation_id FROM (SELECT * FROM {new} EXCEPT SELECT * FROM {old})"
        f" WHERE violation_id IN (SELECT violation_id FROM {old})",
    }
    frame = changed_keys(store, "violations", since_version=history.v1)
    for kind, sql in expected.items():
        keys = {k for (k,) in con.execute(sql).fetchall()}
        assert set(frame.filter(pl.col("change") == kind)["violation_id"]) == keys, kind


def test_computed_changes_match_those_recorded_at_publish(history: History, tmp_path: Path) -> None:
    store = store_at(tmp_path / "store")
    shutil.copytree(history.store.root, store.root)
    recorded = changed_keys(store, "violations", version=history.v2)
    store.changes_path("violations", history.v2).unlink()
    assert changed_keys(store, "violations", version=history.v2).equals(recorded)
    recorded = changed_keys(store, "esmr_samples", version=history.esmr2)
    store.changes_path("esmr_samples", history.esmr2).unlink()
    assert changed_keys(store, "esmr_samples", version=history.esmr2).equals(recorded)


def test_no_key_dataset_changes_are_content_hashes(history: History) -> None:
    frame = changed_keys(history.store, "esmr_samples", version=history.esmr2)
    assert frame.columns == ["_content", "change"]
    assert sorted(frame["change"]) == ["added", "removed"]
    assert frame.equals(
        changed_keys(
            history.store, "esmr_samples", version=history.esmr2, since_version=history.esmr1
        ).select(frame.columns)
    )


def test_change_kind_is_checked(history: History) -> None:
    with pytest.raises(ValueError, match="change must be one of"):
        changed_keys(history.store, "violations", change="added'; DROP TABLE x; --")


def test_newer_since_version_is_refused(history: History) -> None:
    with pytest.raises(ValueError, match="newer"):
        changed_keys(history.store, "violations", version=history.v1, since_version=history.v3)


def _published(store: Store, version: str) -> dt.datetime:
    return dt.datetime.fromisoformat(store.manifest("violations", version)["published_at"])


def test_new_since_compares_with_the_version_current_at_the_cutoff(history: History) -> None:
    conn = open_store(history.store.root)
    now = _published(history.store, history.v2) + dt.timedelta(days=7)
    new = new_since(conn, "violations", days=7, now=now)
    assert set(new["violation_id"]) == history.added_v2 | history.added_v3
    assert set(new["change"]) == {"added"}
    assert {"wdid", "occurrence_date", "violation_status"} <= set(new.columns)
    with_changed = new_since(conn, "violations", 7, kinds=("added", "changed"), now=now)
    assert _by_change(with_changed)["changed"] == history.changed_v2


def test_new_since_counts_every_row_when_the_first_publish_is_in_the_window(
    history: History,
) -> None:
    conn = open_store(history.store.root)
    new = new_since(conn, "violations", days=7)
    (total,) = conn.cursor().execute("SELECT count(*) FROM stg_smarts__violations").fetchall()[0]
    assert new.height == total


def test_new_since_is_empty_when_nothing_was_published_in_the_window(history: History) -> None:
    conn = open_store(history.store.root)
    later = _published(history.store, history.v3) + dt.timedelta(days=30)
    new = new_since(conn, "violations", days=7, now=later)
    assert new.height == 0 and "violation_id" in new.columns and "change" in new.columns


def test_new_since_finds_rows_of_a_dataset_without_key(history: History) -> None:
    conn = open_store(history.store.root)
    now = dt.datetime.fromisoformat(
        history.store.manifest("esmr_samples", history.esmr2)["published_at"]
    ) + dt.timedelta(days=7)
    new = new_since(conn, "esmr_samples", days=7, now=now)
    assert new.height == 1
    assert new["result"].to_list() == [float(history.esmr_new_result)]


def test_summary_lists_each_kept_version_with_its_counts(history: History) -> None:
    summary = changes_summary(history.store, all_versions=True)
    violations = summary.filter(pl.col("dataset") == "violations")
    assert violations["version"].to_list() == [history.v3, history.v2, history.v1]
    assert violations["current"].to_list() == [True, False, False]
    assert violations["previous"].to_list() == [history.v2, history.v1, None]
    v2 = violations.row(1, named=True)
    assert (v2["added"], v2["changed"], v2["removed"]) == (1, 2, 2)
    never = summary.filter(pl.col("dataset") == "inspections")
    assert never.height == 1 and never["version"].to_list() == [None]
    current = changes_summary(history.store)
    assert current.filter(pl.col("dataset") == "violations")["version"].to_list() == [history.v3]


def test_rows_of_an_older_version_stay_queryable(history: History) -> None:
    conn = open_store(history.store.root)
    cur = conn.cursor()
    old = rows_at_version(cur, history.store, "violations", history.v1, limit=10_000)
    now = rows_at_version(cur, history.store, "violations", history.v3, limit=10_000)
    assert history.removed_v2 <= set(old.rows["violation_id"])
    assert not history.removed_v2 & set(now.rows["violation_id"])
    assert old.total == now.total + 1  # v2: two removed, one added; v3: one of each
    page = rows_at_version(cur, history.store, "violations", history.v1, limit=5, offset=5)
    assert page.rows.height == 5 and page.total == old.total


def test_older_version_view_is_private_to_its_cursor_and_dropped(history: History) -> None:
    conn = open_store(history.store.root)
    cur, other = conn.cursor(), conn.cursor()
    with at_version(cur, history.store, "violations", history.v1) as view:
        (n,) = cur.execute(f"SELECT count(*) FROM {ident(view)}").fetchall()[0]
        assert n > 0
        with pytest.raises(duckdb.CatalogException):
            other.execute(f"SELECT count(*) FROM {ident(view)}").fetchall()
    with pytest.raises(duckdb.CatalogException):
        cur.execute(f"SELECT count(*) FROM {ident(view)}").fetchall()


@pytest.mark.parametrize("version", ["20000101T000000000000Z-000000", "../../violations", ""])
def test_unknown_version_is_store_missing(history: History, version: str) -> None:
    cur = open_store(history.store.root).cursor()
    with pytest.raises(StoreMissing, match="not kept"):
        rows_at_version(cur, history.store, "violations", version)
    with pytest.raises(StoreMissing, match="not kept"):
        changed_keys(history.store, "violations", since_version=version)


def test_pruned_version_is_store_missing_and_new_rows_still_found(
    history: History, tmp_path: Path
) -> None:
    store = store_at(tmp_path / "store")
    shutil.copytree(history.store.root, store.root)
    source = tmp_path / "source"
    shutil.copytree(history.source, source)
    header, rows = _read(source / "violations.csv")
    vid = header.index("VIOLATION_ID")
    extra = list(rows[0])
    extra[vid] = "990000003"
    _write(source / "violations.csv", header, [*rows, extra])
    v4 = _publish(store, source, ["violations"])["violations"]

    assert store.versions("violations") == [history.v2, history.v3, v4]
    cur = open_store(store.root).cursor()
    with pytest.raises(StoreMissing, match=f"{history.v1} of violations is not kept"):
        rows_at_version(cur, store, "violations", history.v1)
    with pytest.raises(StoreMissing, match="not kept"):
        changed_keys(store, "violations", since_version=history.v1)
    with pytest.raises(StoreMissing), at_version(cur, store, "violations", history.v1):
        pass
    assert set(changed_keys(store, "violations", version=history.v2)["change"]) == {
        "added",
        "changed",
        "removed",
    }  # its own recorded changes outlive the pruned predecessor

    now = _published(store, history.v2) + dt.timedelta(days=7)
    new = new_since(open_store(store.root), "violations", days=7, now=now)
    assert set(new["violation_id"]) == history.added_v2 | history.added_v3 | {"990000003"}


def test_unpublished_dataset_is_store_missing(tmp_path: Path) -> None:
    with pytest.raises(StoreMissing, match="refresh"):
        changed_keys(store_at(tmp_path / "empty"), "violations")
    with pytest.raises(StoreMissing):
        new_since(open_store(tmp_path / "empty"), "violations")


# diff_sql itself, on small relations whose answer is known.


def _relation(ds_name: str, rows: list[dict[str, object]]) -> str:
    """A VALUES relation with every contract column of the dataset, NULL where not given."""
    ds = contract(ds_name)
    selects = []
    for row in rows:
        cols = [
            f"{literal(row[c.name]) if c.name in row else 'NULL'}::{TYPES[c.type]}"
            f" AS {ident(c.name)}"
            for c in ds.columns
        ]
        selects.append("SELECT " + ", ".join(cols))
    return " UNION ALL ".join(selects)


def test_diff_compares_each_keys_rows_as_a_whole() -> None:
    def sample(sample_id: str, result: float) -> dict[str, object]:
        return {"report_id": "R1", "sample_id": sample_id, "parameter": "Zinc", "result": result}

    old = [sample("same", 1.0), sample("edited", 1.0), sample("gone", 1.0)]
    old += [sample("twice", 1.0), sample("twice", 2.0), sample("twice-same", 1.0)]
    old += [sample("twice-same", 2.0)]
    new = [sample("same", 1.0), sample("edited", 9.0), sample("new", 1.0)]
    new += [sample("twice", 1.0), sample("twice", 3.0), sample("twice-same", 2.0)]
    new += [sample("twice-same", 1.0)]
    ds = contract("industrial_monitoring")
    sql = diff_sql(ds, _relation(ds.name, new), _relation(ds.name, old))
    got = duckdb.sql(f"SELECT sample_id, change FROM ({sql}) ORDER BY 1").fetchall()
    assert got == [
        ("edited", "changed"),
        ("gone", "removed"),
        ("new", "added"),
        ("twice", "changed"),
    ]


def test_diff_without_a_key_counts_copies_of_each_row() -> None:
    def row(place: str) -> dict[str, object]:
        return {"facility_place_id": place, "parameter": "Zinc", "result": 1.0}

    ds = contract("esmr_samples")
    old = [row("kept"), row("doubled"), row("gone")]
    new = [row("kept"), row("doubled"), row("doubled"), row("new")]
    sql = diff_sql(ds, _relation(ds.name, new), _relation(ds.name, old))
    by_hash = dict(duckdb.sql(f"SELECT _content, change FROM ({sql})").fetchall())
    hashes = dict(
        duckdb.sql(
            f"SELECT facility_place_id, hash({', '.join(ident(c) for c in ds.column_names)})"
            f" FROM ({_relation(ds.name, [row(p) for p in ('doubled', 'gone', 'new')])})"
        ).fetchall()
    )
    assert by_hash == {
        hashes["doubled"]: "changed",
        hashes["gone"]: "removed",
        hashes["new"]: "added",
    }
