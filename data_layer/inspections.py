"""Inspections: the official records, each with the violations it produced (DESIGN §6 links)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from data_layer.filters import Where, order_by, page_bounds
from data_layer.results import Page, paged, run_query

FILTERABLE = frozenset(
    {
        "region",
        "county",
        "permit_type",
        "inspection_purpose",
        "inspector_type",
        "follow_up_action",
        "follow_up_required",
        "virtual_inspection",
        "found_violations",
        "inspection_date",
        "facility_name",
        "wdid",
        "place_city",
    }
)
SORTABLE = (
    "inspection_date",
    "inspection_purpose",
    "inspector_type",
    "violations_found",
    "facility_name",
    "county",
    "region",
    "wdid",
    "inspection_id",
)


def inspections(
    cur: duckdb.DuckDBPyConnection,
    *,
    region: str | list[str] | None = None,
    county: str | list[str] | None = None,
    permit_type: str | list[str] | None = None,
    purpose: str | list[str] | None = None,
    inspector_type: str | list[str] | None = None,
    follow_up: bool | str | list[str] | None = None,
    virtual: bool | None = None,
    found_violations: bool | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    facility: str | None = None,
    sort: str = "inspection_date",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Inspections matching the filters, one page, newest first by default.

    Grain: one row per inspection_id: every source column, facility_name, county,
    permit_family, `follow_up_required` (FOLLOW_UP_ACTION read as Y/N, else null),
    `violations_found` (violations whose source is this inspection) and
    `found_violations`. `follow_up` True/False filters on follow_up_required, text on
    the raw FOLLOW_UP_ACTION; `facility` matches name, WDID or city literally, any case.
    """
    follow_up_column = "follow_up_required" if isinstance(follow_up, bool) else "follow_up_action"
    where = (
        Where(FILTERABLE)
        .equals("region", region)
        .equals("county", county)
        .equals("permit_type", permit_type)
        .equals("inspection_purpose", purpose)
        .equals("inspector_type", inspector_type)
        .equals(follow_up_column, follow_up)
        .equals("virtual_inspection", virtual)
        .equals("found_violations", found_violations)
        .between("inspection_date", date_from, date_to)
        .contains(("facility_name", "wdid", "place_city"), facility)
    )
    limit, offset = page_bounds(limit, offset)
    sql = f"SELECT * FROM inspections_enriched WHERE {where.sql()}"
    order = order_by(sort, descending, SORTABLE, ("inspection_id",))
    return paged(cur, "inspections", sql, where.params, limit, offset, order=order)


def inspection_violations(cur: duckdb.DuckDBPyConnection, inspection_id: str) -> pl.DataFrame:
    """The violations an inspection produced, in order of occurrence.

    Grain: one row per violation_id whose violation_source is 'Inspection' and whose
    violation_source_id is `inspection_id`; columns as in `violations_enriched`.
    """
    sql = (
        "SELECT * FROM violations_enriched"
        " WHERE violation_source = 'Inspection' AND violation_source_id = ?"
        " ORDER BY occurrence_date NULLS LAST, violation_id"
    )
    return run_query(cur, "inspection_violations", sql, [inspection_id])
