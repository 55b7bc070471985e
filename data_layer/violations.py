"""Violations: the official records, filtered, sorted and paged for the Violations page."""

from __future__ import annotations

import datetime as dt

import duckdb

from data_layer.filters import Where, order_by, page_bounds
from data_layer.results import Page, paged

FILTERABLE = frozenset(
    {
        "region",
        "county",
        "permit_type",
        "violation_type",
        "violation_status",
        "serious_violation",
        "violation_priority",
        "occurrence_date",
        "wdid",
        "facility_name",
        "place_city",
        "violation_source",
    }
)
SORTABLE = (
    "occurrence_date",
    "discovery_date",
    "violation_type",
    "violation_status",
    "violation_priority",
    "facility_name",
    "county",
    "region",
    "wdid",
    "violation_id",
)


def violations(
    cur: duckdb.DuckDBPyConnection,
    *,
    region: str | list[str] | None = None,
    county: str | list[str] | None = None,
    permit_type: str | list[str] | None = None,
    violation_type: str | list[str] | None = None,
    status: str | list[str] | None = None,
    serious: bool | None = None,
    priority: str | list[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    facility: str | None = None,
    sort: str = "occurrence_date",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Violations matching the filters, one page, newest first by default.

    Grain: one row per violation_id, with facility_name, county, the source inspection
    (inspection_id, source_inspection_date) when the violation came from one.
    `facility` matches facility name, WDID or city, literally and case-insensitively.
    """
    where = (
        Where(FILTERABLE)
        .equals("region", region)
        .equals("county", county)
        .equals("permit_type", permit_type)
        .equals("violation_type", violation_type)
        .equals("violation_status", status)
        .equals("serious_violation", serious)
        .equals("violation_priority", priority)
        .between("occurrence_date", date_from, date_to)
        .contains(("facility_name", "wdid", "place_city"), facility)
    )
    limit, offset = page_bounds(limit, offset)
    sql = f"SELECT * FROM violations_enriched WHERE {where.sql()}"
    order = order_by(sort, descending, SORTABLE, ("violation_id",))
    return paged(cur, "violations", sql, where.params, limit, offset, order=order)
