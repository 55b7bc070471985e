"""Facilities: search, one facility's profile, and links to its records and monitoring reports.

A facility is one SMARTS application, keyed by (wdid, app_id), industrial or construction
(`int_facilities_unified`); `facility_summary` adds its record counts and search keys.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from data_layer.filters import page_bounds
from data_layer.identifiers import ident
from data_layer.results import run_query

#: Words of a search beyond this many are ignored (each becomes a bound parameter).
MAX_SEARCH_WORDS = 8

#: The keys of `facility_options`, each a list of distinct values.
OPTION_FIELDS = (
    "regions",
    "counties",
    "permit_types",
    "facility_statuses",
    "violation_types",
    "violation_statuses",
    "violation_priorities",
    "enforcement_types",
    "enforcement_statuses",
    "inspection_purposes",
    "inspector_types",
)

_SEARCH_SQL = """
WITH ranked AS (
    SELECT
        wdid, app_id, display_name, operator, city, county, region, permit_family,
        permit_type, status, status_group, violation_count, enforcement_count,
        inspection_count,
        CASE
            WHEN wdid_key = $1 THEN 0
            WHEN starts_with(search_keys.name, lower($2)) THEN 1
            WHEN {words} THEN 2
            WHEN contains(search_keys.wdid, lower($2)) OR contains(search_keys.name, lower($2))
                OR contains(search_keys.operator, lower($2))
                OR contains(search_keys.city, lower($2))
                THEN 3
        END AS match_rank
    FROM facility_summary
)
SELECT * FROM ranked
WHERE match_rank IS NOT NULL AND length($2) > 0
ORDER BY match_rank, violation_count DESC, display_name, wdid, app_id
LIMIT $3
"""


def facility_search(cur: duckdb.DuckDBPyConnection, text: str, limit: int = 20) -> pl.DataFrame:
    """Facilities whose WDID, name, operator or city match `text`, best match first.

    Grain: one row per (wdid, app_id) with display_name, operator, city, county, region,
    permit_family, permit_type, status, status_group, violation_count, enforcement_count,
    inspection_count and `match_rank`: 0 exact WDID (case and spaces ignored), 1 name
    starts with the text, 2 every word of the text (split on spaces) starts a word of
    name, operator or city, 3 the text appears in any of them or in the WDID. Ties: more
    violations first. Matching is literal and case-insensitive; empty text matches nothing.
    """
    text = (text or "").strip()
    words = text.split()[:MAX_SEARCH_WORDS]
    params: list[Any] = ["".join(text.split()).upper(), text, page_bounds(limit, 0)[0]]
    clauses = []
    for word in words:
        params.append(word)
        clauses.append(f"contains(search_words, ' ' || lower(${len(params)}))")
    sql = _SEARCH_SQL.format(words=" AND ".join(clauses) or "false")
    return run_query(cur, "facility_search", sql, params)


def facility_profile(cur: duckdb.DuckDBPyConnection, wdid: str, app_id: str) -> dict | None:
    """One facility's profile, or None when (wdid, app_id) is unknown.

    Keys: every `int_facilities_unified` column; violation_count, enforcement_count,
    inspection_count; first/last_record_date (official records); monitoring_reports,
    first/last_sample_date (monitoring); first/last_activity_date over both.
    """
    sql = """
        WITH f AS (
            SELECT * EXCLUDE (wdid_key, search_words, search_keys) FROM facility_summary
            WHERE wdid = $1 AND app_id = $2
        ),
        m AS (
            SELECT count(*) AS monitoring_reports, min(first_sample_date) AS first_sample_date,
                max(last_sample_date) AS last_sample_date
            FROM facility_monitoring_reports WHERE wdid = $1 AND app_id = $2
        )
        SELECT f.*, m.*,
            least(f.first_record_date, m.first_sample_date) AS first_activity_date,
            greatest(f.last_record_date, m.last_sample_date) AS last_activity_date
        FROM f CROSS JOIN m
    """
    frame = run_query(cur, "facility_profile", sql, [wdid, app_id])
    return frame.row(0, named=True) if frame.height else None


def _facility_rows(
    cur: duckdb.DuckDBPyConnection, name: str, view: str, order: str, wdid: str, app_id: str
) -> pl.DataFrame:
    """Rows of `view` (a model name from this module) for one facility, in `order`."""
    sql = f"SELECT * FROM {ident(view)} WHERE wdid = ? AND app_id = ? ORDER BY {order}"
    return run_query(cur, name, sql, [wdid, app_id])


def facility_violations(cur: duckdb.DuckDBPyConnection, wdid: str, app_id: str) -> pl.DataFrame:
    """A facility's violations, newest first. Grain and columns: `violations_enriched`."""
    order = "occurrence_date DESC NULLS LAST, violation_id"
    return _facility_rows(cur, "facility_violations", "violations_enriched", order, wdid, app_id)


def facility_enforcement(cur: duckdb.DuckDBPyConnection, wdid: str, app_id: str) -> pl.DataFrame:
    """A facility's enforcement actions, newest first, with penalty figures (USD).

    Grain and columns: `enforcement_enriched` (see `data_layer.enforcement`).
    """
    order = "issuance_date DESC NULLS LAST, enforcement_id"
    return _facility_rows(cur, "facility_enforcement", "enforcement_enriched", order, wdid, app_id)


def facility_inspections(cur: duckdb.DuckDBPyConnection, wdid: str, app_id: str) -> pl.DataFrame:
    """A facility's inspections, newest first, each with `violations_found`.

    Grain and columns: `inspections_enriched` (see `data_layer.inspections`).
    """
    order = "inspection_date DESC NULLS LAST, inspection_id"
    return _facility_rows(cur, "facility_inspections", "inspections_enriched", order, wdid, app_id)


def facility_monitoring_reports(
    cur: duckdb.DuckDBPyConnection, wdid: str, app_id: str
) -> pl.DataFrame:
    """A facility's monitoring reports, newest first.

    Grain: one row per report_id, from industrial or construction monitoring (named in
    `source_dataset`): reporting_year (July–June, from sample dates), source_reporting_year
    (the export's own), event_type (one per report), first/last_sample_date, samples,
    parameters (distinct canonical names), results, duplicate_results.
    """
    order = "first_sample_date DESC NULLS LAST, report_id"
    return _facility_rows(
        cur, "facility_monitoring_reports", "facility_monitoring_reports", order, wdid, app_id
    )


def facility_options(cur: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """Distinct values for the filter widgets, each list sorted; keys are `OPTION_FIELDS`.

    Small (tens of values per key); callers cache it against the store's signature.
    """
    sql = "SELECT field, list(value ORDER BY value) AS options FROM filter_options GROUP BY field"
    frame = run_query(cur, "facility_options", sql)
    found = dict(zip(frame["field"].to_list(), frame["options"].to_list(), strict=True))
    return {field: found.get(field, []) for field in OPTION_FIELDS}
