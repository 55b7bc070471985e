"""Monitoring results for charts: one facility's series, statewide summaries, distributions.

SMARTS results (industrial and construction) come unit-converted: to the NAL's unit
where the permit sets one (mg/L, SU), else to mg/L for concentrations, else as
reported; results in an unmapped unit are kept, marked `unit_status`, and never
converted. eSMR results are NPDES effluent data: `esmr_series` returns them plainly
and adds the stormwater NALs only when asked with `compare_to_nal=True`.
"""

from __future__ import annotations

import duckdb
import polars as pl

from data_layer.connection import rules_relation
from data_layer.nal_table import DEFAULT_ND_RULE, NalTable, bind_rules, check_nd_rule
from data_layer.parameters import canonical_parameter
from data_layer.results import run_query

MONITORING_DATASETS = ("industrial_monitoring", "construction_monitoring")
MAX_BINS = 200

_SERIES_COLUMNS = """
    sample_date, reporting_year, parameter, parameter_reported,
    value AS result, value_units AS units,
    result AS original_result, units AS original_units, result_qualifier,
    is_nd, nd_limit AS reporting_limit, substituted_value, nd_rule,
    unit_status, above_instantaneous_nal, uninformative_nd,
    location, sample_id, report_id, source_dataset,
    annual_nal, instantaneous_max_nal, instantaneous_min_nal, nal_version
"""


def _dataset(source_dataset: str) -> str:
    if source_dataset not in MONITORING_DATASETS:
        raise ValueError(f"unknown monitoring dataset {source_dataset!r}")
    return source_dataset


