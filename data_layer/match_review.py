"""What match review and a facility's eSMR tab need from the store, beside the score.

The decision store (`matching/`) says which SMARTS facility may be which eSMR place; a
reviewer also weighs each side's name, address, point and record counts, and reviews the
facilities with official violations or computed exceedances first (`QUEUE_ORDER`). Keys
arrive as lists and are bound as list parameters, never spliced into SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from data_layer.connection import rules_relation
from data_layer.monitoring import esmr_series
from data_layer.nal_table import DEFAULT_ND_RULE, NalTable, bind_rules, check_nd_rule
from data_layer.results import run_query

_KEY = ("wdid", "app_id", "facility_place_id")
#: How the review queue is ordered: facilities needing attention (official violations or
#: computed exceedances) first, then the highest score; the keys break ties.
QUEUE_ORDER: tuple[tuple[str, bool], ...] = (
    ("needs_attention", True),
    ("score", True),
    ("wdid", False),
    ("app_id", False),
    ("facility_place_id", False),
)

#: Score bands the queue can be narrowed to: name → (lowest, below) scores; None = open.
SCORE_BANDS: dict[str, tuple[float | None, float | None]] = {
    "0.9+": (0.9, None),
    "0.8-0.9": (0.8, 0.9),
    "0.7-0.8": (0.7, 0.8),
    "0.6-0.7": (0.6, 0.7),
    "below-0.6": (None, 0.6),
}

_SMARTS_SQL = """
WITH keys AS (
    SELECT DISTINCT unnest($1::VARCHAR[]) AS wdid, unnest($2::VARCHAR[]) AS app_id
),
facilities AS (
    SELECT wdid, app_id, display_name, operator, address, city, zip, county, region,
        permit_family, status, primary_sic,
        CASE WHEN coords_in_california THEN latitude END AS latitude,
        CASE WHEN coords_in_california THEN longitude END AS longitude,
        coalesce(NOT coords_in_california, false) AS coords_outside_california,
        violation_count, enforcement_count, inspection_count
    FROM facility_summary SEMI JOIN keys USING (wdid, app_id)
),
monitoring AS (
    SELECT wdid, app_id, count(DISTINCT report_id) AS monitoring_reports,
        count(*) AS monitoring_results
    FROM (
        SELECT wdid, app_id, report_id FROM stg_smarts__industrial_monitoring
        UNION ALL
        SELECT wdid, app_id, report_id FROM stg_smarts__construction_monitoring
    ) SEMI JOIN keys USING (wdid, app_id)
    GROUP BY ALL
),
exceedances AS (
    SELECT wdid, app_id, sum(computed_exceedances)::BIGINT AS computed_exceedances,
        count(*) AS exceedance_years, any_value(nal_version) AS nal_version
    FROM {gaps} SEMI JOIN keys USING (wdid, app_id)
    WHERE nd_rule = $3
    GROUP BY ALL
)
SELECT
    f.*,
    coalesce(m.monitoring_reports, 0) AS monitoring_reports,
    coalesce(m.monitoring_results, 0)::BIGINT AS monitoring_results,
    coalesce(x.computed_exceedances, 0) AS computed_exceedances,
    coalesce(x.exceedance_years, 0) AS exceedance_years,
    f.violation_count > 0 OR coalesce(x.computed_exceedances, 0) > 0 AS needs_attention,
    $3::VARCHAR AS nd_rule,
    x.nal_version,
