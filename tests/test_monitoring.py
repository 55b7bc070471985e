"""Monitoring queries: a facility's series and parameters, statewide summaries, histograms, eSMR."""

from __future__ import annotations

import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.monitoring import (
    distribution,
    esmr_series,
    facility_parameters,
    facility_series,
    statewide_summary,
)
from data_layer.nal_table import bind_rules, load_nal_table
from data_layer.store import Store
from tests.test_exceedance_rules import APP as APP_ID
from tests.test_exceedance_rules import HOSTILE, TSS, build_store, result

A = "4 19I100001"
B = "4 19I100002"
FAR = "2 01I100003"
SITE = "4 19C100001"
PLACE = "P100"


def esmr_row(date: str, parameter: str, value: float, units: str) -> dict[str, str]:
    return {
        "region": "4",
        "location": "EFF-001",
        "parameter": parameter,
        "qualifier": "=",
        "result": str(value),
        "units": units,
        "sampling_date": date,
        "facility_name": "Bayside WWTP",
        "facility_place_id": PLACE,
    }


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> StoreConnection:
    industrial = [
        result(A, "2020-10-01", TSS, 10),
        result(A, "2020-11-01", TSS, 20),
        result(A, "2020-12-01", TSS, 30),
        result(A, "2021-10-01", TSS, 50),
        result(B, "2020-10-01", TSS, 40),
        result(B, "2020-11-01", TSS, 500),
        result(B, "2020-12-01", TSS, None, qualifier="ND", rl=5),
        result(FAR, "2020-10-01", TSS, 1000),
        result(A, "2020-10-01", "Copper, Total", 30, units="ug/L"),
        result(A, "2020-11-01", "Copper, Total", None, units="ug/L", qualifier="ND", rl=5),
        result(A, "2020-12-01", "Total Copper", 0.05),
    ]
    construction = [
        result(SITE, f"2020-{m}-01", "pH", v, units="pH Units", PERMIT_TYPE="Construction")
        for m, v in (("10", 6.5), ("11", 7.0), ("12", 7.5))
    ]
    construction.append(
        result(SITE, "2021-01-01", "pH", 8.0, units="SU", PERMIT_TYPE="Construction")
    )
    construction.append(
        result(SITE, "2021-01-01", "Turbidity", 120, units="NTU", PERMIT_TYPE="Construction")
    )
    esmr = [
        esmr_row("2023-03-01", "Copper, Total Recoverable", 12, "ug/L"),
        esmr_row("2023-04-01", "Copper, Total Recoverable", 8, "ug/L"),
        esmr_row("2023-04-01", "pH", 7.1, "SU"),
    ]
    tables = {
        "industrial_monitoring": industrial,
        "construction_monitoring": construction,
        "esmr_samples_2023": esmr,
    }
    return build_store(tmp_path_factory.mktemp("monitoring"), tables, esmr_years=(2023,))


def test_facility_series_converts_units_and_marks_non_detects(conn: StoreConnection) -> None:
    series = facility_series(conn.cursor(), A, APP_ID, "copper, total", nd_rule="half_rl")
    assert series["result"].to_list() == pytest.approx([0.030, None, 0.05], nan_ok=True)
    assert series["units"].to_list() == ["mg/L"] * 3
    assert series["original_result"].to_list() == [30, None, 0.05]
    assert series["original_units"].to_list() == ["ug/L", "ug/L", "mg/L"]
    assert series["is_nd"].to_list() == [False, True, False]
    assert series["reporting_limit"].to_list()[1] == pytest.approx(0.005)
    assert series["substituted_value"].to_list() == pytest.approx([0.03, 0.0025, 0.05])
    assert series["parameter_reported"].to_list() == [
        "Copper, Total",
        "Copper, Total",
        "Total Copper",
    ]
    assert set(series["nd_rule"]) == {"half_rl"}
    assert set(series["annual_nal"]) == {0.0332}
    assert set(series["nal_version"]) == {load_nal_table().version}
    assert {"location", "sample_id", "report_id", "sample_date"} <= set(series.columns)
    excluded = facility_series(conn.cursor(), A, APP_ID, "Copper, Total")
    assert excluded["substituted_value"].to_list() == pytest.approx([0.03, None, 0.05], nan_ok=True)


