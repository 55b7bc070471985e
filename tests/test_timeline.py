"""A facility's compliance timeline: its own records, dated and sourced; exceedances beside."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.store import Store
from data_layer.timeline import TIMELINE_SCHEMA, compliance_timeline, facility_timeline
from tests.test_data_layer_base import HOSTILE

SOURCES = {
    "inspection": ("inspections", "stg_smarts__inspections", "inspection_id", "inspection_date"),
    "violation": (
        "violations",
        "stg_smarts__violations",
        "violation_id",
        "coalesce(occurrence_date, discovery_date)",
    ),
    "enforcement": (
        "enforcement_actions",
        "stg_smarts__enforcement_actions",
        "enforcement_id",
        "issuance_date",
    ),
}


@pytest.fixture(scope="module")
def conn(tiny_store: Store) -> StoreConnection:
    return open_store(tiny_store.root)


@pytest.fixture(scope="module")
def busiest(conn: StoreConnection) -> list[tuple[str, str]]:
    """Facilities with the most official records, each kind present among them."""
    return (
        conn.cursor()
        .execute(
            "SELECT wdid, app_id FROM ("
            " SELECT wdid, app_id FROM stg_smarts__inspections"
            " UNION ALL SELECT wdid, app_id FROM stg_smarts__violations"
            " UNION ALL SELECT wdid, app_id FROM stg_smarts__enforcement_actions)"
            " GROUP BY ALL ORDER BY count(*) DESC, wdid LIMIT 6"
        )
        .fetchall()
    )


def _sorted_by_date(timeline: pl.DataFrame) -> bool:
    dates = timeline["event_date"].to_list()
    known = [d for d in dates if d is not None]
    return known == sorted(known) and dates[: len(known)] == known


def test_timeline_holds_exactly_the_facilitys_own_records(
    conn: StoreConnection, busiest: list[tuple[str, str]]
) -> None:
    cur = conn.cursor()
    kinds_seen: set[str] = set()
    for wdid, app_id in busiest:
        timeline = compliance_timeline(cur, wdid, app_id)
        assert timeline.schema == pl.Schema(TIMELINE_SCHEMA)
        assert _sorted_by_date(timeline)
        assert timeline["official"].all() and timeline["source_id"].null_count() == 0
        for kind, (dataset, view, key, date) in SOURCES.items():
            expected = dict(
                cur.execute(
                    f"SELECT {key}, {date} FROM {view} WHERE wdid = ? AND app_id = ?",
                    [wdid, app_id],
                ).fetchall()
            )
            events = timeline.filter(pl.col("kind") == kind)
            assert set(events["source_dataset"]) <= {dataset}
            assert dict(zip(events["source_id"], events["event_date"], strict=True)) == expected
            assert events.height == len(expected)
            kinds_seen |= {kind} if expected else set()
    assert kinds_seen == set(SOURCES)


def test_inspection_sourced_violations_name_their_inspection(
    conn: StoreConnection, busiest: list[tuple[str, str]]
) -> None:
    cur = conn.cursor()
    wdid, app_id, violation_id, inspection_id = cur.execute(
        "SELECT wdid, app_id, violation_id, violation_source_id FROM stg_smarts__violations"
        " WHERE violation_source = 'Inspection' ORDER BY violation_id LIMIT 1"
    ).fetchall()[0]
    timeline = compliance_timeline(cur, wdid, app_id)
    event = timeline.filter(pl.col("source_id") == violation_id).row(0, named=True)
    assert f"from inspection {inspection_id}" in event["detail"]
    assert inspection_id in timeline.filter(pl.col("kind") == "inspection")["source_id"]


def test_computed_exceedances_join_the_axis_and_stay_unofficial(
    conn: StoreConnection, busiest: list[tuple[str, str]]
) -> None:
    cur = conn.cursor()
    wdid, app_id = busiest[0]
    official = compliance_timeline(cur, wdid, app_id)
    inspected = official.filter(pl.col("kind") == "inspection")["event_date"][0]
    exceedances = pl.DataFrame(
        {
            "event_date": [dt.date(1999, 7, 1), inspected, None],
            "kind": ["exceedance"] * 3,
            "title": ["Zinc annual average above NAL"] * 3,
            "detail": ["0.30 mg/L vs 0.26 mg/L; ND rule: exclude"] * 3,
            "source_dataset": ["industrial_monitoring"] * 3,
            "source_id": ["R1/zinc/1999", "R2/tss", "R3/ph"],
            "official": [False] * 3,
        }
    )
    merged = compliance_timeline(cur, wdid, app_id, exceedances=exceedances)
    assert merged.height == official.height + 3
    assert _sorted_by_date(merged)
    assert merged.row(0, named=True)["source_id"] == "R1/zinc/1999"
    assert merged.row(-1, named=True)["source_id"] == "R3/ph"
    same_day = merged.filter(pl.col("event_date") == inspected)["kind"].to_list()
    assert same_day[0] == "exceedance"
    flags = merged.group_by("kind").agg(pl.col("official").unique())
    assert dict(flags.iter_rows()) == {
        **{k: [True] for k in official["kind"].unique()},
        "exceedance": [False],
    }
    assert compliance_timeline(cur, wdid, app_id, exceedances=exceedances.head(0)).equals(official)
    with pytest.raises(ValueError, match="source_id"):
        compliance_timeline(cur, wdid, app_id, exceedances=exceedances.drop("source_id"))


def test_facility_timeline_adds_its_computed_exceedances(conn: StoreConnection) -> None:
    from data_layer.exceedances import exceedance_events

    cur = conn.cursor()
    industrial = cur.execute(
        "SELECT wdid, app_id FROM stg_smarts__industrial_monitoring"
        " GROUP BY ALL ORDER BY count(*) DESC, wdid, app_id"
    ).fetchall()
    checked = 0
    for wdid, app_id in industrial:
        computed = exceedance_events(cur, wdid, app_id)
        if computed.is_empty():
            continue
        timeline = facility_timeline(cur, wdid, app_id)
        official = compliance_timeline(cur, wdid, app_id)
        assert timeline.height == official.height + computed.height
        assert timeline.equals(compliance_timeline(cur, wdid, app_id, exceedances=computed))
        exceedances = timeline.filter(pl.col("kind") == "exceedance")
        assert not exceedances["official"].any() and exceedances["source_id"].null_count() == 0
        assert _sorted_by_date(timeline)
        checked += 1
        if checked == 2:
            break
    assert checked > 0
    with pytest.raises(ValueError, match="non-detect rule"):
        facility_timeline(cur, *industrial[0], nd_rule="'; DROP TABLE x; --")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_keys_give_an_empty_timeline(
    conn: StoreConnection, busiest: list[tuple[str, str]], text: str
) -> None:
    cur = conn.cursor()
    wdid, app_id = busiest[0]
    before = compliance_timeline(cur, wdid, app_id).height
    for args in ((text, text), (wdid, text), (text, app_id)):
        for timeline in (compliance_timeline(cur, *args), facility_timeline(cur, *args)):
            assert timeline.height == 0 and timeline.schema == pl.Schema(TIMELINE_SCHEMA)
    assert compliance_timeline(cur, wdid, app_id).height == before > 0


def test_empty_store_gives_an_empty_timeline(tmp_path: Path) -> None:
    cur = open_store(tmp_path / "empty").cursor()
    for timeline in (
        compliance_timeline(cur, "1 01I000001", "1"),
        facility_timeline(cur, "1 01I000001", "1"),
    ):
        assert timeline.height == 0 and timeline.schema == pl.Schema(TIMELINE_SCHEMA)
