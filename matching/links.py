"""The current link set: scored pairs read together with the decisions in force.

Nothing here is stored; every call derives the set afresh from the pairs and the
append-only history, so it always agrees with the audit trail:

- a human accept → `manual` / `linked`; a human reject → `manual` / `rejected`, whatever
  the latest score, and even after the pair stopped being a candidate;
- no human decision: a candidate in the auto band → `auto` / `linked`, in the review
  band → `auto` / `queued`; a former candidate without a decision is not in the set.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from sqlalchemy import ColumnElement, Connection, Engine, select

from matching.contract import LINK_SCHEMA, PAIR_SCHEMA
from matching.history import decisions_in_force, facility_rows, read_decisions
from matching.state import BAND_AUTO, PAIR_KEY, decisions, rows_frame, scored_pairs

#: A scored pair as stored: its latest score, parts and names, band and candidacy.
STORED_PAIR_SCHEMA: dict[str, pl.DataType] = {
    **PAIR_SCHEMA,
    "band": pl.String(),
    "is_candidate": pl.Boolean(),
    "first_run_id": pl.Int64(),
    "last_run_id": pl.Int64(),
}


def read_pairs(conn: Connection, where: Sequence[ColumnElement[bool]] = ()) -> pl.DataFrame:
    """Stored pairs (all, or those matching `where`) in STORED_PAIR_SCHEMA."""
    columns = [scored_pairs.c[name] for name in STORED_PAIR_SCHEMA]
    stmt = select(*columns).where(*where).order_by(*(scored_pairs.c[k] for k in PAIR_KEY))
    return rows_frame(conn.execute(stmt).all(), STORED_PAIR_SCHEMA)


def pair_status(pairs: pl.DataFrame, history: pl.DataFrame) -> pl.DataFrame:
    """`pairs` with `status`, `method` and the decision in force (decision_id, action, reviewer,
    decided_at, note); pairs outside the link set get a null status."""
    decided = pl.col("action").is_not_null()
    return pairs.join(decisions_in_force(history), on=PAIR_KEY, how="left").with_columns(
        status=pl.when(pl.col("action") == "accept")
        .then(pl.lit("linked"))
        .when(pl.col("action") == "reject")
        .then(pl.lit("rejected"))
        .when(pl.col("is_candidate") & (pl.col("band") == BAND_AUTO))
        .then(pl.lit("linked"))
        .when(pl.col("is_candidate"))
        .then(pl.lit("queued")),
        method=pl.when(decided).then(pl.lit("manual")).otherwise(pl.lit("auto")),
    )


def _links(conn: Connection, wdid: str | None = None, app_id: str | None = None) -> pl.DataFrame:
    pairs = read_pairs(conn, facility_rows(scored_pairs, wdid, app_id))
    history = read_decisions(conn, facility_rows(decisions, wdid, app_id))
    return (
        pair_status(pairs, history)
        .filter(pl.col("status").is_not_null())
        .select(list(LINK_SCHEMA))
        .cast(LINK_SCHEMA)
        .sort([*PAIR_KEY])
    )


def current_links(engine: Engine) -> pl.DataFrame:
    """Every pair in the link set, one row per (wdid, app_id, facility_place_id), in LINK_SCHEMA.

    `score` is the pair's latest score; `reviewer`, `decided_at` (UTC) and `note` are those
    of the human decision in force, null for machine statuses.
    """
    with engine.connect() as conn:
        return _links(conn)


def links_for_facility(engine: Engine, wdid: str, app_id: str) -> pl.DataFrame:
    """The link set rows of one SMARTS facility (all its eSMR candidates), in LINK_SCHEMA."""
    with engine.connect() as conn:
        return _links(conn, wdid, app_id)


#: Columns of the `links` command's CSV (DESIGN §4), in order.
EXPORT_COLUMNS = ("wdid", "app_id", "facility_place_id", "method", "score", "status")


def export_links(engine: Engine) -> pl.DataFrame:
    """The current link set as the `links` command writes it: EXPORT_COLUMNS, sorted by key."""
    return current_links(engine).select(EXPORT_COLUMNS)
