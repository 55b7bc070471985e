"""The exceedance marts' in-memory copies under the shipped NAL table give the live views' rows.

Called without `nal=`, the statewide exceedance, gap, map and monitoring-summary queries read
copies built per store version (`connection.DEFAULT_NAL_MODELS`); with the shipped table
passed explicitly they read the live views. Both paths must return identical frames under
every ND rule, before the copies exist, once they do, and after a publish.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from polars.testing import assert_frame_equal

from data_layer.connection import (
    CACHE_PREFIX,
    DEFAULT_NAL_DB,
    DEFAULT_NAL_MODELS,
    StoreConnection,
    default_nal_relation,
    open_store,
)
from data_layer.exceedances import exceedance_summary, exceedances_annual, facility_year_gaps
from data_layer.identifiers import ident
from data_layer.map_points import map_points
from data_layer.match_review import smarts_facility_evidence
from data_layer.monitoring import statewide_summary
from data_layer.nal_table import ND_RULES, bind_rules, load_nal_table
from data_layer.quality import quality_flags_summary
from data_layer.store import Store, store_at
from loaders.refresh import RefreshOptions, refresh


@pytest.fixture(scope="module")
def cached(tiny_store: Store) -> Iterator[StoreConnection]:
    conn = open_store(tiny_store.root)
    assert conn.wait_until_cached(timeout=120)
    yield conn
    conn.close()


def _years(cur: duckdb.DuckDBPyConnection) -> list[int]:
    rows = cur.sql(
        "select distinct reporting_year from stg_smarts__industrial_monitoring order by 1"
    ).fetchall()
    return [int(y) for (y,) in rows]


def _copies(cur: duckdb.DuckDBPyConnection) -> set[str]:
    rows = cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [DEFAULT_NAL_DB]
    ).fetchall()
    return {r[0] for r in rows}


def _assert_relations_agree(cur: duckdb.DuckDBPyConnection) -> None:
    """Every row (all ND rules) of each model read for the shipped table equals the live view's."""
    bind_rules(cur)
    for name in DEFAULT_NAL_MODELS:
        copy = cur.sql(f"SELECT * FROM {default_nal_relation(name)} ORDER BY ALL").pl()
        live = cur.sql(f"SELECT * FROM {ident(name)} ORDER BY ALL").pl()
        assert copy.height > 0
        assert_frame_equal(copy, live, check_exact=True)


def _assert_functions_agree(cur: duckdb.DuckDBPyConnection, nd_rule: str) -> None:
    """Annual pages of every year and the summary of every parameter in the busiest year."""
    shipped = load_nal_table()
    totals = {}
    for year in _years(cur):
        args = {"year": year, "nd_rule": nd_rule, "limit": 10_000}
        copy = exceedances_annual(cur, **args)
        live = exceedances_annual(cur, nal=shipped, **args)
        assert copy.total == live.total
        assert_frame_equal(copy.rows, live.rows, check_exact=True)
        totals[year] = copy.total
    year = max(totals, key=totals.__getitem__)
    assert totals[year] > 0
    page = exceedances_annual(cur, year=year, nd_rule=nd_rule, limit=10_000).rows
    region = page["region"].drop_nulls()[0]
    for args in (
        {"exceeding_only": True},
        {"sort": "average", "descending": False, "limit": 7, "offset": 3},
        {"parameter": page["parameter"][0], "region": region},
    ):
        copy = exceedances_annual(cur, year=year, nd_rule=nd_rule, **args)
        live = exceedances_annual(cur, year=year, nd_rule=nd_rule, nal=shipped, **args)
        assert copy.total == live.total
        assert_frame_equal(copy.rows, live.rows, check_exact=True)
    for parameter in sorted(set(page["parameter"])):
        copy = exceedance_summary(cur, parameter=parameter, year=year, nd_rule=nd_rule)
        live = exceedance_summary(cur, parameter=parameter, year=year, nd_rule=nd_rule, nal=shipped)
        assert copy.height > 0
        assert_frame_equal(copy, live, check_exact=True)
        span = {"year_from": min(totals), "year_to": max(totals)}
        copy = statewide_summary(cur, parameter=parameter, nd_rule=nd_rule, **span)
        live = statewide_summary(cur, parameter=parameter, nd_rule=nd_rule, nal=shipped, **span)
        assert copy.height > 0
        assert_frame_equal(copy, live, check_exact=True)
    gaps = facility_year_gaps(cur, nd_rule=nd_rule, limit=1).rows
    assert gaps.height == 1
    top = gaps.row(0, named=True)  # a facility-year with computed exceedances, and its region
    for args in (
        {},
        {"year": top["reporting_year"]},
        {"year": top["reporting_year"], "region": top["region"]},
    ):
        copy = facility_year_gaps(cur, nd_rule=nd_rule, limit=10_000, **args)
        live = facility_year_gaps(cur, nd_rule=nd_rule, limit=10_000, nal=shipped, **args)
        assert copy.total == live.total > 0
        assert_frame_equal(copy.rows, live.rows, check_exact=True)
        copy = map_points(cur, nd_rule=nd_rule, **args)
        live = map_points(cur, nd_rule=nd_rule, nal=shipped, **args)
        assert copy["exceedances"].sum() > 0
        assert_frame_equal(copy, live, check_exact=True)
    assert_frame_equal(quality_flags_summary(cur), quality_flags_summary(cur, nal=shipped))
    keys = [(top["wdid"], top["app_id"]), *zip(page["wdid"], page["app_id"], strict=True)]
    copy = smarts_facility_evidence(cur, keys, nd_rule=nd_rule)
    live = smarts_facility_evidence(cur, keys, nd_rule=nd_rule, nal=shipped)
    assert copy["computed_exceedances"].sum() > 0
    assert_frame_equal(copy, live, check_exact=True)


