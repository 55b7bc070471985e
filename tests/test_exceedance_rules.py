"""The IGP exceedance rules on hand-computed cases, and agreement with bare SQL on the tiny store.

One small store holds every case, each at its own facility (WDID): non-detects under each
rule, units, pH, averages at the NAL, the reporting-year boundary, one vs two results
above the instantaneous NAL, spellings, unmapped units, an ERA trajectory and the gap finder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.exceedances import (
    era_levels,
    exceedance_events,
    exceedance_summary,
    exceedances_annual,
    exceedances_instantaneous,
    facility_annual_averages,
    facility_year_gaps,
)
from data_layer.nal_table import (
    NAL_CSV,
    ND_RULES,
    bind_rules,
    load_nal_table,
    read_nal_table,
)
from data_layer.parameters import canonical_parameter
from data_layer.store import Store, store_at
from loaders.refresh import RefreshOptions, refresh
from tests.factories import write_csv

HOSTILE = [
    "'",
    '"; DROP TABLE stg_smarts__industrial_monitoring; --',
    "'; DROP TABLE x; --",
    "%",
    "_",
    "ñandú 水",
    "x" * 10_000,
    "\\",
    "NULL",
]

TSS = "Total Suspended Solids (TSS)"
APP = "100"
_counter = iter(range(1, 1_000_000))


def result(
    wdid: str,
    date: str,
    parameter: str,
    value: str | float | None,
    units: str = "mg/L",
    qualifier: str = "=",
    rl: float | None = None,
    mdl: float | None = None,
    app_id: str = APP,
    **extra: str,
) -> dict[str, str]:
    """One industrial monitoring row (its own report and sample), contract headers."""
    n = next(_counter)
    row = {
        "PERMIT_TYPE": "Industrial",
        "WDID": wdid,
        "APP_ID": app_id,
        "REPORT_ID": f"R{n:06d}",
        "SAMPLE_ID": f"S{n:06d}",
        "EVENT_TYPE": "Qualifying Storm Event",
        "MONITORING_LOCATION_NAME": "Outfall 1",
        "SAMPLE_DATE": date,
        "PARAMETER": parameter,
        "RESULT_QUALIFIER": qualifier,
        "RESULT": "NA" if value is None else str(value),
        "UNITS": units,
        "RL": "NA" if rl is None else str(rl),
        "MDL": "NA" if mdl is None else str(mdl),
    }
    row.update(extra)
    return row


def build_store(
    root: Path, tables: dict[str, list[dict[str, str]]], esmr_years: tuple[int, ...] = ()
) -> StoreConnection:
    """Write each dataset's rows as a CSV, refresh them into a store, open it."""
    src = root / "source"
    datasets = []
    for name, rows in tables.items():
        dataset = "esmr_samples" if name.startswith("esmr_samples") else name
        write_csv(src / f"{name}.csv", dataset, rows)
        datasets.append(dataset)
    store: Store = store_at(root / "store")
    options = RefreshOptions(
        str(src), sorted(set(datasets)), esmr_years=esmr_years, memory_limit="1GB"
    )
    outcomes = refresh(store, options)
    failed = [(o.dataset, o.error, o.rejects) for o in outcomes if o.outcome != "published"]
    assert not failed, failed
    assert all(o.rejects == 0 for o in outcomes), [(o.dataset, o.rejects) for o in outcomes]
    return open_store(store.root)


# Facilities, one per case (region 4 for rule cases, region 9 for the gap finder).
ND_ABOVE = "4 19I000001"  # non-detect whose RL is above the NAL
ND_AT = "4 19I000002"  # non-detect whose RL equals the NAL; MDL and '<' fallbacks
DETECTED = "4 19I000011"  # DNQ and '>' qualifiers
UNITS = "4 19I000003"  # ug/L and ng/L against mg/L
PH = "4 19I000004"
NEAR = "4 19I000005"  # averages just above, just below and at the NAL
BOUNDARY = "4 19I000006"  # June 30 / July 1
INSTANT = "4 19I000007"  # one vs two results above the instantaneous maximum
SPELLINGS = "4 19I000008"
UNMAPPED = "4 19I000009"
ERA = "4 19I000010"
GAP_REPEAT = "9 37I000001"
GAP_SINGLE = "9 37I000002"
GAP_ANSWERED = "9 37I000003"


