"""Data-health figures agree with bare SQL and the run log; the query benchmarks report rows."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from bench.queries import ensure_store, percentile, query_benchmarks
from data_layer.connection import StoreConnection, open_store
from data_layer.datasets import DATASETS, dataset
from data_layer.health import (
    CRITICAL_FIELDS,
    MATCH_RATE_UNAVAILABLE,
    facilities_with_coordinates,
    match_rate,
    null_shares,
    refresh_history,
    refresh_success_rate,
    rejects_by_refresh,
)
from data_layer.settings import Settings
from data_layer.status import read_runs
from data_layer.store import Store, store_at
from loaders.refresh import RefreshOptions, refresh


@pytest.fixture(scope="module")
def conn(tiny_store: Store) -> StoreConnection:
    return open_store(tiny_store.root)


def _bare(store: Store, name: str) -> str:
    return f"read_parquet('{store.data_glob(name)}', hive_partitioning = true)"


def test_critical_fields_cover_every_dataset_with_contract_columns() -> None:
    assert set(CRITICAL_FIELDS) == {ds.name for ds in DATASETS}
    for name, fields in CRITICAL_FIELDS.items():
        ds = dataset(name)
        assert set(fields) <= set(ds.all_names), name
        assert set(ds.key) <= set(fields), name


def test_null_shares_agree_with_bare_sql(conn: StoreConnection, tiny_store: Store) -> None:
    shares = null_shares(conn.cursor())
    assert shares.columns == ["dataset", "field", "rows", "nulls", "null_share"]
    assert shares.height == sum(len(f) for f in CRITICAL_FIELDS.values())
    con = duckdb.connect()
    for row in shares.iter_rows(named=True):
        rows, nulls = con.execute(
            f'SELECT count(*), count(*) FILTER (WHERE "{row["field"]}" IS NULL)'
            f" FROM {_bare(tiny_store, row['dataset'])}"
        ).fetchall()[0]
        assert (row["rows"], row["nulls"]) == (rows, nulls), row
        assert row["null_share"] == pytest.approx(nulls / rows)
    assert shares["nulls"].sum() > 0  # the sample has missing coordinates and results


def test_null_shares_of_an_empty_store_are_null_not_errors(tmp_path: Path) -> None:
    shares = null_shares(open_store(tmp_path / "empty").cursor())
    assert set(shares["rows"]) == {0}
    assert shares["null_share"].null_count() == shares.height


def test_facilities_with_coordinates_agree_with_bare_sql(
    conn: StoreConnection, tiny_store: Store
) -> None:
    figures = facilities_with_coordinates(conn.cursor())
    con = duckdb.connect()
    total = located = outside = 0
    for name, lat, lon in (
        ("industrial_facilities", "facility_latitude", "facility_longitude"),
        ("construction_facilities", "site_latitude", "site_longitude"),
    ):
        n, with_coords, out = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {lat} IS NOT NULL AND {lon} IS NOT NULL),"
            f" count(*) FILTER (WHERE {lat} IS NOT NULL AND {lon} IS NOT NULL"
            f" AND NOT ({lat} BETWEEN 32.4 AND 42.1 AND {lon} BETWEEN -124.5 AND -114.1))"
            f" FROM {_bare(tiny_store, name)}"
        ).fetchall()[0]
        total, located, outside = total + n, located + with_coords, outside + out
    assert figures == {
        "facilities": total,
        "with_coordinates": located,
        "share": pytest.approx(located / total),
        "outside_california": outside,
    }
    assert 0 < located < total


def test_match_rate_is_not_available_before_matching(conn: StoreConnection) -> None:
    figure = match_rate(conn.cursor())
    assert figure["rate"] is None and figure["note"] == MATCH_RATE_UNAVAILABLE


def test_refresh_history_reads_the_run_log_newest_first(tiny_store: Store) -> None:
    runs = list(read_runs(tiny_store.runlog_path))
    history = refresh_history(tiny_store)
    assert history.height == len(runs) >= len(DATASETS)
    assert history["dataset"].to_list() == [r["dataset"] for r in reversed(runs)]
    assert history["rows_out"].to_list() == [r["rows_out"] for r in reversed(runs)]
    assert history["finished_at"].is_sorted(descending=True)
    assert refresh_history(tiny_store, limit=3).height == 3
    assert refresh_history(tiny_store, limit=0).height == 0


@pytest.fixture(scope="module")
def failing_store(tiny_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Violations refreshed three times: published with a reject, unchanged, then failed."""
    base = tmp_path_factory.mktemp("health")
    source = base / "source"
    shutil.copytree(tiny_source, source)
    path = source / "violations.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    rows[5][header.index("OCCURRENCE_DATE")] = "31/31/2020"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])
    store = store_at(base / "store")
    options = RefreshOptions(str(source), ["violations"], reject_threshold=0.5)
    assert [o.outcome for o in refresh(store, options)] == ["published"]
    assert [o.outcome for o in refresh(store, options)] == ["unchanged"]
    path.write_text("<html><body>Service unavailable</body></html>", encoding="utf-8")
    options.force = True
    assert [o.outcome for o in refresh(store, options)] == ["failed"]
    return store


