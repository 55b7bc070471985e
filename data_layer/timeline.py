"""A facility's compliance timeline: official records and computed exceedances on one time axis.

Official events (inspections, violations, enforcement actions) come from the
`facility_timeline` mart; computed NAL exceedance events, when given, are added beside them
and stay labelled `official = False` (DESIGN §6 keeps the two layers apart).
"""

from __future__ import annotations

import duckdb
import polars as pl

from data_layer.identifiers import ident
from data_layer.results import run_query

#: Columns of every timeline frame, in order, with their types.
TIMELINE_SCHEMA: dict[str, pl.DataType] = {
    "event_date": pl.Date(),
    "kind": pl.String(),
    "title": pl.String(),
    "detail": pl.String(),
    "source_dataset": pl.String(),
    "source_id": pl.String(),
    "official": pl.Boolean(),
}

#: Order of kinds on the same day: what was measured, what staff saw, found, then did.
KIND_ORDER = ("exceedance", "inspection", "violation", "enforcement")


def compliance_timeline(
    cur: duckdb.DuckDBPyConnection,
    wdid: str,
    app_id: str,
    exceedances: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One facility's compliance events, oldest first (undated events last).

    Grain: one row per event: event_date, kind ('inspection' | 'violation' |
    'enforcement' | 'exceedance'), title, detail, source_dataset, source_id (the row id
    in that dataset) and official (True for SMARTS records). `exceedances`, if given,
    holds this facility's computed exceedance events in the same columns.
    """
    columns = ", ".join(ident(c) for c in TIMELINE_SCHEMA)
    sql = f"SELECT {columns} FROM facility_timeline WHERE wdid = ? AND app_id = ?"
    events = run_query(cur, "compliance_timeline", sql, [wdid, app_id])
    frames = [events.cast(TIMELINE_SCHEMA)]
    if exceedances is not None and exceedances.height:
        missing = set(TIMELINE_SCHEMA) - set(exceedances.columns)
        if missing:
            raise ValueError(f"exceedance events lack columns: {', '.join(sorted(missing))}")
        frames.append(exceedances.select(list(TIMELINE_SCHEMA)).cast(TIMELINE_SCHEMA))
    timeline = pl.concat(frames)
    rank = pl.col("kind").replace_strict(KIND_ORDER, range(len(KIND_ORDER)), default=None)
    return timeline.sort(
        [pl.col("event_date"), rank, pl.col("source_id")], nulls_last=True, maintain_order=True
    )


def facility_timeline(
    cur: duckdb.DuckDBPyConnection, wdid: str, app_id: str, nd_rule: str | None = None
) -> pl.DataFrame:
    """One facility's official events and its computed NAL exceedances, oldest first.

    Grain and columns as `compliance_timeline`; exceedance events (official False) come
    from `data_layer.exceedances.exceedance_events` under `nd_rule` (None: the default
    non-detect rule of `data_layer.nal_table`), their detail naming the rule and NAL table.
    """
    from data_layer.exceedances import exceedance_events
    from data_layer.nal_table import DEFAULT_ND_RULE

    events = exceedance_events(cur, wdid, app_id, nd_rule=nd_rule or DEFAULT_ND_RULE)
    return compliance_timeline(cur, wdid, app_id, exceedances=events)
