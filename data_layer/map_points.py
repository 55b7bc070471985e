"""Facilities for the map: where each one is, with its official violations and its computed
NAL exceedances side by side (never added together), and how many have no coordinates.

Violations are SMARTS records; exceedances are this product's screening (`facility_year_gaps`,
under a non-detect rule and the NAL table bound to the cursor), so each row carries
`nd_rule` and `nal_version` for its exceedance figures.
"""

from __future__ import annotations

import duckdb
import polars as pl

from data_layer.connection import rules_relation
from data_layer.filters import Where
from data_layer.nal_table import DEFAULT_ND_RULE, NalTable, bind_rules, check_nd_rule
from data_layer.results import run_query

FILTERABLE = frozenset({"region", "permit_family", "status_group", "county"})

_POINTS_SQL = """
WITH violations AS (
    SELECT wdid, app_id, sum(violations)::BIGINT AS violations
    FROM map_facility_violation_years
    WHERE (?::INTEGER IS NULL OR reporting_year = ?)
    GROUP BY ALL
),
exceedances AS (
    SELECT wdid, app_id, sum(computed_exceedances)::BIGINT AS exceedances,
        count(*) AS exceedance_years, any_value(nal_version) AS nal_version
    FROM {gaps}
    WHERE nd_rule = ? AND (?::INTEGER IS NULL OR reporting_year = ?)
    GROUP BY ALL
)
SELECT
    p.*,
    coalesce(v.violations, 0) AS violations,
    coalesce(x.exceedances, 0) AS exceedances,
    coalesce(x.exceedance_years, 0) AS exceedance_years,
    ?::VARCHAR AS nd_rule,
    x.nal_version,
FROM map_facility_points AS p
LEFT JOIN violations AS v USING (wdid, app_id)
LEFT JOIN exceedances AS x USING (wdid, app_id)
WHERE {where}
ORDER BY p.wdid, p.app_id
"""


def map_points(
    cur: duckdb.DuckDBPyConnection,
    *,
    region: str | list[str] | None = None,
    permit_family: str | list[str] | None = None,
    status: str | list[str] | None = None,
    county: str | list[str] | None = None,
    year: int | None = None,
    nd_rule: str = DEFAULT_ND_RULE,
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """Every facility matching the filters, with or without coordinates.

    Grain: one row per (wdid, app_id). Columns: display_name, permit_family,
    status_group, region, county, city, latitude, longitude, has_coordinates,
    coords_in_california, violation_count / enforcement_count / inspection_count (all
    years), violations (official, in reporting year `year`, else all years),
    exceedances (computed NAL exceedances in `year`, else all years) and
    exceedance_years, nd_rule, nal_version (null without exceedances). `year` is the
    July–June reporting year labelled by its start.
    """
    check_nd_rule(nd_rule)
    bind_rules(cur, nal)
    where = (
        Where(FILTERABLE)
        .equals("region", region)
        .equals("permit_family", permit_family)
        .equals("status_group", status)
        .equals("county", county)
    )
    y = None if year is None else int(year)
    params = [y, y, nd_rule, y, y, nd_rule, *where.params]
    sql = _POINTS_SQL.format(where=where.sql(), gaps=rules_relation("facility_year_gaps", nal))
    return run_query(cur, "map_points", sql, params)
