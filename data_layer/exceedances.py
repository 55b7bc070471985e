"""Computed NAL exceedances of the Industrial General Permit (DESIGN §6, docs/EXCEEDANCE_RULES.md).

These are screening figures this product calculates, never official records: every
frame carries `nd_rule` (what a non-detect counted as) and `nal_version` (the NAL table
used), and the rules are applied by the SQL models `exceedances_*` and
`facility_year_gaps`. Each function binds the NAL table to its cursor first
(`nal_table.bind_rules`), so a caller may pass another `NalTable` to reproduce a figure.
Without one, the statewide queries read the marts' in-memory copies computed with the
shipped table (`connection.rules_relation`): the same rows, computed once per version.
"""

from __future__ import annotations

import duckdb
import polars as pl

from data_layer.connection import rules_relation
from data_layer.filters import Where, order_by, page_bounds
from data_layer.nal_table import DEFAULT_ND_RULE, NalTable, bind_rules, check_nd_rule
from data_layer.parameters import canonical_parameter
from data_layer.results import Page, paged, run_query

FILTERABLE = frozenset(
    {"reporting_year", "partition_year", "parameter", "region", "nd_rule", "wdid", "app_id"}
)
ANNUAL_SORTABLE = (
    "ratio_to_nal",
    "average",
    "n_samples",
    "n_nd",
    "parameter",
    "region",
    "wdid",
)
INSTANTANEOUS_SORTABLE = ("n_above", "max_value", "n_samples", "parameter", "region", "wdid")


def _prepare(cur: duckdb.DuckDBPyConnection, nd_rule: str, nal: NalTable | None) -> None:
    check_nd_rule(nd_rule)
    bind_rules(cur, nal)


def _parameter(parameter: str | None) -> str | None:
    return canonical_parameter(parameter) if parameter else None


def _year_where(
    year: int,
    parameter: str | None,
    region: str | list[str] | None,
    nd_rule: str,
    exceeding_only: bool,
) -> Where:
    """The filters both statewide one-year tables take."""
    where = (
        Where(FILTERABLE)
        .equals("reporting_year", int(year))
        .equals("partition_year", int(year))
        .equals("parameter", _parameter(parameter))
        .equals("region", region)
        .equals("nd_rule", nd_rule)
    )
    if exceeding_only:
        where.clauses.append("exceeds")
    return where


def exceedances_annual(
    cur: duckdb.DuckDBPyConnection,
    *,
    year: int,
    parameter: str | None = None,
    region: str | list[str] | None = None,
    nd_rule: str = DEFAULT_ND_RULE,
    exceeding_only: bool = False,
    sort: str = "ratio_to_nal",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
    nal: NalTable | None = None,
) -> Page:
    """Annual-average NAL comparisons of all industrial facilities for one reporting year.

    Grain: one row per (wdid, app_id, parameter, reporting_year) for parameters with an
    annual NAL (pH has none). Columns: region, n_samples (comparable results, non-detects
    included), n_nd, n_used (results in the average under `nd_rule`), n_uninformative_nd,
    n_unit_excluded (unmapped units, left out), average and annual_nal in `units` (the
    NAL's unit, mg/L), ratio_to_nal, exceeds, nd_rule, nal_version, basis='computed'.
    `year` is the July–June reporting year labelled by its start (2019 = 2019-07-01..2020-06-30).
    """
    _prepare(cur, nd_rule, nal)
    where = _year_where(year, parameter, region, nd_rule, exceeding_only)
    limit, offset = page_bounds(limit, offset)
    order = order_by(sort, descending, ANNUAL_SORTABLE, ("wdid", "app_id", "parameter"))
    sql = f"SELECT * FROM {rules_relation('exceedances_annual', nal)} WHERE {where.sql()}"
    return paged(
        cur, "exceedances_annual", sql, where.params, limit, offset, order=order, materialize=True
    )


def exceedances_instantaneous(
    cur: duckdb.DuckDBPyConnection,
    *,
    year: int,
    parameter: str | None = None,
    region: str | list[str] | None = None,
    nd_rule: str = DEFAULT_ND_RULE,
    exceeding_only: bool = False,
    sort: str = "n_above",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
    nal: NalTable | None = None,
) -> Page:
    """Instantaneous NAL comparisons (TSS, oil and grease, pH) of all facilities for one year.

    Grain: one row per (wdid, app_id, parameter, reporting_year). Columns: n_samples,
    n_nd, n_unit_excluded, n_above (results above the maximum or outside the pH range),
    above_sample_ids and above_dates, min_value / max_value in `units`, the limits,
    exceeds (two or more above), exceedance_date (the second), nd_rule, nal_version.
    A non-detect is never above a maximum, so the rule does not change these rows.
    """
    _prepare(cur, nd_rule, nal)
    where = _year_where(year, parameter, region, nd_rule, exceeding_only)
    limit, offset = page_bounds(limit, offset)
    order = order_by(sort, descending, INSTANTANEOUS_SORTABLE, ("wdid", "app_id", "parameter"))
    sql = f"SELECT * FROM exceedances_instantaneous WHERE {where.sql()}"
    return paged(
        cur,
        "exceedances_instantaneous",
        sql,
        where.params,
        limit,
        offset,
        order=order,
        materialize=True,
    )


