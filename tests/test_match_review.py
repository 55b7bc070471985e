"""What the review page and the facility's eSMR tab read from the store: each side of a
candidate pair with its record counts, an eSMR place's parameters and series, and the
queue's order and filters."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.match_review import (
    esmr_place_evidence,
    esmr_place_parameters,
    esmr_place_series,
    filter_queue,
    queue_by_priority,
    smarts_facility_evidence,
)
from data_layer.store import Store
from tests.factories import BASE_ROWS
from tests.test_exceedance_rules import HOSTILE, TSS, build_store, result
from tests.test_monitoring import esmr_row

BUSY = "4 19I200001"  # a violation and a computed exceedance
QUIET = "4 19I200002"  # nothing on record but one low result
ASTRAY = "4 19I200003"  # coordinates far outside California
APP = "100"


def facility(wdid: str, name: str, lat: str, lon: str) -> dict[str, str]:
    return {
        "PERMIT_TYPE": "Industrial",
        "APP_ID": APP,
        "WDID": wdid,
        "STATUS": "Active",
        "REGION_BOARD": "4",
        "FACILITY_NAME": name,
        "OPERATOR_NAME": f"{name} Inc",
        "FACILITY_ADDRESS": "1 Harbor Way",
        "FACILITY_CITY": "Long Beach",
        "FACILITY_ZIP": "90802",
        "FACILITY_COUNTY": "Los Angeles",
        "FACILITY_LATITUDE": lat,
        "FACILITY_LONGITUDE": lon,
        "PRIMARY_SIC": "4952",
    }


def esmr(place: str, name: str, date: str, parameter: str, value: float, units: str, **kw: str):
    """One eSMR result of `place` under `name`, in a report per month, with a point."""
    return (
        esmr_row(date, parameter, value, units)
        | {
            "facility_name": name,
            "facility_place_id": place,
            "smr_document_id": f"D{date[5:7]}",
            "report_name": f"{date[:7]} SMR",
            "latitude": "33.77",
            "longitude": "-118.19",
            "receiving_water_body": "Los Angeles River",
        }
        | kw
    )


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> StoreConnection:
    tables = {
        "industrial_facilities": [
            facility(BUSY, "Bayside Metals", "33.7701", "-118.1937"),
            facility(QUIET, "Quiet Depot", "NA", "NA"),
            facility(ASTRAY, "Astray Yard", "10.0", "10.0"),
        ],
        "violations": [BASE_ROWS["violations"] | {"WDID": BUSY, "VIOLATION_ID": "V1"}],
        "industrial_monitoring": [
            result(BUSY, "2020-10-01", TSS, 500),
            result(BUSY, "2020-11-01", TSS, 600),
            result(QUIET, "2020-10-01", TSS, 10),
        ],
        "esmr_samples_2023": [
            esmr("P1", "Bayside WWTP", "2023-01-05", "Copper, Total Recoverable", 12, "ug/L"),
            esmr(
                "P1",
                "Bayside WWTP",
                "2023-02-05",
                "Copper, Total Recoverable",
                0.5,
                "ug/L",
                qualifier="<",
            ),
            esmr(
                "P1",
                "Bayside Water Reclamation",
                "2023-03-05",
                "Copper, Total Recoverable",
                0.01,
                "mg/L",
            ),
            esmr("P1", "Bayside WWTP", "2023-03-06", "pH", 7.1, "SU"),
            esmr(
                "P2", "Harbor Plant", "2023-04-01", "pH", 7.4, "SU", latitude="NA", longitude="NA"
            ),
        ],
    }
    return build_store(tmp_path_factory.mktemp("match_review"), tables, esmr_years=(2023,))


def test_smarts_side_counts_records_and_flags_what_needs_attention(conn: StoreConnection) -> None:
    keys = [(QUIET, APP), (BUSY, APP), ("9 99I999999", APP)]
    rows = {r["wdid"]: r for r in smarts_facility_evidence(conn.cursor(), keys).to_dicts()}
    assert set(rows) == {BUSY, QUIET}
    busy, quiet = rows[BUSY], rows[QUIET]
    assert busy["display_name"] == "Bayside Metals"
    assert (busy["address"], busy["city"], busy["county"]) == (
        "1 Harbor Way",
        "Long Beach",
        "Los Angeles",
    )
    assert (busy["latitude"], busy["longitude"]) == (33.7701, -118.1937)
    assert (busy["violation_count"], busy["monitoring_results"]) == (1, 2)
    assert busy["computed_exceedances"] >= 1 and busy["exceedance_years"] == 1
    assert busy["needs_attention"] and busy["nal_version"]
    assert (quiet["violation_count"], quiet["computed_exceedances"]) == (0, 0)
    assert not quiet["needs_attention"] and quiet["latitude"] is None
    assert not quiet["coords_outside_california"] and not busy["coords_outside_california"]
    astray = smarts_facility_evidence(conn.cursor(), [(ASTRAY, APP)]).row(0, named=True)
    assert astray["coords_outside_california"] and astray["latitude"] is None
    assert smarts_facility_evidence(conn.cursor(), []).height == 0


def test_esmr_side_names_the_place_as_matching_does_and_counts_what_it_reported(
    conn: StoreConnection,
) -> None:
    frame = esmr_place_evidence(conn.cursor(), ["P2", "P1", "nowhere"])
    assert frame["facility_place_id"].to_list() == ["P1", "P2"]
    p1, p2 = frame.to_dicts()
    assert p1["facility_name"] == "Bayside WWTP"  # the commonest spelling
    assert (p1["n_results"], p1["n_parameters"], p1["n_reports"], p1["n_locations"]) == (4, 2, 3, 1)
    assert (p1["first_sampling_date"], p1["last_sampling_date"]) == (
        dt.date(2023, 1, 5),
        dt.date(2023, 3, 6),
    )
    assert p1["receiving_water"] == "Los Angeles River"
    assert p1["latitude"] == pytest.approx(33.77)
    assert p2["latitude"] is None and p2["facility_name"] == "Harbor Plant"


def test_esmr_parameters_keep_units_apart(conn: StoreConnection) -> None:
    params = esmr_place_parameters(conn.cursor(), "P1")
    got = params.select("units", "n_results", "n_nd").rows()
    assert got == [("ug/L", 2, 1), ("mg/L", 1, 0), ("SU", 1, 0)]
    assert params["parameter"][0] == params["parameter"][1] != params["parameter"][2] == "pH"


def test_esmr_series_is_shaped_like_a_smarts_series_without_nal_lines(
    conn: StoreConnection,
) -> None:
    copper = esmr_place_parameters(conn.cursor(), "P1")["parameter"][0]
    series = esmr_place_series(conn.cursor(), "P1", copper, "ug/L")
    assert series["sample_date"].to_list() == [dt.date(2023, 1, 5), dt.date(2023, 2, 5)]
    assert series["result"].to_list() == [12.0, None]  # the "<0.5" is a non-detect
    assert series["is_nd"].to_list() == [False, True]
    assert series["reporting_limit"].to_list() == [None, 0.5]
    assert series["report_id"].to_list() == ["D01", "D02"]
    assert series["sample_id"].null_count() == 2
    assert series.select("annual_nal", "instantaneous_max_nal").null_count().row(0) == (2, 2)
    assert esmr_place_series(conn.cursor(), "P1", copper, "mg/L")["result"].to_list() == [0.01]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_keys_are_data_not_sql(conn: StoreConnection, text: str) -> None:
    cur = conn.cursor()
    assert smarts_facility_evidence(cur, [(text, text)]).height == 0
    assert esmr_place_evidence(cur, [text]).height == 0
    assert esmr_place_parameters(cur, text).height == 0
    assert esmr_place_series(cur, text, text, text).height == 0


def _queue(*rows: tuple[str, str, float, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"wdid": w, "app_id": APP, "facility_place_id": p, "score": s, "status": st}
            for w, p, s, st in rows
        ]
    )


FACTS = pl.DataFrame(
    {
        "wdid": [BUSY, QUIET],
        "app_id": [APP, APP],
        "region": ["4", "9"],
        "county": ["Los Angeles", "San Diego"],
        "violation_count": [1, 0],
        "computed_exceedances": [2, 0],
        "needs_attention": [True, False],
    }
)


def test_queue_puts_facilities_with_records_first_then_score_and_skipped_last() -> None:
    queue = _queue(
        (QUIET, "P9", 0.95, "queued"),
        (BUSY, "P1", 0.70, "queued"),
        ("8 30I000001", "P5", 0.99, "queued"),  # not in the store
        (BUSY, "P2", 0.80, "queued"),
    )
    ordered = queue_by_priority(queue, FACTS)
    assert ordered["facility_place_id"].to_list() == ["P2", "P1", "P5", "P9"]
    assert ordered["needs_attention"].to_list() == [True, True, False, False]
    later = queue_by_priority(queue, FACTS, later=[(BUSY, APP, "P2")])
    assert later["facility_place_id"].to_list() == ["P1", "P5", "P9", "P2"]


def test_queue_filters_by_status_region_and_score_band() -> None:
    queue = queue_by_priority(
        _queue(
            (QUIET, "P9", 0.95, "queued"),
            (BUSY, "P1", 0.62, "queued"),
            (BUSY, "P2", 0.85, "linked"),
            (BUSY, "P3", 0.90, "rejected"),
        ),
        FACTS,
    )

    def places(**kw: object) -> list[str]:
        return filter_queue(queue, **kw)["facility_place_id"].to_list()

    assert places() == ["P1", "P9"]
    assert places(statuses=["queued", "linked", "rejected"]) == ["P3", "P2", "P1", "P9"]
    assert places(region="4") == ["P1"]
    assert places(band="0.9+") == ["P9"]
    assert places(band="0.6-0.7") == ["P1"]
    assert places(band="0.8-0.9", statuses=["linked", "rejected"]) == ["P2"]
    assert places(band="below-0.6") == []


def test_tiny_store_evidence_agrees_with_bare_sql(tiny_store: Store) -> None:
    conn = open_store(tiny_store.root)
    try:
        cur = conn.cursor()
        keys = cur.sql("select wdid, app_id from int_facilities_unified order by 1, 2").fetchall()
        frame = smarts_facility_evidence(cur, keys)
        assert frame.height == len(keys)
        violations = cur.sql("select count(*) from stg_smarts__violations").fetchall()[0][0]
        assert frame["violation_count"].sum() == violations
        places = [
            r[0]
            for r in cur.sql("select distinct facility_place_id from stg_esmr__samples").fetchall()
        ]
        evidence = esmr_place_evidence(cur, places)
        total = cur.sql("select count(*) from stg_esmr__samples").fetchall()[0][0]
        assert evidence.height == len(places) and evidence["n_results"].sum() == total
    finally:
        conn.close()