def facility_series(
    cur: duckdb.DuckDBPyConnection,
    wdid: str,
    app_id: str,
    parameter: str,
    *,
    nd_rule: str = DEFAULT_ND_RULE,
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """One facility's results for one parameter (any spelling), oldest first.

    Grain: one row per result (industrial or construction monitoring). Columns:
    sample_date, reporting_year, result and units (converted: the NAL's unit where there
    is one; null for a non-detect or an unmapped unit), original_result and
    original_units (as reported), result_qualifier, is_nd, reporting_limit (RL, else
    MDL, in `units`), substituted_value (what the result counts as under `nd_rule`),
    unit_status, above_instantaneous_nal, uninformative_nd, location, sample_id,
    report_id, source_dataset, the NAL limits and nal_version.
    """
    check_nd_rule(nd_rule)
    bind_rules(cur, nal)
    sql = (
        f"SELECT {_SERIES_COLUMNS} FROM int_samples_substituted_by_nd_rule"
        " WHERE wdid = ? AND app_id = ? AND parameter = ? AND nd_rule = ?"
        " ORDER BY sample_date, sample_id, report_id"
    )
    params = [wdid, app_id, canonical_parameter(parameter), nd_rule]
    return run_query(cur, "facility_series", sql, params)


def facility_parameters(
    cur: duckdb.DuckDBPyConnection, wdid: str, app_id: str, nal: NalTable | None = None
) -> pl.DataFrame:
    """The parameters a facility reported, most results first.

    Grain: one row per (source_dataset, canonical parameter). Columns: n_results, n_nd,
    n_unit_excluded, n_above_instantaneous_nal, first_sample_date, last_sample_date,
    units (converted unit), spellings (as reported), has_nal, the NAL limits, nal_version.
    """
    bind_rules(cur, nal)
    sql = (
        "SELECT * EXCLUDE (wdid, app_id) FROM monitoring_facility_parameters"
        " WHERE wdid = ? AND app_id = ? ORDER BY n_results DESC, parameter"
    )
    return run_query(cur, "facility_parameters", sql, [wdid, app_id])


def statewide_summary(
    cur: duckdb.DuckDBPyConnection,
    *,
    parameter: str,
    year_from: int,
    year_to: int,
    region: str | None = None,
    nd_rule: str = DEFAULT_ND_RULE,
    source_dataset: str = "industrial_monitoring",
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """One parameter across the state, by region and reporting year.

    Grain: one row per (region, reporting_year). Columns: n_samples (results counted
    under `nd_rule`), n_nd, n_unit_excluded, n_facilities, median and p90 (in `units`,
    the NAL's unit), share_above_annual_nal and share_above_instantaneous_nal (0..1 of
    the results counted; null where the permit sets no such NAL), nd_rule, nal_version.
    """
    check_nd_rule(nd_rule)
    bind_rules(cur, nal)
    sql = (
        f"SELECT * FROM {rules_relation('monitoring_statewide_summary', nal)}"
        " WHERE source_dataset = ? AND parameter = ? AND nd_rule = ?"
        " AND reporting_year BETWEEN ? AND ? AND partition_year BETWEEN ? AND ?"
        " AND (?::VARCHAR IS NULL OR region = ?)"
        " ORDER BY region NULLS LAST, reporting_year"
    )
    params = [
        _dataset(source_dataset),
        canonical_parameter(parameter),
        nd_rule,
        int(year_from),
        int(year_to),
        int(year_from),
        int(year_to),
        region,
        region,
    ]
    return run_query(cur, "statewide_summary", sql, params)


_DISTRIBUTION_SQL = """
WITH v AS (
    SELECT substituted_value AS x, quantity, value_units
    FROM int_samples_substituted_by_nd_rule
    WHERE source_dataset = $1 AND parameter = $2 AND reporting_year = $3 AND partition_year = $3
      AND nd_rule = $4 AND date_plausible AND substituted_value IS NOT NULL
      AND ($5::VARCHAR IS NULL OR region = $5)
),
scale AS (
    SELECT
        CASE WHEN bool_and(quantity = 'concentration') AND min(x) > 0 THEN 'log'
             ELSE 'linear' END AS scale,
        any_value(value_units) AS units,
        count(*) AS n_total
    FROM v
),
t AS (
    SELECT CASE WHEN s.scale = 'log' THEN log10(v.x) ELSE v.x END AS t, s.scale, s.units
    FROM v, scale AS s
),
bounds AS (
    SELECT min(t) AS lo, max(t) AS hi, any_value(scale) AS scale, any_value(units) AS units
    FROM t
),
binned AS (
    SELECT
        CASE WHEN b.hi = b.lo THEN 0
             ELSE least(floor((t.t - b.lo) / (b.hi - b.lo) * $6)::INTEGER, $6 - 1) END
            AS bin,
        count(*) AS n
    FROM t, bounds AS b
    GROUP BY ALL
),
edges AS (
    SELECT
        r.range::INTEGER AS bin,
        b.lo + (b.hi - b.lo) * r.range / $6 AS t_low,
        b.lo + (b.hi - b.lo) * (r.range + 1) / $6 AS t_high,
        b.scale, b.units
    FROM bounds AS b, range($6) AS r
    WHERE b.lo IS NOT NULL
)
SELECT
    e.bin,
    CASE WHEN e.scale = 'log' THEN pow(10, e.t_low) ELSE e.t_low END AS bin_low,
    CASE WHEN e.scale = 'log' THEN pow(10, e.t_high) ELSE e.t_high END AS bin_high,
    coalesce(b.n, 0) AS n,
    e.scale, e.units, $4 AS nd_rule
FROM edges AS e
LEFT JOIN binned AS b USING (bin)
ORDER BY e.bin
"""


def distribution(
    cur: duckdb.DuckDBPyConnection,
    *,
    parameter: str,
    year: int,
    region: str | None = None,
    bins: int = 30,
    nd_rule: str = DEFAULT_ND_RULE,
    source_dataset: str = "industrial_monitoring",
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """Histogram of one parameter's results in one reporting year (statewide or one region).

    Grain: one row per bin, `bins` equal-width bins (1..200) over the values counted
    under `nd_rule`, on a log10 scale for concentrations when all are positive, else
    linear. Columns: bin, bin_low, bin_high (in `units`), n, scale ('log' | 'linear'),
    units, nd_rule. Empty when there are no values.
    """
    check_nd_rule(nd_rule)
    bind_rules(cur, nal)
    params = [
        _dataset(source_dataset),
        canonical_parameter(parameter),
        int(year),
        nd_rule,
        region,
        max(1, min(int(bins), MAX_BINS)),
    ]
    return run_query(cur, "distribution", _DISTRIBUTION_SQL, params)


def esmr_series(
    cur: duckdb.DuckDBPyConnection,
    facility_place_id: str,
    parameter: str,
    *,
    compare_to_nal: bool = False,
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """One eSMR facility's results for one parameter (any spelling), oldest first, as reported.

    Grain: one row per eSMR result. Columns: sampling_date, parameter, parameter_reported,
    result, units, qualifier, is_nd, mdl, rl, location, smr_document_id and report_name
    (the self-monitoring report it came in). NPDES effluent data is not judged
    against stormwater NALs: only with `compare_to_nal=True` are value_in_nal_units,
    nal_units, the NAL limits, nal_version and a `nal_comparison` label added.
    """
    columns = (
        "sampling_date, parameter, parameter_reported, result, units, qualifier, is_nd,"
        " mdl, rl, location, smr_document_id, report_name"
    )
    if compare_to_nal:
        bind_rules(cur, nal)
        columns += (
            ", value_in_nal_units, nal_units, annual_nal, instantaneous_max_nal,"
            " instantaneous_min_nal, nal_version,"
            " 'opt-in screening: stormwater IGP NALs applied to NPDES effluent results'"
            " AS nal_comparison"
        )
    sql = (
        f"SELECT {columns} FROM int_esmr_samples_converted_to_nal_units"
        " WHERE facility_place_id = ? AND (parameter = ? OR parameter_reported = ?)"
        " ORDER BY sampling_date, location"
    )
    name = canonical_parameter(parameter)
    return run_query(cur, "esmr_series", sql, [facility_place_id, name, parameter])
