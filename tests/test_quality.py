"""Data-quality flags per monitoring result and the completeness figure per facility."""

from __future__ import annotations

import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.exceedances import facility_annual_averages
from data_layer.quality import (
    FLAGS,
    facility_quality,
    quality_flags_summary,
    sample_quality_flags,
)
from data_layer.store import Store
from tests.test_exceedance_rules import APP, HOSTILE, TSS, build_store, result

FLAWED = "4 19I200001"
NO_COORDS = "4 19I200002"
OUTSIDE = "4 19I200003"


def facility(wdid: str, latitude: str, longitude: str) -> dict[str, str]:
    return {
        "PERMIT_TYPE": "Industrial",
        "WDID": wdid,
        "APP_ID": APP,
        "STATUS": "Active",
        "REGION_BOARD": "4",
        "FACILITY_NAME": f"Facility {wdid}",
        "FACILITY_LATITUDE": latitude,
        "FACILITY_LONGITUDE": longitude,
    }


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> StoreConnection:
    dup = {"REPORT_ID": "RDUP", "SAMPLE_ID": "SDUP"}
    monitoring = [
        result(FLAWED, "2020-10-01", "pH", 15, units="SU"),  # impossible value
        result(FLAWED, "2020-10-01", "Zinc, Total", -0.1),  # negative concentration
        result(FLAWED, "1985-05-01", TSS, 20),  # impossible date
        result(FLAWED, "2100-01-01", TSS, 10_000),  # impossible date
        result(FLAWED, "2020-12-01", TSS, 70, **dup),  # duplicate sample (two rows)
        result(FLAWED, "2020-12-01", TSS, 80, **dup),
        result(
            FLAWED,
            "2020-10-01",
            "Oil and Grease",
            5,
            MONITORING_LATITUDE="45.0",
            MONITORING_LONGITUDE="-120.0",
        ),  # coordinates outside California
        result(FLAWED, "2020-10-01", "Iron, Total", 3, units="lbs/day"),  # unmapped unit
        result(FLAWED, "2020-11-01", "Zinc, Total", None, qualifier="ND", rl=0.5),  # uninformative
        result(FLAWED, "2020-10-01", TSS, 50),  # clean
        result(FLAWED, "2020-11-01", TSS, 60),  # clean
        result(NO_COORDS, "2020-10-01", TSS, 50),
        result(NO_COORDS, "2020-11-01", TSS, 60),
        result(OUTSIDE, "2020-10-01", TSS, 50),
    ]
    facilities = [facility(FLAWED, "34.05", "-118.25"), facility(OUTSIDE, "45.0", "-120.0")]
    tables = {"industrial_monitoring": monitoring, "industrial_facilities": facilities}
    return build_store(tmp_path_factory.mktemp("quality"), tables)


def test_each_flag_is_raised_on_its_sample(conn: StoreConnection) -> None:
    flagged = sample_quality_flags(conn.cursor(), FLAWED, APP)
    assert flagged.height == 9 and flagged["flagged"].all()
    by_flag = {f: flagged.filter(flagged[f"flag_{f}"]).height for f in FLAGS}
    assert by_flag == {
        "impossible_value": 2,
        "impossible_date": 2,
        "duplicate_sample": 2,
        "coordinates_outside_california": 1,
        "unmapped_unit": 1,
        "uninformative_nd": 1,
    }
    ph = flagged.filter(flagged["parameter"] == "pH").row(0, named=True)
    assert ph["flags"] == ["impossible_value"]
    everything = sample_quality_flags(conn.cursor(), FLAWED, APP, flagged_only=False)
    assert everything.height == 11 and everything.filter(~everything["flagged"]).height == 2