def exceedance_summary(
    cur: duckdb.DuckDBPyConnection,
    *,
    parameter: str,
    year: int,
    nd_rule: str = DEFAULT_ND_RULE,
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """Statewide picture of one parameter in one reporting year, by Regional Board.

    Grain: one row per region. Columns: facilities_sampled, facilities_exceeding_annual,
    facilities_exceeding_instantaneous, facilities_exceeding (either), share_exceeding
    (0..1 of those sampled), nd_rule, nal_version, basis='computed'.
    """
    _prepare(cur, nd_rule, nal)
    sql = (
        f"SELECT * FROM {rules_relation('exceedance_summary_by_region', nal)}"
        " WHERE parameter = ? AND reporting_year = ? AND partition_year = ? AND nd_rule = ?"
        " ORDER BY region NULLS LAST"
    )
    params = [_parameter(parameter), int(year), int(year), nd_rule]
    return run_query(cur, "exceedance_summary", sql, params)


def facility_annual_averages(
    cur: duckdb.DuckDBPyConnection,
    wdid: str,
    app_id: str,
    nd_rule: str = DEFAULT_ND_RULE,
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """One facility's annual averages against the annual NALs, every parameter and year.

    Grain and columns as `exceedances_annual`, ordered by parameter then reporting_year.
    """
    _prepare(cur, nd_rule, nal)
    sql = (
        "SELECT * FROM exceedances_annual WHERE wdid = ? AND app_id = ? AND nd_rule = ?"
        " ORDER BY parameter, reporting_year"
    )
    return run_query(cur, "facility_annual_averages", sql, [wdid, app_id, nd_rule])


def exceedance_events(
    cur: duckdb.DuckDBPyConnection,
    wdid: str,
    app_id: str,
    nd_rule: str = DEFAULT_ND_RULE,
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """One facility's computed NAL exceedances as compliance-timeline events, oldest first.

    Grain: one row per exceedance. Columns: event_date (July 1 after the reporting year
    for an annual exceedance; the date of the second result above the limit for an
    instantaneous one), kind='exceedance', title, detail (values, limits, ND rule, NAL
    table), source_dataset='industrial_monitoring', source_id (`wdid|parameter|year`, or
    the sample ids above the limit), official=False, then nd_rule and nal_version.
    """
    _prepare(cur, nd_rule, nal)
    sql = (
        "SELECT event_date, kind, title, detail, source_dataset, source_id, official,"
        " nd_rule, nal_version FROM exceedance_events"
        " WHERE wdid = ? AND app_id = ? AND nd_rule = ? ORDER BY event_date, source_id"
    )
    return run_query(cur, "exceedance_events", sql, [wdid, app_id, nd_rule])


def era_levels(
    cur: duckdb.DuckDBPyConnection,
    wdid: str,
    app_id: str,
    nd_rule: str = DEFAULT_ND_RULE,
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """One facility's computed Exceedance Response Action trajectory, per parameter.

    Grain: one row per (parameter, level entered). Columns: parameter, reporting_year (the
    year whose exceedance triggered it), level (1 or 2), reason, effective_date (July 1
    after that year), nd_rule, nal_version. Level 1 follows the first reporting year with
    an annual or instantaneous exceedance; Level 2 the next such year of the same parameter.
    """
    _prepare(cur, nd_rule, nal)
    sql = (
        "SELECT parameter, reporting_year, level, reason, effective_date, nd_rule, nal_version"
        " FROM exceedances_era_levels WHERE wdid = ? AND app_id = ? AND nd_rule = ?"
        " ORDER BY parameter, level"
    )
    return run_query(cur, "era_levels", sql, [wdid, app_id, nd_rule])


def facility_year_gaps(
    cur: duckdb.DuckDBPyConnection,
    *,
    year: int | None = None,
    region: str | list[str] | None = None,
    nd_rule: str = DEFAULT_ND_RULE,
    limit: int = 50,
    offset: int = 0,
    nal: NalTable | None = None,
) -> Page:
    """Facility-years with computed exceedances beside the official response, gaps first.

    Grain: one row per (wdid, app_id, reporting_year) with at least one computed
    exceedance. Columns: facility_name, region, annual_exceedances,
    instantaneous_exceedances, computed_exceedances, parameters_exceeded,
    exceedance_years_to_date, official_violations and official_enforcement_actions (by
    occurrence / issuance date in the same July–June year), no_official_response, gap_rank,
    nd_rule, nal_version. Ranked: no official response first, then the most years with
    exceedances so far, the most exceedances that year, the latest year.
    """
    _prepare(cur, nd_rule, nal)
    where = (
        Where(FILTERABLE)
        .equals("reporting_year", None if year is None else int(year))
        .equals("region", region)
        .equals("nd_rule", nd_rule)
    )
    limit, offset = page_bounds(limit, offset)
    ranking = (
        "no_official_response DESC, exceedance_years_to_date DESC, computed_exceedances DESC,"
        " reporting_year DESC, wdid, app_id"
    )
    sql = (
        f"SELECT *, row_number() OVER (ORDER BY {ranking}) AS gap_rank"
        f" FROM {rules_relation('facility_year_gaps', nal)} WHERE {where.sql()}"
    )
    return paged(
        cur,
        "facility_year_gaps",
        sql,
        where.params,
        limit,
        offset,
        order="gap_rank",
        materialize=True,
    )