def monitoring_rows() -> list[dict[str, str]]:
    zinc = "Zinc, Total"
    lead = "Lead, Total"
    og = "Oil and Grease"
    rows = [
        # Zinc NAL 0.26: detected 0.30; ND with RL 0.40 (above the NAL)
        result(ND_ABOVE, "2020-10-01", zinc, 0.30),
        result(ND_ABOVE, "2021-01-10", zinc, None, qualifier="ND", rl=0.40, mdl=0.1),
        # detected 0.32; ND at RL 0.26 (= NAL); ND with only an MDL of 0.10; '<' 0.06 alone
        result(ND_AT, "2020-10-01", zinc, 0.32),
        result(ND_AT, "2020-12-01", zinc, None, qualifier="ND", rl=0.26),
        result(ND_AT, "2021-02-01", zinc, None, qualifier="ND", mdl=0.10),
        result(ND_AT, "2021-03-01", zinc, 0.06, qualifier="<"),
        # DNQ and '>' count as detected at their values: mean 0.40
        result(DETECTED, "2020-10-01", zinc, 0.30, qualifier="DNQ", rl=0.5),
        result(DETECTED, "2020-11-01", zinc, 0.50, qualifier=">"),
        # Copper NAL 0.0332 mg/L: 30 ug/L + 0.020 mg/L -> 0.025 (a naive mean would be 15.01)
        result(UNITS, "2020-11-01", "Copper, Total", 30, units="ug/L"),
        result(UNITS, "2021-03-01", "Copper, Total", 0.020),
        # 2021: 35000 ng/L + 0.040 mg/L -> 0.0375, above
        result(UNITS, "2021-11-01", "Copper, Total", 35000, units="ng/L"),
        result(UNITS, "2022-03-01", "Copper, Total", 0.040, units="mg/l"),
        # pH 2020: 5.5 and 9.5 -> instantaneous exceedance; 6.0 and 9.0 are inside the range
        result(PH, "2020-10-01", "pH", 5.5, units="SU"),
        result(PH, "2020-11-01", "pH", 9.5, units="S.U."),
        result(PH, "2020-12-01", "pH", 6.0, units="SU"),
        result(PH, "2021-01-01", "pH", 9.0, units="SU"),
        # pH 2021: one result outside (5.8) -> flagged, not an exceedance
        result(PH, "2021-10-01", "pH", 5.8, units="SU"),
        result(PH, "2021-11-01", "pH", 7.0, units="SU"),
        # TSS NAL 100: 2020 avg 100.1 (above); 2021 avg 99.95 (below); 2022 avg 100 (at)
        result(NEAR, "2020-10-01", TSS, 100.5),
        result(NEAR, "2021-02-01", TSS, 99.7),
        result(NEAR, "2021-10-01", TSS, 99.9),
        result(NEAR, "2022-02-01", TSS, 100.0),
        result(NEAR, "2022-10-01", TSS, 100),
        result(NEAR, "2023-02-01", TSS, 100),
        # Zinc 0.25 and 0.27: the mean is the NAL, whatever the float rounding
        result(NEAR, "2020-10-01", zinc, 0.25),
        result(NEAR, "2021-02-01", zinc, 0.27),
        # June 30 and July 1: different reporting years
        result(BOUNDARY, "2020-06-30", TSS, 500),
        result(BOUNDARY, "2020-07-01", TSS, 50),
        result(BOUNDARY, "2021-06-30", og, 30),
        result(BOUNDARY, "2021-07-01", og, 30),
        # 2020: one TSS result above 400 (avg 98: no annual either)
        result(INSTANT, "2020-10-01", TSS, 450),
        *[result(INSTANT, f"2020-11-{d:02d}", TSS, 10) for d in (1, 2, 3, 4)],
        # 2021: two above 400 (avg 91: no annual exceedance)
        result(INSTANT, "2021-10-01", TSS, 410),
        result(INSTANT, "2022-01-15", TSS, 420),
        *[result(INSTANT, f"2021-11-{d:02d}", TSS, 10) for d in range(1, 9)],
        # three spellings of zinc, one parameter: mean 0.3
        result(SPELLINGS, "2020-10-01", "Zinc, Total", 0.2),
        result(SPELLINGS, "2020-11-01", "Total Zinc", 0.3),
        result(SPELLINGS, "2020-12-01", "Zinc, Total (Recoverable)", 400, units="ug/L"),
        # Iron NAL 1.0: an unknown unit and TSS in NTU are left out, never guessed
        result(UNMAPPED, "2020-10-01", "Iron, Total", 0.5),
        result(UNMAPPED, "2020-11-01", "Iron, Total", 9999, units="lbs/day"),
        result(UNMAPPED, "2020-10-01", TSS, 50),
        result(UNMAPPED, "2020-11-01", TSS, 5000, units="NTU"),
        # Lead NAL 0.262: 2018 above -> Level 1 on 2019-07-01; 2019 below; 2020 above -> Level 2
        result(ERA, "2018-10-01", lead, 0.30),
        result(ERA, "2019-10-01", lead, 0.10),
        result(ERA, "2020-10-01", lead, 0.50),
        result(ERA, "2021-10-01", lead, 0.90),
        # Oil and grease: two above 25 in 2019 (avg 6.1: not annual) -> Level 1 on 2020-07-01
        result(ERA, "2019-10-01", og, 26),
        result(ERA, "2019-12-01", og, 27),
        *[result(ERA, f"2020-01-{d:02d}", og, 1) for d in (1, 2, 3, 4, 5, 6, 7, 8)],
        # gap finder: TSS 500 alone is one annual exceedance
        result(GAP_REPEAT, "2020-10-01", TSS, 500),
        result(GAP_REPEAT, "2021-10-01", TSS, 500),
        result(GAP_SINGLE, "2021-10-01", TSS, 500),
        result(GAP_SINGLE, "2021-10-01", og, 40),
        result(GAP_ANSWERED, "2020-10-01", TSS, 500),
        result(GAP_ANSWERED, "2021-10-01", TSS, 500),
    ]
    return rows