def test_facility_rollup_and_completeness(conn: StoreConnection) -> None:
    flawed = facility_quality(conn.cursor(), FLAWED, APP).row(0, named=True)
    assert (flawed["n_samples"], flawed["n_flagged"], flawed["has_coordinates"]) == (11, 9, True)
    assert flawed["n_duplicate_sample"] == 2 and flawed["n_uninformative_nd"] == 1
    assert flawed["share_clean"] == pytest.approx(2 / 11)
    assert flawed["completeness"] == pytest.approx((2 / 11 + 1) / 2)
    assert flawed["facility_name"] == f"Facility {FLAWED}"
    no_coords = facility_quality(conn.cursor(), NO_COORDS, APP).row(0, named=True)
    assert (no_coords["share_clean"], no_coords["has_coordinates"]) == (1.0, False)
    assert no_coords["completeness"] == pytest.approx(0.5)
    outside = facility_quality(conn.cursor(), OUTSIDE, APP).row(0, named=True)
    assert not outside["has_coordinates"] and outside["completeness"] == pytest.approx(0.5)
    assert facility_quality(conn.cursor(), "9 99I999999", APP).height == 0


def test_flags_summary_counts_per_dataset(conn: StoreConnection) -> None:
    summary = quality_flags_summary(conn.cursor())
    industrial = {
        r["flag"]: (r["n_flagged"], r["n_samples"])
        for r in summary.iter_rows(named=True)
        if r["source_dataset"] == "industrial_monitoring"
    }
    assert industrial["any_flag"] == (9, 14)
    assert industrial["impossible_date"] == (2, 14)
    assert set(industrial) == {*FLAGS, "any_flag"}


def test_impossible_dates_stay_out_of_exceedances_duplicates_stay_in(
    conn: StoreConnection,
) -> None:
    rows = facility_annual_averages(conn.cursor(), FLAWED, APP)
    tss = rows.filter(rows["parameter"] == TSS)
    assert tss["reporting_year"].to_list() == [2020]
    assert tss["average"][0] == pytest.approx(65)  # 50, 60, and both duplicates 70, 80
    assert tss["n_samples"][0] == 4


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_values_are_data_not_sql(conn: StoreConnection, text: str) -> None:
    cur = conn.cursor()
    assert facility_quality(cur, text, text).height == 0
    assert sample_quality_flags(cur, text, APP, flagged_only=False).height == 0
    assert sample_quality_flags(cur, FLAWED, text).height == 0
    assert facility_quality(cur, FLAWED, APP).height == 1


# --- the tiny store: outputs agree with bare SQL --------------------------------------------


@pytest.fixture(scope="module")
def tiny(tiny_store: Store) -> StoreConnection:
    return open_store(tiny_store.root)


def test_tiny_store_summary_agrees_with_bare_sql(tiny: StoreConnection) -> None:
    cur = tiny.cursor()
    summary = quality_flags_summary(cur)
    for dataset in ("industrial_monitoring", "construction_monitoring"):
        total, bad_dates, dups = cur.sql(
            f"""
            select count(*),
                count(*) filter (where sample_date > current_date
                                 or sample_date < date '1990-01-01'),
                count(*) filter (where duplicate_sample)
            from stg_smarts__{dataset}
            """
        ).fetchall()[0]
        rows = {
            r["flag"]: r for r in summary.iter_rows(named=True) if r["source_dataset"] == dataset
        }
        assert rows["any_flag"]["n_samples"] == total > 0
        assert rows["impossible_date"]["n_flagged"] == bad_dates
        assert rows["duplicate_sample"]["n_flagged"] == dups


def test_tiny_store_completeness_is_between_0_and_1(tiny: StoreConnection) -> None:
    cur = tiny.cursor()
    wdids = cur.sql(
        "select distinct wdid, app_id from stg_smarts__industrial_monitoring order by 1 limit 5"
    ).fetchall()
    for wdid, app_id in wdids:
        row = facility_quality(cur, wdid, app_id).row(0, named=True)
        assert 0 <= row["completeness"] <= 1
        expected = (row["share_clean"] + (1 if row["has_coordinates"] else 0)) / 2
        assert row["completeness"] == pytest.approx(expected)
