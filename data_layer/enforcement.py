"""Enforcement actions: the official records with penalty figures, for the Enforcement page.

Penalty figures come from `enforcement_enriched`: `assessed` is the total assessment, else
received plus balance due, else the initial assessment; `received` is the amount received,
else assessed less balance due, else 0 when something was assessed; `balance` is the
balance due, else assessed less received (never below 0). `penalty_derived` marks rows
where any of the three was worked out rather than recorded. Amounts are US dollars.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from data_layer.filters import Where, order_by, page_bounds
from data_layer.results import Page, paged, run_query

FILTERABLE = frozenset(
    {
        "region",
        "county",
        "permit_type",
        "enforcement_type",
        "enforcement_status",
        "issuance_date",
        "facility_name",
        "wdid",
        "place_city",
    }
)
SORTABLE = (
    "issuance_date",
    "due_date",
    "enforcement_type",
    "enforcement_status",
    "assessed",
    "received",
    "balance",
    "facility_name",
    "county",
    "region",
    "wdid",
    "enforcement_id",
)


def _where(
    region: str | list[str] | None,
    county: str | list[str] | None,
    permit_type: str | list[str] | None,
    enforcement_type: str | list[str] | None,
    status: str | list[str] | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    facility: str | None,
) -> Where:
    return (
        Where(FILTERABLE)
        .equals("region", region)
        .equals("county", county)
        .equals("permit_type", permit_type)
        .equals("enforcement_type", enforcement_type)
        .equals("enforcement_status", status)
        .between("issuance_date", date_from, date_to)
        .contains(("facility_name", "wdid", "place_city"), facility)
    )


def enforcement_actions(
    cur: duckdb.DuckDBPyConnection,
    *,
    region: str | list[str] | None = None,
    county: str | list[str] | None = None,
    permit_type: str | list[str] | None = None,
    enforcement_type: str | list[str] | None = None,
    status: str | list[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    facility: str | None = None,
    sort: str = "issuance_date",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Enforcement actions matching the filters, one page, newest issuance first by default.

    Grain: one row per enforcement_id: every source column, facility_name, county,
    permit_family, penalty figures `assessed`, `received`, `balance` (USD, see the module
    note), `penalty_derived`, `has_penalty` and `issuance_year`. Dates filter on
    issuance_date; `facility` matches facility name, WDID or city literally, any case.
    """
    where = _where(
        region, county, permit_type, enforcement_type, status, date_from, date_to, facility
    )
    limit, offset = page_bounds(limit, offset)
    sql = f"SELECT * FROM enforcement_enriched WHERE {where.sql()}"
    order = order_by(sort, descending, SORTABLE, ("enforcement_id",))
    return paged(cur, "enforcement_actions", sql, where.params, limit, offset, order=order)


def enforcement_totals(
    cur: duckdb.DuckDBPyConnection,
    *,
    region: str | list[str] | None = None,
    county: str | list[str] | None = None,
    permit_type: str | list[str] | None = None,
    enforcement_type: str | list[str] | None = None,
    status: str | list[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    facility: str | None = None,
) -> dict[str, Any]:
    """Totals over every action matching the filters (same filters as `enforcement_actions`).

    Keys: `count` (actions), `with_penalty` (actions with an amount assessed), and the sums
    `assessed`, `received`, `balance` in USD (0.0 when nothing matches).
    """
    where = _where(
        region, county, permit_type, enforcement_type, status, date_from, date_to, facility
    )
    sql = (
        "SELECT count(*) AS count, count(*) FILTER (WHERE has_penalty) AS with_penalty,"
        " coalesce(sum(assessed), 0)::DOUBLE AS assessed,"
        " coalesce(sum(received), 0)::DOUBLE AS received,"
        " coalesce(sum(balance), 0)::DOUBLE AS balance"
        f" FROM enforcement_enriched WHERE {where.sql()}"
    )
    return run_query(cur, "enforcement_totals", sql, where.params).row(0, named=True)