def test_facility_series_works_for_construction_sites(conn: StoreConnection) -> None:
    series = facility_series(conn.cursor(), SITE, APP_ID, "pH")
    assert series["result"].to_list() == [6.5, 7.0, 7.5, 8.0]
    assert set(series["units"]) == {"SU"}
    assert set(series["source_dataset"]) == {"construction_monitoring"}
    assert series["original_units"].to_list() == ["pH Units"] * 3 + ["SU"]


def test_facility_parameters_merges_spellings(conn: StoreConnection) -> None:
    params = facility_parameters(conn.cursor(), A, APP_ID)
    rows = {r["parameter"]: r for r in params.iter_rows(named=True)}
    assert set(rows) == {TSS, "Copper, Total"}
    copper = rows["Copper, Total"]
    assert (copper["n_results"], copper["n_nd"], copper["units"]) == (3, 1, "mg/L")
    assert copper["spellings"] == ["Copper, Total", "Total Copper"]
    assert rows[TSS]["n_results"] == 4 and rows[TSS]["has_nal"]
    assert params["parameter"].to_list()[0] == TSS


@pytest.mark.parametrize(
    ("nd_rule", "n", "median", "p90", "above_annual"),
    [
        # 10, 20, 30, 40, 500 (the non-detect left out)
        ("exclude", 5, 30.0, 40 + 0.6 * 460, 1 / 5),
        # 0, 10, 20, 30, 40, 500
        ("zero", 6, 25.0, 40 + 0.5 * 460, 1 / 6),
    ],
)
def test_statewide_summary_by_region_and_year(
    conn: StoreConnection, nd_rule: str, n: int, median: float, p90: float, above_annual: float
) -> None:
    summary = statewide_summary(
        conn.cursor(), parameter="TSS", year_from=2020, year_to=2021, region="4", nd_rule=nd_rule
    )
    assert summary.select("region", "reporting_year").rows() == [("4", 2020), ("4", 2021)]
    y2020 = summary.row(0, named=True)
    assert (y2020["n_samples"], y2020["n_facilities"], y2020["n_nd"]) == (n, 2, 1)
    assert y2020["median"] == pytest.approx(median)
    assert y2020["p90"] == pytest.approx(p90)
    assert y2020["share_above_annual_nal"] == pytest.approx(above_annual)
    assert y2020["share_above_instantaneous_nal"] == pytest.approx(1 / n)
    assert (y2020["units"], y2020["nd_rule"]) == ("mg/L", nd_rule)
    statewide = statewide_summary(conn.cursor(), parameter="TSS", year_from=2020, year_to=2020)
    assert statewide["region"].to_list() == ["2", "4"]


def test_distribution_log_bins_for_concentrations(conn: StoreConnection) -> None:
    hist = distribution(conn.cursor(), parameter="TSS", year=2020, bins=2)
    assert hist["n"].to_list() == [4, 2]  # 10..100: 10, 20, 30, 40; 100..1000: 500, 1000
    assert hist["bin_low"].to_list() == pytest.approx([10, 100])
    assert hist["bin_high"].to_list() == pytest.approx([100, 1000])
    assert set(hist["scale"]) == {"log"} and set(hist["units"]) == {"mg/L"}
    region4 = distribution(conn.cursor(), parameter="TSS", year=2020, region="4", bins=4)
    assert region4["n"].to_list() == [2, 2, 0, 1]
    assert region4["bin_high"][-1] == pytest.approx(500)


def test_distribution_linear_for_ph_and_empty_without_values(conn: StoreConnection) -> None:
    hist = distribution(
        conn.cursor(),
        parameter="pH",
        year=2020,
        bins=3,
        source_dataset="construction_monitoring",
    )
    assert hist["n"].to_list() == [1, 1, 2]
    assert set(hist["scale"]) == {"linear"}
    assert hist["bin_low"].to_list() == pytest.approx([6.5, 7.0, 7.5])
    assert distribution(conn.cursor(), parameter="TSS", year=1999).height == 0
    assert distribution(conn.cursor(), parameter="TSS", year=2020, bins=10_000).height == 200


