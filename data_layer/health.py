"""Figures for the Data health page: nulls, refresh and nightly history, rejects, coordinates,
and the match rate.

The fields whose emptiness matters are listed here as data, per dataset: keys and
the facility link, the dates that place a record in time, coordinates, and for
monitoring the result and its units. Refresh figures come from the run log the
loaders append to; table figures from the staging views over the current versions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import duckdb
import polars as pl

from data_layer.connection import staging_view
from data_layer.datasets import dataset
from data_layer.identifiers import ident, literal, literal_list
from data_layer.results import run_query
from data_layer.status import read_runs
from data_layer.store import Store

#: Per dataset, the fields a record is hard to use without (store column names).
CRITICAL_FIELDS: dict[str, tuple[str, ...]] = {
    "industrial_facilities": (
        "wdid",
        "app_id",
        "noi_processed_date",
        "facility_latitude",
        "facility_longitude",
    ),
    "construction_facilities": (
        "wdid",
        "app_id",
        "noi_processed_date",
        "site_latitude",
        "site_longitude",
    ),
    "violations": ("violation_id", "wdid", "occurrence_date", "place_latitude", "place_longitude"),
    "enforcement_actions": (
        "enforcement_id",
        "wdid",
        "issuance_date",
        "place_latitude",
        "place_longitude",
    ),
    "inspections": (
        "inspection_id",
        "wdid",
        "inspection_date",
        "place_latitude",
        "place_longitude",
    ),
    "industrial_monitoring": (
        "report_id",
        "sample_id",
        "parameter",
        "wdid",
        "sample_date",
        "result",
        "units",
    ),
    "construction_monitoring": (
        "report_id",
        "sample_id",
        "parameter",
        "wdid",
        "sample_date",
        "result",
        "units",
    ),
    "esmr_samples": (
        "facility_place_id",
        "parameter",
        "sampling_date",
        "result",
        "units",
        "latitude",
        "longitude",
    ),
}

#: What `match_rate` says until facility matching has run.
MATCH_RATE_UNAVAILABLE = "not available until matching runs"

#: The SMARTS facilities the match rate counts (`int_facilities_unified.permit_family`).
MATCHED_PERMIT_FAMILY = "Industrial"

_NIGHTLY_SCHEMA = {
    "run_id": pl.String,
    "started": pl.Datetime("us", "UTC"),
    "host": pl.String,
    "step": pl.String,
    "outcome": pl.String,
    "code": pl.Int64,
    "seconds": pl.Float64,
    "summary": pl.String,
    "error": pl.String,
}

#: Run-log outcomes that count as a successful refresh of a dataset.
SUCCESS_OUTCOMES: frozenset[str] = frozenset({"published", "unchanged"})

_HISTORY_SCHEMA = {
    "run_id": pl.String,
    "finished_at": pl.Datetime("us", "UTC"),
    "dataset": pl.String,
    "outcome": pl.String,
    "version": pl.String,
    "duration_s": pl.Float64,
    "bytes": pl.Int64,
    "rows_in": pl.Int64,
    "rows_out": pl.Int64,
    "rejects": pl.Int64,
    "error": pl.String,
}


def null_shares(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Share of nulls in each dataset's critical fields, over the current versions.

    Grain: one row per (dataset, field) of CRITICAL_FIELDS. Columns: dataset, field,
    rows, nulls, null_share (0–1; null when the dataset has no rows).
    """
    parts = []
    for name, fields in CRITICAL_FIELDS.items():
        view = ident(staging_view(dataset(name)))
        nulls = ", ".join(f"count(*) - count({ident(f)})" for f in fields)
        parts.append(
            f"SELECT {literal(name)} AS dataset, {literal_list(fields)} AS fields,"
            f" count(*) AS n, [{nulls}] AS nulls FROM {view}"
        )
    sql = (
        "SELECT dataset, unnest(fields) AS field, n AS rows, unnest(nulls) AS nulls"
        f" FROM ({' UNION ALL '.join(parts)})"
    )
    frame = run_query(cur, "null_shares", sql)
    return frame.with_columns(
        pl.when(pl.col("rows") > 0)
        .then(pl.col("nulls") / pl.col("rows"))
        .otherwise(None)
        .alias("null_share")
    )


def _parse_time(text: Any) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _history_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {k: record.get(k) for k in _HISTORY_SCHEMA}
    row["finished_at"] = _parse_time(record.get("finished_at"))
    return row