FROM facilities AS f
LEFT JOIN monitoring AS m USING (wdid, app_id)
LEFT JOIN exceedances AS x USING (wdid, app_id)
ORDER BY f.wdid, f.app_id
"""


def smarts_facility_evidence(
    cur: duckdb.DuckDBPyConnection,
    keys: Sequence[tuple[str, str]],
    *,
    nd_rule: str = DEFAULT_ND_RULE,
    nal: NalTable | None = None,
) -> pl.DataFrame:
    """The SMARTS side of candidate pairs: where each facility is and what is on record.

    Grain: one row per (wdid, app_id) of `keys` found in the store. Columns: display_name,
    operator, address, city, zip, county, region, permit_family, status, primary_sic,
    latitude and longitude (null when outside California, as matching leaves them out) and
    coords_outside_california; violation_count, enforcement_count, inspection_count (official
    records), monitoring_reports and monitoring_results; computed_exceedances and
    exceedance_years (computed screening under `nd_rule` and `nal_version`, all years);
    needs_attention (any official violation or computed exceedance).
    """
    check_nd_rule(nd_rule)
    bind_rules(cur, nal)
    wdids = [str(w) for w, _a in keys]
    app_ids = [str(a) for _w, a in keys]
    sql = _SMARTS_SQL.format(gaps=rules_relation("facility_year_gaps", nal))
    return run_query(cur, "smarts_facility_evidence", sql, [wdids, app_ids, nd_rule])


def esmr_place_evidence(cur: duckdb.DuckDBPyConnection, place_ids: Sequence[str]) -> pl.DataFrame:
    """The eSMR side of candidate pairs: each place's name, point and what it reported.

    Grain: one row per facility_place_id of `place_ids` found in `esmr_samples`. Columns
    (`esmr_place_summary`): facility_name, region, latitude, longitude, receiving_water
    (as matching compares them: `match_esmr_facilities`), n_results, n_parameters,
    n_locations, n_reports, first_sampling_date, last_sampling_date.
    """
    sql = (
        "SELECT * FROM esmr_place_summary"
        " WHERE facility_place_id IN (SELECT unnest(?::VARCHAR[]))"
        " ORDER BY facility_place_id"
    )
    return run_query(cur, "esmr_place_evidence", sql, [[str(p) for p in place_ids]])


def esmr_place_parameters(cur: duckdb.DuckDBPyConnection, place_id: str) -> pl.DataFrame:
    """The parameters one eSMR place reported, one chart each, most results first.

    Grain: one row per (canonical parameter, units as reported): results in different
    units are never drawn on one axis. Columns: parameter, units, n_results, n_nd,
    first_sampling_date, last_sampling_date.
    """
    sql = (
        "SELECT parameter, units, count(*) AS n_results, count(*) FILTER (WHERE is_nd) AS n_nd,"
        " min(sampling_date) AS first_sampling_date, max(sampling_date) AS last_sampling_date"
        " FROM int_esmr_samples_converted_to_nal_units WHERE facility_place_id = ?"
        " GROUP BY ALL ORDER BY n_results DESC, parameter, units NULLS LAST"
    )
    return run_query(cur, "esmr_place_parameters", sql, [str(place_id)])


def esmr_place_series(
    cur: duckdb.DuckDBPyConnection, place_id: str, parameter: str, units: str | None
) -> pl.DataFrame:
    """One eSMR place's results for one parameter in one unit, shaped like a SMARTS series.

    Grain: one row per eSMR result, oldest first, values as reported (NPDES effluent data,
    never judged against the stormwater NALs here). Columns as `facility_series` draws
    them: sample_date, result, units, is_nd, reporting_limit (a non-detect's "<" value,
    else its RL, else its MDL), location, sample_id (eSMR has none: null), report_id
    (the SMR document), report_name, and null NAL limits.
    """
    series = esmr_series(cur, place_id, parameter).filter(pl.col("units").eq_missing(units))
    limit = pl.when(pl.col("is_nd")).then(pl.coalesce("result", "rl", "mdl")).otherwise("rl")
    return series.select(
        pl.col("sampling_date").alias("sample_date"),
        pl.when(pl.col("is_nd")).then(None).otherwise(pl.col("result")).alias("result"),
        "units",
        "is_nd",
        limit.alias("reporting_limit"),
        "location",
        pl.lit(None, pl.String).alias("sample_id"),
        pl.col("smr_document_id").alias("report_id"),
        "report_name",
        *(
            pl.lit(None, pl.Float64).alias(c)
            for c in ("annual_nal", "instantaneous_max_nal", "instantaneous_min_nal")
        ),
    )


def queue_by_priority(
    queue: pl.DataFrame,
    facilities: pl.DataFrame,
    later: Sequence[tuple[str, str, str]] = (),
) -> pl.DataFrame:
    """The review queue joined to its SMARTS facts and sorted by `QUEUE_ORDER`.

    `queue` has one row per pair (wdid, app_id, facility_place_id, score, ...);
    `facilities` is `smarts_facility_evidence` for its keys. A pair whose facility is not
    in the store keeps its place by score, with needs_attention false. Pairs in `later`
    (skipped by the reviewer) go to the end, in the same order among themselves.
    """
    facts = facilities.select(
        "wdid",
        "app_id",
        "region",
        "county",
        "violation_count",
        "computed_exceedances",
        "needs_attention",
    )
    joined = queue.join(facts, on=["wdid", "app_id"], how="left").with_columns(
        pl.col("needs_attention").fill_null(False)
    )
    columns, descending = zip(*QUEUE_ORDER, strict=True)
    skipped = pl.concat_str(_KEY, separator="|").is_in(["|".join(k) for k in later])
    return joined.sort([skipped, *columns], descending=[False, *descending], nulls_last=True)


def filter_queue(
    queue: pl.DataFrame,
    *,
    statuses: Sequence[str] = ("queued",),
    region: str | None = None,
    band: str | None = None,
) -> pl.DataFrame:
    """The pairs of `queue` in `statuses`, in `region` (of the SMARTS facility) and in score
    band `band` (a key of `SCORE_BANDS`); None means any. Order is kept."""
    keep = pl.col("status").is_in(list(statuses))
    if region is not None:
        keep &= pl.col("region") == region
    if band is not None:
        low, below = SCORE_BANDS[band]
        if low is not None:
            keep &= pl.col("score") >= low
        if below is not None:
            keep &= pl.col("score") < below
    return queue.filter(keep)
