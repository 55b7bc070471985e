"""The read side's base: views over the current versions, paging, filters bound as parameters."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.store import Store, store_at
from data_layer.violations import violations
from loaders.refresh import RefreshOptions, refresh

HOSTILE = [
    "'",
    '"; DROP TABLE stg_smarts__violations; --',
    "'; DROP TABLE x; --",
    "%",
    "_",
    "ñandú 水",
    "x" * 10_000,
    "\\",
    "NULL",
]


@pytest.fixture(scope="module")
def conn(tiny_store: Store) -> StoreConnection:
    return open_store(tiny_store.root)


def test_violations_default_page_is_newest_first_with_total(conn: StoreConnection) -> None:
    cur = conn.cursor()
    page = violations(cur, limit=20)
    (total,) = cur.execute("SELECT count(*) FROM stg_smarts__violations").fetchall()[0]
    assert page.total == total and page.rows.height == 20
    dates = [d for d in page.rows["occurrence_date"].to_list() if d is not None]
    assert dates == sorted(dates, reverse=True)
    assert {"facility_name", "county", "inspection_id"} <= set(page.rows.columns)


def test_filters_narrow_and_agree_with_bare_sql(conn: StoreConnection) -> None:
    cur = conn.cursor()
    region, vtype = cur.execute(
        "SELECT region, violation_type FROM stg_smarts__violations GROUP BY ALL"
        " ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0]
    since = dt.date(2018, 1, 1)
    page = violations(cur, region=region, violation_type=vtype, date_from=since, limit=5)
    (expected,) = cur.execute(
        "SELECT count(*) FROM stg_smarts__violations WHERE region = ? AND violation_type = ?"
        " AND occurrence_date >= ?",
        [region, vtype, since],
    ).fetchall()[0]
    assert page.total == expected > 0
    assert set(page.rows["region"]) == {region}


def test_inspection_sourced_violations_link_to_their_inspection(conn: StoreConnection) -> None:
    rows = violations(conn.cursor(), limit=10_000).rows
    linked = rows.filter(rows["violation_source"] == "Inspection")
    assert linked.height > 0
    assert linked["inspection_id"].null_count() == 0
    assert (linked["source_inspection_date"] <= linked["occurrence_date"]).all()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_filter_values_are_data_not_sql(conn: StoreConnection, text: str) -> None:
    cur = conn.cursor()
    page = violations(cur, facility=text, county=text, violation_type=[text, "Late Report"])
    assert page.total == 0
    assert violations(cur).total > 0


def test_sort_column_is_whitelisted(conn: StoreConnection) -> None:
    with pytest.raises(ValueError, match="cannot sort by"):
        violations(conn.cursor(), sort="occurrence_date; DROP TABLE x")


def test_new_version_is_seen_without_reopening(
    tiny_source: Path, tiny_store: Store, tmp_path: Path
) -> None:
    store = store_at(tmp_path / "store")
    shutil.copytree(tiny_store.root, store.root, symlinks=True)
    conn = open_store(store.root)
    before = violations(conn.cursor()).total
    src = tmp_path / "src"
    shutil.copytree(tiny_source, src)
    text = (src / "violations.csv").read_text(encoding="utf-8")
    head, first, rest = text.split("\n", 2)
    (src / "violations.csv").write_text(f"{head}\n{rest}", encoding="utf-8")
    package = src / "package.json"
    package.write_text(package.read_text().replace('"last_modified": "', '"last_modified": "X'))
    out = refresh(store, RefreshOptions(str(src), ["violations"]))[0]
    assert out.outcome == "published"
    assert violations(conn.cursor()).total == before - 1


def test_missing_datasets_give_empty_results_not_errors(tmp_path: Path) -> None:
    page = violations(open_store(tmp_path / "empty").cursor())
    assert page.total == 0 and page.rows.height == 0


def test_cached_marts_return_the_same_rows_as_the_parquet_views(tiny_store: Store) -> None:
    conn = open_store(tiny_store.root)
    before = violations(conn.cursor(), limit=10_000).rows
    assert conn.wait_until_cached(timeout=60)
    cur = conn.cursor()
    tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "cache__violations_enriched" in tables
    after = violations(cur, limit=10_000).rows
    assert after.equals(before)
    conn.close()