def official_rows() -> dict[str, list[dict[str, str]]]:
    violation = {
        "WDID": GAP_ANSWERED,
        "APP_ID": APP,
        "VIOLATION_ID": "V1",
        "VIOLATION_SOURCE": "Report",
        "VIOLATION_TYPE": "Effluent",
        "OCCURRENCE_DATE": "2021-06-30",
        "PERMIT_TYPE": "Industrial",
        "REGIONAL_BOARD": "9",
    }
    enforcement = {
        "WDID": GAP_ANSWERED,
        "APP_ID": APP,
        "ENFORCEMENT_ID": "E1",
        "ENFORCEMENT_TYPE": "Notice of Violation",
        "ISSUANCE_DATE": "2021-07-01",
        "PERMIT_TYPE": "Industrial",
        "REGIONAL_BOARD": "9",
    }
    return {"violations": [violation], "enforcement_actions": [enforcement]}


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> StoreConnection:
    tables = {"industrial_monitoring": monitoring_rows(), **official_rows()}
    return build_store(tmp_path_factory.mktemp("rules"), tables)


def annual(conn: StoreConnection, wdid: str, nd_rule: str = "exclude") -> pl.DataFrame:
    return facility_annual_averages(conn.cursor(), wdid, APP, nd_rule=nd_rule)


def one(frame: pl.DataFrame, **where: object) -> dict[str, object]:
    for column, value in where.items():
        frame = frame.filter(pl.col(column) == value)
    assert frame.height == 1, frame
    return frame.row(0, named=True)