def test_copies_hold_the_live_rows(cached: StoreConnection) -> None:
    cur = cached.cursor()
    assert _copies(cur) == {CACHE_PREFIX + name for name in DEFAULT_NAL_MODELS}
    views = cur.execute(
        "SELECT sql FROM duckdb_views() WHERE database_name = ?", [DEFAULT_NAL_DB]
    ).fetchall()
    assert len(views) == len(DEFAULT_NAL_MODELS)
    assert all(CACHE_PREFIX in sql for (sql,) in views)
    _assert_relations_agree(cur)


@pytest.mark.parametrize("nd_rule", ND_RULES)
def test_copy_and_live_view_return_identical_frames(cached: StoreConnection, nd_rule: str) -> None:
    _assert_functions_agree(cached.cursor(), nd_rule)


def test_before_the_copies_exist_the_live_rows_are_read(tiny_store: Store) -> None:
    conn = open_store(tiny_store.root)
    try:
        cur = conn.cursor()  # copies are built from a version's second cursor on
        assert not _copies(cur)
        _assert_relations_agree(cur)
        _assert_functions_agree(cur, "exclude")
    finally:
        conn.close()


def test_a_publish_replaces_the_copies(
    tiny_source: Path, tiny_store: Store, tmp_path: Path
) -> None:
    store = store_at(tmp_path / "store")
    shutil.copytree(tiny_store.root, store.root, symlinks=True)
    conn = open_store(store.root)
    try:
        assert conn.wait_until_cached(timeout=120)
        cur = conn.cursor()
        year, before = max(
            ((y, exceedances_annual(cur, year=y, limit=10_000)) for y in _years(cur)),
            key=lambda pair: pair[1].total,
        )
        dropped = before.rows["wdid"][0]

        src = tmp_path / "src"
        shutil.copytree(tiny_source, src)
        _drop_facility(src / "industrial_monitoring.csv", dropped)
        package = src / "package.json"
        package.write_text(package.read_text().replace('"last_modified": "', '"last_modified": "X'))
        out = refresh(store, RefreshOptions(str(src), ["industrial_monitoring"]))[0]
        assert out.outcome == "published"

        after = exceedances_annual(conn.cursor(), year=year, limit=10_000)
        assert dropped not in after.rows["wdid"].to_list()
        assert 0 < after.total < before.total
        assert conn.wait_until_cached(timeout=120)
        rebuilt = exceedances_annual(conn.cursor(), year=year, limit=10_000)
        assert_frame_equal(rebuilt.rows, after.rows, check_exact=True)
        _assert_relations_agree(conn.cursor())
    finally:
        conn.close()


def _drop_facility(path: Path, wdid: str) -> None:
    """Rewrite a monitoring CSV without one facility's rows."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("WDID")
    kept = [rows[0], *(r for r in rows[1:] if r[column] != wdid)]
    assert len(kept) < len(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(kept)