def _frame(records: Iterable[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([_history_row(r) for r in records], schema=_HISTORY_SCHEMA)


def refresh_history(store: Store, limit: int = 200) -> pl.DataFrame:
    """The most recent refreshes from the run log, newest first.

    Grain: one row per dataset per refresh run. Columns: run_id, finished_at (UTC),
    dataset, outcome ('published', 'unchanged' or 'failed'), version, duration_s,
    bytes, rows_in, rows_out, rejects, error.
    """
    runs = list(read_runs(store.runlog_path))
    return _frame(reversed(runs[-limit:] if limit > 0 else []))


def refresh_success_rate(
    store: Store, days: int = 90, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """How often refreshes succeeded over the last `days` days.

    A dataset's refresh succeeds when it publishes or finds its source unchanged.
    Returns: days, since (UTC), attempts (dataset refreshes), succeeded, failed,
    rate (succeeded / attempts, None without attempts), runs (refresh runs),
    runs_with_failure, and by_dataset ({dataset: rate}).
    """
    since = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    recent = [
        r
        for r in read_runs(store.runlog_path)
        if (t := _parse_time(r.get("finished_at"))) is not None and t >= since
    ]
    ok = [r for r in recent if r.get("outcome") in SUCCESS_OUTCOMES]
    runs = {r.get("run_id") for r in recent}
    failed_runs = {r.get("run_id") for r in recent if r.get("outcome") not in SUCCESS_OUTCOMES}
    per: dict[str, list[bool]] = {}
    for r in recent:
        per.setdefault(r.get("dataset", ""), []).append(r.get("outcome") in SUCCESS_OUTCOMES)
    return {
        "days": days,
        "since": since,
        "attempts": len(recent),
        "succeeded": len(ok),
        "failed": len(recent) - len(ok),
        "rate": len(ok) / len(recent) if recent else None,
        "runs": len(runs),
        "runs_with_failure": len(failed_runs),
        "by_dataset": {name: sum(v) / len(v) for name, v in per.items()},
    }


def rejects_by_refresh(store: Store) -> pl.DataFrame:
    """Rows rejected by each refresh that read its source, oldest first.

    Grain: one row per dataset per refresh run, leaving out runs that found the
    source unchanged. Columns: run_id, finished_at (UTC), dataset, outcome, version,
    rows_in, rejects, reject_share (rejects / rows_in; null when no rows were read,
    as for a run that failed before converting).
    """
    runs = [r for r in read_runs(store.runlog_path) if r.get("outcome") != "unchanged"]
    return _frame(runs).select(
        "run_id",
        "finished_at",
        "dataset",
        "outcome",
        "version",
        "rows_in",
        "rejects",
        pl.when(pl.col("rows_in") > 0)
        .then(pl.col("rejects") / pl.col("rows_in"))
        .otherwise(None)
        .alias("reject_share"),
    )


def facilities_with_coordinates(cur: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """How many facilities (industrial and construction applications) carry coordinates.

    Returns: facilities, with_coordinates (latitude and longitude both present),
    share (with_coordinates / facilities, None without facilities), and
    outside_california (with coordinates that fall outside the state's bounding box).
    """
    row = run_query(
        cur,
        "facilities_with_coordinates",
        "SELECT count(*) AS facilities,"
        " count(*) FILTER (WHERE latitude IS NOT NULL AND longitude IS NOT NULL)"
        " AS with_coordinates,"
        " count(*) FILTER (WHERE latitude IS NOT NULL AND longitude IS NOT NULL"
        " AND NOT coalesce(coords_in_california, false)) AS outside_california"
        " FROM int_facilities_unified",
    ).row(0, named=True)
    total, located = int(row["facilities"]), int(row["with_coordinates"])
    return {
        "facilities": total,
        "with_coordinates": located,
        "share": located / total if total else None,
        "outside_california": int(row["outside_california"]),
    }


def match_rate(
    cur: duckdb.DuckDBPyConnection | None = None, links: pl.DataFrame | None = None
) -> dict[str, Any]:
    """Share of SMARTS industrial facilities linked to an eSMR place, and the review backlog.

    `links` is the current link set (matching's LINK_SCHEMA: wdid, app_id, facility_place_id,
    status, ...); None or empty means matching has not run. Returns: rate (matched /
    facilities, None without facilities or links), matched (industrial facilities with a
    `linked` place), facilities (industrial facilities in the store), queued (pairs awaiting
    review), queued_facilities, and note (MATCH_RATE_UNAVAILABLE until matching has run).
    """
    if cur is None or links is None or links.is_empty():
        return {
            "rate": None,
            "matched": None,
            "facilities": None,
            "queued": None,
            "queued_facilities": None,
            "note": MATCH_RATE_UNAVAILABLE,
        }
    keys = ["wdid", "app_id"]
    facilities = run_query(
        cur,
        "match_rate_facilities",
        "SELECT DISTINCT wdid, app_id FROM int_facilities_unified WHERE permit_family = ?",
        [MATCHED_PERMIT_FAMILY],
    )
    linked = links.filter(pl.col("status") == "linked").select(keys).unique()
    queued = links.filter(pl.col("status") == "queued")
    matched = facilities.join(linked, on=keys, how="semi").height
    return {
        "rate": matched / facilities.height if facilities.height else None,
        "matched": matched,
        "facilities": facilities.height,
        "queued": queued.height,
        "queued_facilities": queued.select(keys).unique().height,
        "note": None,
    }


def nightly_history(store: Store, limit: int = 60) -> pl.DataFrame:
    """The most recent steps of nightly runs, newest first.

    Grain: one row per step per nightly run. Columns: run_id, started (UTC), host, step
    ('refresh', 'match', 'sync' or 'lock'), outcome ('updated', 'nothing_changed',
    'partly_failed', 'failed', 'locked' or 'skipped'), code (exit code; null when skipped),
    seconds, summary, error.
    """
    runs = list(read_runs(store.nightly_log_path))
    rows = [
        {k: r.get(k) for k in _NIGHTLY_SCHEMA} | {"started": _parse_time(r.get("started"))}
        for r in reversed(runs[-limit:] if limit > 0 else [])
    ]
    return pl.DataFrame(rows, schema=_NIGHTLY_SCHEMA)