# --- the NAL table ----------------------------------------------------------------


def test_nal_table_is_the_permit_table_with_version_and_canonical_names() -> None:
    table = load_nal_table()
    assert table.version == "IGP 2014-0057-DWQ as amended 2018, NAL table v1"
    assert "2014-0057-DWQ" in table.source
    assert len(table.rows) == 21
    raw = [
        line.split(",")[0] if not line.startswith('"') else line.split('"')[1]
        for line in NAL_CSV.read_text(encoding="utf-8").splitlines()[3:]
    ]
    assert raw == [row.parameter for row in table.rows]
    assert all(canonical_parameter(name) == name for name in raw)
    tss = table.nal("TSS")
    assert tss is not None and (tss.annual_nal, tss.instantaneous_max_nal) == (100.0, 400.0)
    ph = table.nal("pH")
    assert ph is not None and ph.annual_nal is None
    assert (ph.instantaneous_min_nal, ph.instantaneous_max_nal) == (6.0, 9.0)


def test_nd_rules_in_python_and_sql_agree(conn: StoreConnection) -> None:
    rules = conn.cursor().sql("select nd_rule from ref_nd_rules").fetchall()
    assert sorted(r[0] for r in rules) == sorted(ND_RULES)


def test_another_nal_table_version_changes_results_and_label(
    conn: StoreConnection, tmp_path: Path
) -> None:
    text = load_nal_table().version
    csv_text = NAL_CSV.read_text(encoding="utf-8")
    stricter = csv_text.replace(text, "test table v2").replace(
        '"Copper, Total",mg/L,0.0332', '"Copper, Total",mg/L,0.02'
    )
    (tmp_path / "nals.csv").write_text(stricter, encoding="utf-8")
    table = read_nal_table(tmp_path / "nals.csv")
    rows = facility_annual_averages(conn.cursor(), UNITS, APP, nal=table)
    year_2020 = one(rows, reporting_year=2020)
    assert year_2020["exceeds"] and year_2020["nal_version"] == "test table v2"
    assert not one(annual(conn, UNITS), reporting_year=2020)["exceeds"]


def test_unbound_cursor_sees_an_empty_nal_table(conn: StoreConnection) -> None:
    cur = conn.cursor()
    assert cur.sql("select count(*) from ref_nal_table").fetchall() == [(0,)]
    bind_rules(cur)
    assert cur.sql("select count(*) from ref_nal_table").fetchall() == [(21,)]


# --- non-detects ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nd_rule", "average", "exceeds"),
    [
        ("exclude", 0.30, True),  # 0.30
        ("zero", 0.15, False),  # (0.30 + 0) / 2
        ("half_rl", 0.25, False),  # (0.30 + 0.20) / 2
        ("rl", 0.35, True),  # (0.30 + 0.40) / 2
    ],
)
def test_nd_with_rl_above_the_nal_under_each_rule(
    conn: StoreConnection, nd_rule: str, average: float, exceeds: bool
) -> None:
    row = one(annual(conn, ND_ABOVE, nd_rule), reporting_year=2020)
    assert row["average"] == pytest.approx(average)
    assert row["exceeds"] is exceeds
    assert (row["n_samples"], row["n_nd"], row["n_uninformative_nd"]) == (2, 1, 1)
    assert row["n_used"] == (1 if nd_rule == "exclude" else 2)
    assert row["nd_rule"] == nd_rule and row["nal_version"] == load_nal_table().version


