"""Enforcement actions and inspections: filters, sorting, paging, penalty figures and links."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.enforcement import enforcement_actions, enforcement_totals
from data_layer.inspections import inspection_violations, inspections
from data_layer.sql_files import render
from data_layer.store import Store
from tests.test_data_layer_base import HOSTILE

STAGING = ("stg_smarts__violations", "stg_smarts__enforcement_actions", "stg_smarts__inspections")


@pytest.fixture(scope="module")
def conn(tiny_store: Store) -> StoreConnection:
    return open_store(tiny_store.root)


def _count(cur: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return cur.execute(sql, params or []).fetchall()[0][0]


def _most_common(cur: duckdb.DuckDBPyConnection, view: str, column: str) -> str:
    return cur.execute(
        f"SELECT {column} FROM {view} WHERE {column} IS NOT NULL GROUP BY 1"
        " ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchall()[0][0]


# --- enforcement actions -------------------------------------------------------------------


def test_enforcement_default_page_is_newest_first_with_total(conn: StoreConnection) -> None:
    cur = conn.cursor()
    page = enforcement_actions(cur, limit=10)
    assert page.total == _count(cur, "SELECT count(*) FROM stg_smarts__enforcement_actions") > 10
    assert page.rows.height == 10
    dates = page.rows["issuance_date"].drop_nulls().to_list()
    assert dates == sorted(dates, reverse=True)
    assert {"facility_name", "assessed", "received", "balance"} <= set(page.rows.columns)


def test_enforcement_filters_narrow_and_agree_with_bare_sql(conn: StoreConnection) -> None:
    cur = conn.cursor()
    view = "stg_smarts__enforcement_actions"
    etype = _most_common(cur, view, "enforcement_type")
    status = _most_common(cur, view, "enforcement_status")
    since, until = dt.date(2010, 1, 1), dt.date(2024, 12, 31)
    page = enforcement_actions(
        cur, enforcement_type=etype, status=status, date_from=since, date_to=until, limit=500
    )
    expected = _count(
        cur,
        f"SELECT count(*) FROM {view} WHERE enforcement_type = ? AND enforcement_status = ?"
        " AND issuance_date BETWEEN ? AND ?",
        [etype, status, since, until],
    )
    assert page.total == expected == page.rows.height > 0
    assert set(page.rows["enforcement_type"]) == {etype}
    assert page.rows["issuance_date"].is_between(since, until).all()
    for column, argument in (("region", "region"), ("permit_type", "permit_type")):
        value = _most_common(cur, view, column)
        narrowed = enforcement_actions(cur, **{argument: value})
        bare = _count(cur, f"SELECT count(*) FROM {view} WHERE {column} = ?", [value])
        assert narrowed.total == bare < enforcement_actions(cur).total


def test_enforcement_facility_text_matches_name_wdid_or_city(conn: StoreConnection) -> None:
    cur = conn.cursor()
    everything = enforcement_actions(cur, limit=10_000).rows
    wdid = everything["wdid"][0]
    page = enforcement_actions(cur, facility=wdid.lower(), limit=10_000)
    expected = everything.filter(
        pl.any_horizontal(
            pl.col(c).str.to_lowercase().str.contains(wdid.lower(), literal=True)
            for c in ("facility_name", "wdid", "place_city")
        )
    )
    assert page.total == expected.height > 0
    assert set(page.rows["enforcement_id"]) == set(expected["enforcement_id"])


def test_enforcement_sorting_and_paging(conn: StoreConnection) -> None:
    cur = conn.cursor()
    whole = enforcement_actions(cur, sort="enforcement_id", descending=False, limit=10_000)
    ids = whole.rows["enforcement_id"].to_list()
    assert ids == sorted(ids)
    pages = [
        enforcement_actions(cur, sort="enforcement_id", descending=False, limit=7, offset=o)
        for o in range(0, whole.total, 7)
    ]
    assert [i for p in pages for i in p.rows["enforcement_id"]] == ids
    beyond = enforcement_actions(cur, limit=5, offset=whole.total + 10)
    assert beyond.rows.height == 0 and beyond.total == whole.total
    by_assessed = enforcement_actions(cur, sort="assessed", descending=True, limit=10_000).rows
    amounts = by_assessed["assessed"].to_list()
    known = [a for a in amounts if a is not None]
    assert known == sorted(known, reverse=True) and amounts[: len(known)] == known
    with pytest.raises(ValueError, match="cannot sort by"):
        enforcement_actions(cur, sort="balance; DROP TABLE x")


def test_enforcement_totals_agree_with_rows_and_bare_sql(conn: StoreConnection) -> None:
    cur = conn.cursor()
    view = "stg_smarts__enforcement_actions"
    totals = enforcement_totals(cur)
    rows = enforcement_actions(cur, limit=10_000).rows
    assert totals["count"] == rows.height == _count(cur, f"SELECT count(*) FROM {view}")
    for key in ("assessed", "received", "balance"):
        assert totals[key] == pytest.approx(rows[key].fill_null(0).sum())
    recorded = cur.execute(
        f"SELECT sum(total_assessment), sum(received_amount), sum(balance_due) FROM {view}"
        " WHERE total_assessment IS NOT NULL AND received_amount IS NOT NULL"
        " AND balance_due IS NOT NULL"
    ).fetchall()[0]
    complete = rows.filter(~pl.col("penalty_derived") & pl.col("total_assessment").is_not_null())
    assert complete["assessed"].sum() == pytest.approx(recorded[0])
    assert complete["received"].sum() == pytest.approx(recorded[1])
    assert complete["balance"].sum() == pytest.approx(recorded[2])
    assert totals["with_penalty"] == rows["has_penalty"].sum() > 0
    etype = _most_common(cur, view, "enforcement_type")
    assert enforcement_totals(cur, enforcement_type=etype)["count"] == _count(
        cur, f"SELECT count(*) FROM {view} WHERE enforcement_type = ?", [etype]
    )


# (total_assessment, received_amount, balance_due, initial_assessment)
#     -> (assessed, received, balance, penalty_derived)
PENALTY_CASES = [
    ((1000.0, 400.0, 600.0, 1200.0), (1000.0, 400.0, 600.0, False)),
    ((None, 300.0, 200.0, None), (500.0, 300.0, 200.0, True)),
    ((1000.0, None, 250.0, None), (1000.0, 750.0, 250.0, True)),
    ((1000.0, 400.0, None, None), (1000.0, 400.0, 600.0, True)),
    ((1000.0, None, None, None), (1000.0, 0.0, 1000.0, True)),
    ((None, None, None, 800.0), (800.0, 0.0, 800.0, True)),
    ((100.0, 150.0, None, None), (100.0, 150.0, 0.0, True)),
    ((None, None, None, None), (None, None, None, False)),
]


def test_penalty_figures_fill_gaps_by_the_stated_rule() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE stg_smarts__enforcement_actions (enforcement_id VARCHAR,"
        " total_assessment DOUBLE, received_amount DOUBLE, balance_due DOUBLE,"
        " initial_assessment DOUBLE)"
    )
    for i, (given, _) in enumerate(PENALTY_CASES):
        con.execute(
            "INSERT INTO stg_smarts__enforcement_actions VALUES (?, ?, ?, ?, ?)",
            [str(i), *given],
        )
    got = con.sql(
        f"SELECT assessed, received, balance, penalty_derived, has_penalty"
        f" FROM ({render('int_enforcement_penalties')}) ORDER BY enforcement_id::INT"
    ).fetchall()
    assert [g[:4] for g in got] == [want for _, want in PENALTY_CASES]
    assert [g[4] for g in got] == [want[0] is not None for _, want in PENALTY_CASES]


# --- inspections ---------------------------------------------------------------------------


def test_inspections_default_page_is_newest_first_with_total(conn: StoreConnection) -> None:
    cur = conn.cursor()
    page = inspections(cur, limit=10)
    assert page.total == _count(cur, "SELECT count(*) FROM stg_smarts__inspections") > 10
    dates = page.rows["inspection_date"].drop_nulls().to_list()
    assert dates == sorted(dates, reverse=True)
    assert {"facility_name", "violations_found", "follow_up_required"} <= set(page.rows.columns)


def test_inspection_filters_narrow_and_agree_with_bare_sql(conn: StoreConnection) -> None:
    cur = conn.cursor()
    view = "stg_smarts__inspections"
    purpose = _most_common(cur, view, "inspection_purpose")
    itype = _most_common(cur, view, "inspector_type")
    page = inspections(cur, purpose=purpose, inspector_type=itype, limit=500)
    bare = _count(
        cur,
        f"SELECT count(*) FROM {view} WHERE inspection_purpose = ? AND inspector_type = ?",
        [purpose, itype],
    )
    assert page.total == bare == page.rows.height > 0
    since = dt.date(2020, 1, 1)
    assert inspections(cur, date_from=since).total == _count(
        cur, f"SELECT count(*) FROM {view} WHERE inspection_date >= ?", [since]
    )
    assert inspections(cur, virtual=True).total == _count(
        cur, f"SELECT count(*) FROM {view} WHERE virtual_inspection"
    )
    assert inspections(cur, county=_most_common(cur, view, "place_county")).total > 0


def test_follow_up_filters_by_flag_or_by_recorded_text(conn: StoreConnection) -> None:
    cur = conn.cursor()
    view = "stg_smarts__inspections"
    yes = _count(cur, f"SELECT count(*) FROM {view} WHERE follow_up_action = 'Y'")
    no = _count(cur, f"SELECT count(*) FROM {view} WHERE follow_up_action = 'N'")
    assert inspections(cur, follow_up=True).total == inspections(cur, follow_up="Y").total == yes
    assert inspections(cur, follow_up=False).total == no
    assert yes > 0 and no > 0
    unknown = inspections(cur, limit=10_000).rows.filter(pl.col("follow_up_action").is_null())
    assert unknown["follow_up_required"].null_count() == unknown.height


def test_each_inspection_counts_the_violations_it_produced(conn: StoreConnection) -> None:
    cur = conn.cursor()
    bare = dict(
        cur.execute(
            "SELECT violation_source_id, count(*) FROM stg_smarts__violations"
            " WHERE violation_source = 'Inspection' GROUP BY 1"
        ).fetchall()
    )
    rows = inspections(cur, limit=10_000).rows
    got = dict(zip(rows["inspection_id"], rows["violations_found"], strict=True))
    assert {k: v for k, v in got.items() if v} == bare
    assert sum(bare.values()) > 0
    found = inspections(cur, found_violations=True, sort="violations_found")
    assert found.total == len(bare)
    assert found.rows["violations_found"].to_list()[0] == max(bare.values())


def test_every_inspection_sourced_violation_appears_under_its_inspection(
    conn: StoreConnection,
) -> None:
    cur = conn.cursor()
    sourced = cur.execute(
        "SELECT violation_id, violation_source_id FROM stg_smarts__violations"
        " WHERE violation_source = 'Inspection'"
    ).fetchall()
    assert sourced
    per_inspection: dict[str, set[str]] = {}
    for violation_id, inspection_id in sourced:
        per_inspection.setdefault(inspection_id, set()).add(violation_id)
    for inspection_id, expected in per_inspection.items():
        produced = inspection_violations(cur, inspection_id)
        assert set(produced["violation_id"]) == expected
        assert set(produced["inspection_id"]) == {inspection_id}
    quiet = inspections(cur, found_violations=False, limit=1).rows["inspection_id"][0]
    assert inspection_violations(cur, quiet).height == 0


def test_inspection_sorting_and_paging(conn: StoreConnection) -> None:
    cur = conn.cursor()
    whole = inspections(cur, sort="inspection_id", descending=True, limit=10_000)
    ids = whole.rows["inspection_id"].to_list()
    assert ids == sorted(ids, reverse=True)
    second = inspections(cur, sort="inspection_id", descending=True, limit=10, offset=10)
    assert second.rows["inspection_id"].to_list() == ids[10:20]
    beyond = inspections(cur, offset=whole.total)
    assert beyond.rows.height == 0 and beyond.total == whole.total
    with pytest.raises(ValueError, match="cannot sort by"):
        inspections(cur, sort="1; DROP TABLE x")


# --- hostile input ---------------------------------------------------------------------------

ENFORCEMENT_TEXT = ("region", "county", "permit_type", "enforcement_type", "status", "facility")
INSPECTION_TEXT = (
    "region",
    "county",
    "permit_type",
    "purpose",
    "inspector_type",
    "follow_up",
    "facility",
)


def _literal_hits(frame: pl.DataFrame, columns: tuple[str, ...], text: str) -> int:
    """Rows where any column contains `text` literally, ignoring case (computed without SQL)."""
    needle = text.lower()
    return frame.filter(
        pl.any_horizontal(
            pl.col(c).str.to_lowercase().str.contains(needle, literal=True) for c in columns
        )
    ).height


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_filter_values_are_data_not_sql(conn: StoreConnection, text: str) -> None:
    cur = conn.cursor()
    before = [_count(cur, f"SELECT count(*) FROM {v}") for v in STAGING]
    all_actions = enforcement_actions(cur, limit=10_000).rows
    all_inspections = inspections(cur, limit=10_000).rows
    facility_columns = ("facility_name", "wdid", "place_city")
    for name in ENFORCEMENT_TEXT:
        expected = _literal_hits(all_actions, facility_columns, text) if name == "facility" else 0
        assert enforcement_actions(cur, **{name: text}).total == expected, name
        assert enforcement_totals(cur, **{name: text})["count"] == expected, name
    assert enforcement_actions(cur, enforcement_type=[text, "Notice of Violation"]).total > 0
    for name in INSPECTION_TEXT:
        hits = _literal_hits(all_inspections, facility_columns, text)
        assert inspections(cur, **{name: text}).total == (hits if name == "facility" else 0), name
    assert inspection_violations(cur, text).height == 0
    assert [_count(cur, f"SELECT count(*) FROM {v}") for v in STAGING] == before
    assert enforcement_actions(cur).total == all_actions.height > 0


def test_missing_datasets_give_empty_results_not_errors(tmp_path) -> None:
    cur = open_store(tmp_path / "empty").cursor()
    assert enforcement_actions(cur).total == 0
    assert enforcement_totals(cur) == {
        "count": 0,
        "with_penalty": 0,
        "assessed": 0.0,
        "received": 0.0,
        "balance": 0.0,
    }
    assert inspections(cur).total == 0
    assert inspection_violations(cur, "1").height == 0
