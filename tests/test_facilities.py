"""Facility search ranking, one facility's profile, its linked records and the filter options."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.facilities import (
    OPTION_FIELDS,
    facility_enforcement,
    facility_inspections,
    facility_monitoring_reports,
    facility_options,
    facility_profile,
    facility_search,
    facility_violations,
)
from data_layer.store import Store
from tests.test_data_layer_base import HOSTILE

RECORDS = {
    "violation_count": "stg_smarts__violations",
    "enforcement_count": "stg_smarts__enforcement_actions",
    "inspection_count": "stg_smarts__inspections",
}


@pytest.fixture(scope="module")
def conn(tiny_store: Store) -> StoreConnection:
    return open_store(tiny_store.root)


@pytest.fixture(scope="module")
def facilities(conn: StoreConnection) -> pl.DataFrame:
    """Every facility with its bare record counts, computed straight from the staging views."""
    counts = ", ".join(
        f"(SELECT count(*) FROM {view} r WHERE r.wdid = f.wdid AND r.app_id = f.app_id) AS {name}"
        for name, view in RECORDS.items()
    )
    return (
        conn.cursor()
        .sql(
            "SELECT wdid, app_id, display_name, operator, city, permit_family, "
            f"{counts} FROM int_facilities_unified f"
        )
        .pl()
    )


def _words(text: str | None) -> list[str]:
    return (text or "").lower().split()


def _rank(result: pl.DataFrame, wdid: str) -> int:
    return result["wdid"].to_list().index(wdid)


# --- search ------------------------------------------------------------------------------------


def test_exact_wdid_comes_first_whatever_its_case_and_spacing(
    conn: StoreConnection, facilities: pl.DataFrame
) -> None:
    cur = conn.cursor()
    for wdid in facilities.sort("violation_count")["wdid"].head(3):
        for typed in (wdid, wdid.lower(), wdid.replace(" ", ""), f"  {wdid}  "):
            result = facility_search(cur, typed)
            assert result["wdid"][0] == wdid and result["match_rank"][0] == 0, typed


def test_name_prefix_ranks_above_a_mid_word_match(
    conn: StoreConnection, facilities: pl.DataFrame
) -> None:
    cur = conn.cursor()
    rows = facilities.to_dicts()
    checked = 0
    for name in sorted({r["display_name"] for r in rows if r["display_name"]}):
        token = name[:3].lower()
        if _words(token) != [token] or len(token) < 3:
            continue
        mid_word = [
            r
            for r in rows
            if token in (r["display_name"] or "").lower()
            and not any(
                w.startswith(token)
                for w in _words(
                    " ".join(filter(None, (r["display_name"], r["operator"], r["city"])))
                )
            )
        ]
        if not mid_word:
            continue
        result = facility_search(cur, token.upper(), limit=1_000)
        prefix_wdid = facilities.filter(pl.col("display_name") == name)["wdid"][0]
        for wdid in (r["wdid"] for r in mid_word):
            assert _rank(result, prefix_wdid) < _rank(result, wdid), (token, name)
            assert result.filter(pl.col("wdid") == wdid)["match_rank"][0] == 3
        assert result.filter(pl.col("wdid") == prefix_wdid)["match_rank"][0] == 1
        checked += 1
        if checked == 3:
            break
    assert checked > 0


def test_search_finds_every_literal_match_and_only_those(
    conn: StoreConnection, facilities: pl.DataFrame
) -> None:
    cur = conn.cursor()
    for text in ("cal", "SAN", "ro", "fremont", "inc"):
        result = facility_search(cur, text, limit=1_000)
        expected = facilities.filter(
            pl.any_horizontal(
                pl.col(c).str.to_lowercase().str.contains(text.lower(), literal=True)
                for c in ("wdid", "display_name", "operator", "city")
            )
        )
        assert set(zip(result["wdid"], result["app_id"], strict=True)) == set(
            zip(expected["wdid"], expected["app_id"], strict=True)
        ), text
        ranks = result["match_rank"].to_list()
        assert ranks == sorted(ranks)
        for _, group in result.group_by("match_rank", maintain_order=True):
            counts = group["violation_count"].to_list()
            assert counts == sorted(counts, reverse=True)


def test_search_matches_separate_words_of_a_name(
    conn: StoreConnection, facilities: pl.DataFrame
) -> None:
    cur = conn.cursor()
    row = next(
        r
        for r in facilities.sort("wdid").iter_rows(named=True)
        if len(_words(r["display_name"])) >= 3
    )
    first, _, third = _words(row["display_name"])[:3]
    result = facility_search(cur, f"{first.upper()} {third}")
    hit = result.filter(pl.col("wdid") == row["wdid"])
    assert hit.height == 1 and hit["match_rank"][0] <= 2
    by_city = facility_search(cur, row["city"], limit=1_000)
    assert row["wdid"] in by_city["wdid"].to_list()


def test_search_rows_carry_counts_that_agree_with_bare_sql(
    conn: StoreConnection, facilities: pl.DataFrame
) -> None:
    result = facility_search(conn.cursor(), "a", limit=1_000)
    assert result.height > 20
    joined = result.join(facilities, on=["wdid", "app_id"], suffix="_bare")
    assert joined.height == result.height
    for name in RECORDS:
        assert (joined[name] == joined[f"{name}_bare"]).all(), name
    assert {"display_name", "city", "county", "region", "permit_family", "status"} <= set(
        result.columns
    )
    assert facility_search(conn.cursor(), "a", limit=5).height == 5
    assert facility_search(conn.cursor(), "   ").height == 0


# --- profile and links -------------------------------------------------------------------------


def _busiest(facilities: pl.DataFrame, n: int = 8) -> list[dict]:
    return facilities.sort(list(RECORDS), descending=True).head(n).to_dicts()


def test_profile_has_the_unified_columns_counts_and_activity_span(
    conn: StoreConnection, facilities: pl.DataFrame
) -> None:
    cur = conn.cursor()
    unified = cur.sql("SELECT * FROM int_facilities_unified LIMIT 0").columns
    for fac in _busiest(facilities):
        profile = facility_profile(cur, fac["wdid"], fac["app_id"])
        assert profile is not None
        assert set(unified) <= set(profile)
        for name in RECORDS:
            assert profile[name] == fac[name]
        dates = cur.execute(
            "SELECT min(d), max(d) FROM ("
            " SELECT coalesce(occurrence_date, discovery_date) AS d FROM stg_smarts__violations"
            "  WHERE wdid = $1 AND app_id = $2"
            " UNION ALL SELECT issuance_date FROM stg_smarts__enforcement_actions"
            "  WHERE wdid = $1 AND app_id = $2"
            " UNION ALL SELECT inspection_date FROM stg_smarts__inspections"
            "  WHERE wdid = $1 AND app_id = $2)",
            [fac["wdid"], fac["app_id"]],
        ).fetchall()[0]
        assert (profile["first_record_date"], profile["last_record_date"]) == dates
        assert profile["first_activity_date"] <= profile["first_record_date"]
        assert profile["last_activity_date"] >= profile["last_record_date"]
    assert facility_profile(cur, fac["wdid"], "no such app") is None


def test_facility_links_return_exactly_its_own_records(
    conn: StoreConnection, facilities: pl.DataFrame
) -> None:
    cur = conn.cursor()
    links = {
        "violation_count": (facility_violations, "occurrence_date"),
        "enforcement_count": (facility_enforcement, "issuance_date"),
        "inspection_count": (facility_inspections, "inspection_date"),
    }
    for fac in _busiest(facilities, 15):
        for name, (link, date_column) in links.items():
            rows = link(cur, fac["wdid"], fac["app_id"])
            assert rows.height == fac[name], (name, fac["wdid"])
            assert set(rows["wdid"]) <= {fac["wdid"]} and set(rows["app_id"]) <= {fac["app_id"]}
            dates = rows[date_column].drop_nulls().to_list()
            assert dates == sorted(dates, reverse=True)
    quiet = facilities.filter(pl.sum_horizontal(list(RECORDS)) == 0).row(0, named=True)
    assert facility_violations(cur, quiet["wdid"], quiet["app_id"]).height == 0


@pytest.mark.parametrize(
    ("family", "view", "source_year"),
    [
        ("Industrial", "stg_smarts__industrial_monitoring", "source_reporting_year"),
        ("Construction", "stg_smarts__construction_monitoring", "report_year"),
    ],
)
def test_monitoring_reports_are_one_row_per_report_from_the_family_dataset(
    conn: StoreConnection, family: str, view: str, source_year: str
) -> None:
    cur = conn.cursor()
    wdid, app_id = cur.execute(
        f"SELECT m.wdid, m.app_id FROM {view} m JOIN int_facilities_unified f USING (wdid, app_id)"
        " WHERE f.permit_family = ? GROUP BY ALL ORDER BY count(DISTINCT report_id) DESC, 1"
        " LIMIT 1",
        [family],
    ).fetchall()[0]
    reports = facility_monitoring_reports(cur, wdid, app_id)
    bare = (
        cur.sql(
            f"SELECT report_id, count(DISTINCT sample_id) AS samples, count(*) AS results,"
            f" min(sample_date) AS first_sample_date, min({source_year}) AS source_reporting_year"
            f" FROM {view} WHERE wdid = ? AND app_id = ? GROUP BY report_id",
            params=[wdid, app_id],
        )
        .pl()
        .sort("report_id")
    )
    assert reports.height == bare.height > 1
    assert reports["report_id"].n_unique() == reports.height
    assert set(reports["source_dataset"]) == {view.removeprefix("stg_smarts__")}
    got = reports.sort("report_id").select(bare.columns)
    assert got.cast(bare.schema).equals(bare)
    starts = reports["first_sample_date"].to_list()
    assert starts == sorted(starts, reverse=True)
    assert (reports["parameters"] >= 1).all() and reports["event_type"].null_count() == 0


# --- filter options ----------------------------------------------------------------------------


def test_options_list_the_distinct_values_of_each_filter(conn: StoreConnection) -> None:
    cur = conn.cursor()
    options = facility_options(cur)
    assert tuple(options) == OPTION_FIELDS

    def distinct(sql: str) -> list[str]:
        return sorted(v for (v,) in cur.execute(sql).fetchall() if v is not None)

    assert options["enforcement_types"] == distinct(
        "SELECT DISTINCT enforcement_type FROM stg_smarts__enforcement_actions"
    )
    assert options["inspection_purposes"] == distinct(
        "SELECT DISTINCT inspection_purpose FROM stg_smarts__inspections"
    )
    assert options["violation_types"] == distinct(
        "SELECT DISTINCT violation_type FROM stg_smarts__violations"
    )
    assert options["regions"] == distinct(
        "SELECT region FROM int_facilities_unified UNION SELECT region FROM stg_smarts__violations"
        " UNION SELECT region FROM stg_smarts__enforcement_actions"
        " UNION SELECT region FROM stg_smarts__inspections"
    )
    assert set(options["permit_types"]) == {"Industrial", "Construction"}
    assert all(options[field] for field in OPTION_FIELDS)


# --- hostile input and an empty store ---------------------------------------------------------


def _row_counts(cur: duckdb.DuckDBPyConnection) -> list[int]:
    views = ("int_facilities_unified", *RECORDS.values())
    return [cur.execute(f"SELECT count(*) FROM {v}").fetchall()[0][0] for v in views]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_values_are_data_not_sql(
    conn: StoreConnection, facilities: pl.DataFrame, text: str
) -> None:
    cur = conn.cursor()
    before = _row_counts(cur)
    literal = facilities.filter(
        pl.any_horizontal(
            pl.col(c).str.to_lowercase().str.contains(text.lower(), literal=True)
            for c in ("wdid", "display_name", "operator", "city")
        )
    )
    assert facility_search(cur, text).height == literal.height == 0
    wdid, app_id = facilities["wdid"][0], facilities["app_id"][0]
    for args in ((text, text), (wdid, text), (text, app_id)):
        assert facility_profile(cur, *args) is None
        for link in (
            facility_violations,
            facility_enforcement,
            facility_inspections,
            facility_monitoring_reports,
        ):
            assert link(cur, *args).height == 0
    assert _row_counts(cur) == before
    assert facility_profile(cur, wdid, app_id) is not None


def test_empty_store_gives_empty_results(tmp_path: Path) -> None:
    cur = open_store(tmp_path / "empty").cursor()
    assert facility_search(cur, "cal").height == 0
    assert facility_profile(cur, "1 01I000001", "1") is None
    assert facility_monitoring_reports(cur, "1 01I000001", "1").height == 0
    assert facility_options(cur) == {field: [] for field in OPTION_FIELDS}