@pytest.mark.parametrize(
    ("nd_rule", "average", "exceeds"),
    [
        ("exclude", 0.32, True),  # 0.32
        ("zero", 0.32 / 4, False),  # (0.32 + 0 + 0 + 0) / 4
        ("half_rl", (0.32 + 0.13 + 0.05 + 0.03) / 4, False),  # RL, else MDL, else the '<' value
        ("rl", (0.32 + 0.26 + 0.10 + 0.06) / 4, False),
    ],
)
def test_nd_with_rl_at_the_nal_and_mdl_fallback_under_each_rule(
    conn: StoreConnection, nd_rule: str, average: float, exceeds: bool
) -> None:
    row = one(annual(conn, ND_AT, nd_rule), reporting_year=2020)
    assert row["average"] == pytest.approx(average)
    assert row["exceeds"] is exceeds
    assert (row["n_samples"], row["n_nd"], row["n_uninformative_nd"]) == (4, 3, 0)
    assert row["n_used"] == (1 if nd_rule == "exclude" else 4)


def test_dnq_and_greater_than_are_detected_at_their_values(conn: StoreConnection) -> None:
    row = one(annual(conn, DETECTED), reporting_year=2020)
    assert (row["n_samples"], row["n_nd"], row["n_used"]) == (2, 0, 2)
    assert row["average"] == pytest.approx(0.40) and row["exceeds"]


def test_default_rule_is_exclude(conn: StoreConnection) -> None:
    cur = conn.cursor()
    page = exceedances_annual(cur, year=2020, parameter="Zinc, Total", region="4")
    assert set(page.rows["nd_rule"]) == {"exclude"}
    row = one(page.rows, wdid=ND_ABOVE)
    assert row["average"] == pytest.approx(0.30)


def test_unknown_nd_rule_is_refused(conn: StoreConnection) -> None:
    with pytest.raises(ValueError, match="non-detect rule"):
        exceedances_annual(conn.cursor(), year=2020, nd_rule="median'; --")


# --- units, pH, averages, years ------------------------------------------------------


def test_ug_and_ng_per_litre_are_converted_to_mg_per_litre(conn: StoreConnection) -> None:
    rows = annual(conn, UNITS)
    y2020 = one(rows, reporting_year=2020)
    assert y2020["average"] == pytest.approx(0.025) and not y2020["exceeds"]
    assert y2020["units"] == "mg/L" and y2020["n_unit_excluded"] == 0
    y2021 = one(rows, reporting_year=2021)
    assert y2021["average"] == pytest.approx(0.0375) and y2021["exceeds"]


def test_ph_outside_the_range_twice_is_an_instantaneous_exceedance_never_averaged(
    conn: StoreConnection,
) -> None:
    cur = conn.cursor()
    assert annual(conn, PH).height == 0
    page = exceedances_instantaneous(cur, year=2020, parameter="ph", region="4")
    row = one(page.rows, wdid=PH)
    assert (row["n_samples"], row["n_above"], row["exceeds"]) == (4, 2, True)
    assert (row["min_value"], row["max_value"]) == (5.5, 9.5)
    assert row["exceedance_date"] == dt.date(2020, 11, 1)
    y2021 = one(exceedances_instantaneous(cur, year=2021, parameter="pH").rows, wdid=PH)
    assert (y2021["n_above"], y2021["exceeds"], y2021["exceedance_date"]) == (1, False, None)


@pytest.mark.parametrize(
    ("year", "average", "exceeds"),
    [(2020, 100.1, True), (2021, 99.95, False), (2022, 100.0, False)],
)
def test_average_just_above_just_below_and_at_the_nal(
    conn: StoreConnection, year: int, average: float, exceeds: bool
) -> None:
    row = one(annual(conn, NEAR), reporting_year=year, parameter=TSS)
    assert row["average"] == pytest.approx(average)
    assert row["exceeds"] is exceeds


def test_average_equal_to_the_nal_after_float_rounding_does_not_exceed(
    conn: StoreConnection,
) -> None:
    row = one(annual(conn, NEAR), reporting_year=2020, parameter="Zinc, Total")
    assert row["average"] == pytest.approx(0.26) and not row["exceeds"]


