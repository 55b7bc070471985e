"""Data-quality flags on monitoring results and a completeness figure per facility (DESIGN §6).

Per result (model `quality_sample_flags`): impossible values (pH outside 0–14, a
negative concentration), impossible dates (before 1990 or after today), duplicate
samples (two differing rows with one key, both kept by the loader), monitoring
coordinates outside California, unmapped units, and uninformative non-detects (a
reporting limit above the NAL). Per facility (`quality_facility_rollup`): the counts, the
share of results with no flag, whether the facility has coordinates inside California,
and completeness = the mean of those two parts (0..1).
"""

from __future__ import annotations

import duckdb
import polars as pl

from data_layer.connection import rules_relation
from data_layer.nal_table import NalTable, bind_rules
from data_layer.results import run_query

FLAGS: tuple[str, ...] = (
    "impossible_value",
    "impossible_date",
    "duplicate_sample",
    "coordinates_outside_california",
    "unmapped_unit",
    "uninformative_nd",
)


def sample_quality_flags(
    cur: duckdb.DuckDBPyConnection,
    wdid: str,
    app_id: str,
    *,
    flagged_only: bool = True,
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """One facility's monitoring results with their quality flags, oldest first.

    Grain: one row per result (flagged ones only by default). Columns: source_dataset,
    report_id, sample_id, sample_date, parameter, result and units as reported, location,
    latitude, longitude, one boolean `flag_<name>` per flag in FLAGS, flags (the names
    raised) and flagged.
    """
    bind_rules(cur, nal)
    sql = (
        "SELECT * FROM quality_sample_flags WHERE wdid = ? AND app_id = ?"
        " AND (flagged OR NOT ?) ORDER BY sample_date, sample_id, parameter"
    )
    return run_query(cur, "sample_quality_flags", sql, [wdid, app_id, bool(flagged_only)])


def facility_quality(
    cur: duckdb.DuckDBPyConnection, wdid: str, app_id: str, nal: NalTable | None = None
) -> pl.DataFrame:
    """One facility's data-quality rollup: a single row, or none if it has no results.

    Columns: wdid, app_id, facility_name, region, n_samples, n_flagged, `n_<flag>` for
    each flag in FLAGS, share_clean (0..1 of results with no flag), has_coordinates
    (facility coordinates inside California) and completeness (the mean of share_clean
    and has_coordinates, 0..1).
    """
    bind_rules(cur, nal)
    sql = "SELECT * FROM quality_facility_rollup WHERE wdid = ? AND app_id = ?"
    return run_query(cur, "facility_quality", sql, [wdid, app_id])


def quality_flags_summary(
    cur: duckdb.DuckDBPyConnection, nal: NalTable | None = None
) -> pl.DataFrame:
    """How often each quality flag is raised, per monitoring dataset.

    Grain: one row per (source_dataset, flag), flag in FLAGS plus `any_flag`. Columns:
    n_flagged, n_samples (all results of the dataset), share (0..1).
    """
    bind_rules(cur, nal)
    relation = rules_relation("quality_flags_summary", nal)
    sql = f"SELECT * FROM {relation} ORDER BY source_dataset, flag"
    return run_query(cur, "quality_flags_summary", sql)