def test_esmr_series_is_plain_unless_nal_comparison_is_asked_for(conn: StoreConnection) -> None:
    plain = esmr_series(conn.cursor(), PLACE, "Copper, Total")
    assert plain["result"].to_list() == [12, 8]
    assert plain["units"].to_list() == ["ug/L", "ug/L"]
    assert not {"annual_nal", "value_in_nal_units", "nal_comparison"} & set(plain.columns)
    assert esmr_series(conn.cursor(), PLACE, "Copper, Total Recoverable").height == 2
    compared = esmr_series(conn.cursor(), PLACE, "Copper, Total", compare_to_nal=True)
    assert compared["value_in_nal_units"].to_list() == pytest.approx([0.012, 0.008])
    assert set(compared["annual_nal"]) == {0.0332}
    assert compared["nal_comparison"][0].startswith("opt-in")


def test_unknown_monitoring_dataset_is_refused(conn: StoreConnection) -> None:
    with pytest.raises(ValueError, match="monitoring dataset"):
        distribution(conn.cursor(), parameter="TSS", year=2020, source_dataset="violations")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_values_are_data_not_sql(conn: StoreConnection, text: str) -> None:
    cur = conn.cursor()
    assert facility_series(cur, text, APP_ID, TSS).height == 0
    assert facility_series(cur, A, APP_ID, text).height == 0
    assert facility_parameters(cur, text, text).height == 0
    assert statewide_summary(cur, parameter=text, year_from=2020, year_to=2021).height == 0
    assert (
        statewide_summary(cur, parameter=TSS, year_from=2020, year_to=2021, region=text).height == 0
    )
    assert distribution(cur, parameter=text, year=2020).height == 0
    assert distribution(cur, parameter=TSS, year=2020, region=text).height == 0
    assert esmr_series(cur, text, "pH").height == 0
    assert esmr_series(cur, PLACE, text, compare_to_nal=True).height == 0
    assert facility_series(cur, A, APP_ID, TSS).height == 4


# --- the tiny store: outputs agree with bare SQL --------------------------------------------


@pytest.fixture(scope="module")
def tiny(tiny_store: Store) -> StoreConnection:
    return open_store(tiny_store.root)


def test_tiny_store_series_and_summary_agree_with_bare_sql(tiny: StoreConnection) -> None:
    cur = tiny.cursor()
    wdid, app_id, n = cur.sql(
        "select wdid, app_id, count(*) from stg_smarts__industrial_monitoring"
        " where parameter_canonical = ? group by all order by 3 desc limit 1",
        params=[TSS],
    ).fetchall()[0]
    series = facility_series(cur, wdid, app_id, "TSS")
    assert series.height == n
    assert series["sample_date"].is_sorted()
    year, region, count, median = cur.sql(
        """
        select reporting_year, region, count(*), median(result)
        from stg_smarts__industrial_monitoring
        where parameter_canonical = ? and units_canonical = 'mg/L'
            and coalesce(upper(result_qualifier), '=') not in ('ND', '<')
        group by all order by 3 desc limit 1
        """,
        params=[TSS],
    ).fetchall()[0]
    summary = statewide_summary(
        cur, parameter=TSS, year_from=year, year_to=year, region=region
    ).row(0, named=True)
    assert (summary["n_samples"], summary["median"]) == (count, pytest.approx(median))
    hist = distribution(cur, parameter=TSS, year=year, region=region)
    assert hist["n"].sum() == count


def test_tiny_store_esmr_series_agrees_with_bare_sql(tiny: StoreConnection) -> None:
    cur = tiny.cursor()
    place, parameter, n = cur.sql(
        "select facility_place_id, parameter_canonical, count(*) from stg_esmr__samples"
        " group by all order by 3 desc limit 1"
    ).fetchall()[0]
    series = esmr_series(cur, place, parameter)
    assert series.height == n
    bind_rules(cur)
    assert esmr_series(cur, place, parameter, compare_to_nal=True).height == n