def test_june_30_and_july_1_fall_in_different_reporting_years(conn: StoreConnection) -> None:
    rows = annual(conn, BOUNDARY)
    tss = rows.filter(pl.col("parameter") == TSS)
    assert dict(zip(tss["reporting_year"], tss["average"], strict=True)) == {2019: 500, 2020: 50}
    assert one(tss, reporting_year=2019)["exceeds"]
    assert not one(tss, reporting_year=2020)["exceeds"]
    cur = conn.cursor()
    for year in (2020, 2021):
        og = one(exceedances_instantaneous(cur, year=year, parameter="O&G").rows, wdid=BOUNDARY)
        assert (og["n_above"], og["exceeds"]) == (1, False)


def test_one_result_above_the_instantaneous_nal_is_flagged_two_are_an_exceedance(
    conn: StoreConnection,
) -> None:
    cur = conn.cursor()
    y2020 = one(exceedances_instantaneous(cur, year=2020, parameter=TSS).rows, wdid=INSTANT)
    assert (y2020["n_above"], y2020["exceeds"]) == (1, False)
    assert len(y2020["above_sample_ids"]) == 1
    y2021 = one(exceedances_instantaneous(cur, year=2021, parameter=TSS).rows, wdid=INSTANT)
    assert (y2021["n_above"], y2021["exceeds"]) == (2, True)
    assert y2021["exceedance_date"] == dt.date(2022, 1, 15)
    averages = annual(conn, INSTANT)
    assert one(averages, reporting_year=2020)["average"] == pytest.approx(98)
    assert one(averages, reporting_year=2021)["average"] == pytest.approx(91)
    assert not averages["exceeds"].any()


def test_three_spellings_are_one_parameter(conn: StoreConnection) -> None:
    rows = annual(conn, SPELLINGS)
    assert rows["parameter"].to_list() == ["Zinc, Total"]
    row = rows.row(0, named=True)
    assert row["n_samples"] == 3 and row["average"] == pytest.approx(0.3) and row["exceeds"]


def test_unmapped_units_are_flagged_and_left_out(conn: StoreConnection) -> None:
    rows = annual(conn, UNMAPPED)
    iron = one(rows, parameter="Iron, Total")
    assert (iron["n_samples"], iron["n_unit_excluded"]) == (1, 1)
    assert iron["average"] == pytest.approx(0.5) and not iron["exceeds"]
    tss = one(rows, parameter=TSS)
    assert (tss["n_unit_excluded"], tss["average"]) == (1, 50)
    cur = conn.cursor()
    bind_rules(cur)
    statuses = cur.sql(
        "select units, unit_status from int_samples_converted_to_nal_units"
        " where wdid = ? and unit_status <> 'ok' order by units",
        params=[UNMAPPED],
    ).fetchall()
    assert statuses == [("NTU", "not_convertible"), ("lbs/day", "unknown")]


# --- ERA levels, events, summary, gaps -------------------------------------------------


def test_level_1_then_level_2_over_three_years(conn: StoreConnection) -> None:
    levels = era_levels(conn.cursor(), ERA, APP)
    lead = levels.filter(pl.col("parameter") == "Lead, Total")
    assert lead.select("reporting_year", "level", "effective_date").rows() == [
        (2018, 1, dt.date(2019, 7, 1)),
        (2020, 2, dt.date(2021, 7, 1)),
    ]
    assert "annual average 0.3 mg/L above the annual NAL 0.262 mg/L" in lead["reason"][0]
    og = one(levels, parameter="Oil and Grease")
    assert (og["reporting_year"], og["level"], og["effective_date"]) == (
        2019,
        1,
        dt.date(2020, 7, 1),
    )
    assert "instantaneous" in og["reason"]
    assert set(levels["nd_rule"]) == {"exclude"}