def test_success_rate_counts_a_failed_refresh(failing_store: Store) -> None:
    rate = refresh_success_rate(failing_store)
    assert (rate["attempts"], rate["succeeded"], rate["failed"]) == (3, 2, 1)
    assert rate["rate"] == pytest.approx(2 / 3)
    assert (rate["runs"], rate["runs_with_failure"]) == (3, 1)
    assert rate["by_dataset"] == {"violations": pytest.approx(2 / 3)}


def test_success_rate_counts_only_the_window(failing_store: Store) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=100)
    rate = refresh_success_rate(failing_store, days=90, now=later)
    assert rate["attempts"] == 0 and rate["rate"] is None and rate["by_dataset"] == {}


def test_rejects_by_refresh_lists_each_converting_run(failing_store: Store) -> None:
    frame = rejects_by_refresh(failing_store)
    assert frame["outcome"].to_list() == ["published", "failed"]
    published = frame.row(0, named=True)
    manifest = failing_store.manifest("violations")
    assert published["rejects"] == manifest["rejects"] == 1
    assert published["rows_in"] == manifest["rows_in"]
    assert published["reject_share"] == pytest.approx(1 / manifest["rows_in"])
    (rejected,) = (
        duckdb.connect()
        .execute(f"SELECT count(*) FROM read_parquet('{failing_store.rejects_glob('violations')}')")
        .fetchall()[0]
    )
    assert rejected == published["rejects"]
    assert frame.row(1, named=True)["reject_share"] is None


def test_history_of_a_store_without_runs_is_empty(tmp_path: Path) -> None:
    store = store_at(tmp_path / "empty")
    assert refresh_history(store).height == 0
    assert rejects_by_refresh(store).height == 0
    assert refresh_success_rate(store)["rate"] is None


# Query benchmarks (bench/queries.py): the rows `python cli.py bench` prints.


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 31)]
    assert percentile(values, 50) == 15.0
    assert percentile(values, 95) == 29.0
    assert percentile([7.0], 95) == 7.0


def test_query_benchmarks_build_a_store_and_report_rows(tmp_path: Path) -> None:
    settings = Settings.from_env({"STORMWATER_ESMR_YEARS": "2024"})
    rows = list(query_benchmarks(tmp_path, 0.002, 1, settings, calls=3))
    names = [r["name"] for r in rows]
    assert {
        "query_violations_default_p50_ms",
        "query_violations_default_p95_ms",
        "query_violations_filtered_p95_ms",
        "query_cold_first_ms",
    } <= set(names)
    assert len(names) == len(set(names))
    for row in rows:
        assert set(row) == {"name", "value", "unit", "baseline", "ratio", "scale"}
        assert row["unit"] == "ms" and row["scale"] == 0.002
        assert row["value"] > 0 and row["baseline"] > 0 and row["ratio"] > 0, row
    store = store_at(tmp_path / "store")
    built = {ds.name: store.current_version(ds.name) for ds in DATASETS}
    assert all(built.values())
    assert ensure_store(tmp_path, 0.002, settings) == store  # a complete store is reused
    assert {ds.name: store.current_version(ds.name) for ds in DATASETS} == built