def test_exceedance_events_have_the_timeline_shape(conn: StoreConnection) -> None:
    events = exceedance_events(conn.cursor(), ERA, APP)
    assert events.columns[:7] == [
        "event_date",
        "kind",
        "title",
        "detail",
        "source_dataset",
        "source_id",
        "official",
    ]
    assert set(events["kind"]) == {"exceedance"} and not events["official"].any()
    annual_ids = events.filter(pl.col("title").str.starts_with("Annual"))["source_id"]
    assert annual_ids.to_list() == [
        f"{ERA}|Lead, Total|2018",
        f"{ERA}|Lead, Total|2020",
        f"{ERA}|Lead, Total|2021",
    ]
    first = events.row(0, named=True)
    assert first["event_date"] == dt.date(2019, 7, 1)
    assert "ND rule: exclude" in first["detail"] and "NAL table" in first["detail"]
    instantaneous = events.filter(pl.col("title").str.starts_with("Instantaneous")).row(
        0, named=True
    )
    assert instantaneous["event_date"] == dt.date(2019, 12, 1)
    assert len(instantaneous["source_id"].split(",")) == 2


def test_exceedance_summary_counts_facilities_by_region(conn: StoreConnection) -> None:
    summary = exceedance_summary(conn.cursor(), parameter="TSS", year=2020)
    region4 = one(summary, region="4")
    # NEAR (100.1), BOUNDARY (50), INSTANT (98), UNMAPPED (50): one exceeds
    assert (region4["facilities_sampled"], region4["facilities_exceeding"]) == (4, 1)
    assert region4["share_exceeding"] == pytest.approx(0.25)
    region9 = one(summary, region="9")
    assert (region9["facilities_sampled"], region9["facilities_exceeding"]) == (2, 2)
    ph = one(exceedance_summary(conn.cursor(), parameter="pH", year=2020), region="4")
    assert (ph["facilities_exceeding_instantaneous"], ph["facilities_exceeding"]) == (1, 1)


def test_gap_finder_ranks_repeated_unanswered_exceedances_first(conn: StoreConnection) -> None:
    page = facility_year_gaps(conn.cursor(), region="9")
    got = page.rows.select(
        "wdid",
        "reporting_year",
        "computed_exceedances",
        "official_violations",
        "official_enforcement_actions",
        "exceedance_years_to_date",
    ).rows()
    assert got == [
        (GAP_REPEAT, 2021, 1, 0, 0, 2),
        (GAP_SINGLE, 2021, 2, 0, 0, 1),
        (GAP_REPEAT, 2020, 1, 0, 0, 1),
        (GAP_ANSWERED, 2021, 1, 0, 1, 2),  # enforcement issued 2021-07-01
        (GAP_ANSWERED, 2020, 1, 1, 0, 1),  # violation on 2021-06-30
    ]
    assert page.total == 5 and page.rows["gap_rank"].to_list() == [1, 2, 3, 4, 5]
    assert page.rows["no_official_response"].to_list() == [True, True, True, False, False]
    assert set(page.rows["basis"]) == {"computed"}
    only_2020 = facility_year_gaps(conn.cursor(), region="9", year=2020, limit=1)
    assert only_2020.total == 2 and only_2020.rows["wdid"].to_list() == [GAP_REPEAT]


# --- hostile values -------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_values_are_data_not_sql(conn: StoreConnection, text: str) -> None:
    cur = conn.cursor()
    assert exceedances_annual(cur, year=2020, parameter=text).total == 0
    assert exceedances_annual(cur, year=2020, region=[text, "'"]).total == 0
    assert exceedances_instantaneous(cur, year=2020, parameter=text, region=text).total == 0
    assert exceedance_summary(cur, parameter=text, year=2020).height == 0
    assert exceedance_events(cur, text, text).height == 0
    assert era_levels(cur, text, APP).height == 0
    assert facility_annual_averages(cur, ERA, text).height == 0
    assert facility_year_gaps(cur, region=text).total == 0
    assert exceedances_annual(cur, year=2020).total > 0
    with pytest.raises(ValueError):
        exceedances_annual(cur, year=2020, sort=text)


# --- the tiny store: outputs agree with bare SQL ----------------------------------------------


@pytest.fixture(scope="module")
def tiny(tiny_store: Store) -> StoreConnection:
    return open_store(tiny_store.root)


def _busiest_year(cur: duckdb.DuckDBPyConnection, parameter: str) -> int:
    return cur.sql(
        "select reporting_year from stg_smarts__industrial_monitoring"
        " where parameter_canonical = ? group by 1 order by count(*) desc limit 1",
        params=[parameter],
    ).fetchall()[0][0]


@pytest.mark.parametrize("parameter", ["Zinc, Total", "Copper, Total", TSS])
def test_tiny_store_annual_averages_agree_with_bare_sql(
    tiny: StoreConnection, parameter: str
) -> None:
    cur = tiny.cursor()
    year = _busiest_year(cur, parameter)
    page = exceedances_annual(cur, year=year, parameter=parameter, limit=10_000)
    bare = cur.sql(
        """
        select wdid, app_id,
            avg(result * case units_canonical when 'mg/L' then 1 when 'ug/L' then 0.001
                when 'ng/L' then 0.000001 when 'pg/L' then 0.000000001 end) as average,
            count(*) as n_samples
        from stg_smarts__industrial_monitoring
        where parameter_canonical = ? and reporting_year = ?
            and sample_date between date '1990-01-01' and current_date
            and coalesce(upper(result_qualifier), '=') not in ('ND', '<')
        group by all
        having average is not null
        """,
        params=[parameter, year],
    ).pl()
    got = page.rows.filter(pl.col("n_used") > 0).select("wdid", "app_id", "average").sort("wdid")
    expected = bare.select("wdid", "app_id", "average").sort("wdid")
    assert got.height == expected.height > 0
    assert got["wdid"].to_list() == expected["wdid"].to_list()
    for a, b in zip(got["average"], expected["average"], strict=True):
        assert a == pytest.approx(b)
    nal = load_nal_table().nal(parameter)
    assert nal is not None and nal.annual_nal is not None
    exceeding = {
        w for w, avg in zip(bare["wdid"], bare["average"], strict=True) if avg > nal.annual_nal
    }
    assert set(page.rows.filter(pl.col("exceeds"))["wdid"]) == exceeding


def test_tiny_store_instantaneous_counts_agree_with_bare_sql(tiny: StoreConnection) -> None:
    cur = tiny.cursor()
    bare = cur.sql(
        """
        select wdid, reporting_year, count(*) as n_above
        from stg_smarts__industrial_monitoring
        where parameter_canonical = ? and units_canonical = 'mg/L' and result > 400
            and coalesce(upper(result_qualifier), '=') not in ('ND', '<')
            and sample_date between date '1990-01-01' and current_date
        group by all having count(*) >= 2
        """,
        params=[TSS],
    ).fetchall()
    bind_rules(cur)
    got = cur.sql(
        "select wdid, reporting_year, n_above from exceedances_instantaneous"
        " where parameter = ? and nd_rule = 'exclude' and exceeds",
        params=[TSS],
    ).fetchall()
    assert sorted(got) == sorted(bare)


def test_tiny_store_has_computed_exceedances_and_era_levels(tiny: StoreConnection) -> None:
    cur = tiny.cursor()
    gaps = facility_year_gaps(cur, limit=10_000)
    assert gaps.total > 0
    wdid, app_id = gaps.rows.row(0)[:2]
    assert era_levels(cur, wdid, app_id).height >= 1
    assert exceedance_events(cur, wdid, app_id).height >= 1
    facilities = cur.sql(
        "select count(distinct (wdid, app_id)) from stg_smarts__industrial_monitoring"
    ).fetchall()[0][0]
    exceeding = gaps.rows.select("wdid", "app_id").unique().height
    assert 0 < exceeding < facilities


def test_tiny_store_reporting_year_recomputed_matches_the_partition(tiny: StoreConnection) -> None:
    cur = tiny.cursor()
    bind_rules(cur)
    mismatched = cur.sql(
        "select count(*) from int_samples_converted_to_nal_units"
        " where reporting_year <> partition_year"
    ).fetchall()
    assert mismatched == [(0,)]
