"""What there is to review, and how far review has got.

The queue carries everything a reviewer needs to judge a pair and to decide it safely:
its score and parts, both names, its status, the latest decision (whose id goes back to
`decide` as `expected_last_id`) and how many other live candidates compete for either side.
Ordering by what matters (violations, exceedances) is the review page's, from data_layer.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine

from matching.history import last_decisions, read_decisions
from matching.links import pair_status, read_pairs
from matching.state import PAIR_KEY

SMARTS_SIDE = ["wdid", "app_id"]
ESMR_SIDE = ["facility_place_id"]
_LIVE = ("linked", "queued")


def _with_competitors(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `competitors`: other live (linked, queued) pairs sharing this facility or place."""
    live = frame.filter(pl.col("status").is_in(_LIVE))
    per_smarts = live.group_by(SMARTS_SIDE).agg(smarts_live=pl.len())
    per_esmr = live.group_by(ESMR_SIDE).agg(esmr_live=pl.len())
    me = pl.col("status").is_in(_LIVE).cast(pl.UInt32)
    return (
        frame.join(per_smarts, on=SMARTS_SIDE, how="left")
        .join(per_esmr, on=ESMR_SIDE, how="left")
        .with_columns(
            competitors=(
                pl.col("smarts_live").fill_null(0) - me + pl.col("esmr_live").fill_null(0) - me
            ).cast(pl.Int64)
        )
        .drop("smarts_live", "esmr_live")
    )


def review_queue(engine: Engine, *, include_decided: bool = False) -> pl.DataFrame:
    """Pairs awaiting review (status `queued`), or with `include_decided` every pair in the set.

    Columns: wdid, app_id, facility_place_id, score, components (JSON), smarts_name,
    esmr_name, band, is_candidate, status (linked/queued/rejected), method (auto/manual),
    last_decision_id, last_action, last_reviewer, last_decided_at (UTC), last_note,
    competitors. Highest score first.
    """
    with engine.connect() as conn:
        pairs = read_pairs(conn)
        past = read_decisions(conn)
    frame = _with_competitors(pair_status(pairs, past).filter(pl.col("status").is_not_null()))
    if not include_decided:
        frame = frame.filter(pl.col("status") == "queued")
    return (
        frame.join(last_decisions(past), on=PAIR_KEY, how="left")
        .select(
            *PAIR_KEY,
            "score",
            "components",
            "smarts_name",
            "esmr_name",
            "band",
            "is_candidate",
            "status",
            "method",
            "last_decision_id",
            "last_action",
            "last_reviewer",
            "last_decided_at",
            "last_note",
            "competitors",
        )
        .sort(["score", *PAIR_KEY], descending=[True, False, False, False])
    )


def progress(engine: Engine) -> pl.DataFrame:
    """Review progress: a total row (reviewer null) then one row per reviewer, by name.

    Columns: reviewer; reviewed (pairs whose standing decision is theirs), accepted,
    rejected (of those), undone (undo decisions), decisions (all they made), remaining
    (pairs still queued, shared by everyone).
    """
    with engine.connect() as conn:
        pairs = read_pairs(conn)
        past = read_decisions(conn)
    status = pair_status(pairs, past)
    remaining = status.filter(pl.col("status") == "queued").height
    standing = status.filter(pl.col("action").is_not_null()).select("reviewer", "action")
    made = past.select("reviewer", pl.col("action").alias("made"))
    counts = [
        (pl.col("action") == "accept").sum().alias("accepted"),
        (pl.col("action") == "reject").sum().alias("rejected"),
    ]
    per = (
        standing.group_by("reviewer")
        .agg(pl.len().alias("reviewed"), *counts)
        .join(
            made.group_by("reviewer").agg(
                (pl.col("made") == "undo").sum().alias("undone"), pl.len().alias("decisions")
            ),
            on="reviewer",
            how="full",
            coalesce=True,
        )
        .sort("reviewer")
    )
    total = standing.select(
        pl.lit(None, pl.String).alias("reviewer"), pl.len().alias("reviewed"), *counts
    )
    total = total.with_columns(
        undone=pl.lit((past.get_column("action") == "undo").sum()),
        decisions=pl.lit(past.height),
    )
    schema = {
        "reviewer": pl.String(),
        **dict.fromkeys(("reviewed", "accepted", "rejected", "undone", "decisions"), pl.Int64()),
    }
    return pl.concat(
        [total.cast(schema), per.select(list(schema)).cast(schema).fill_null(0)]
    ).with_columns(remaining=pl.lit(remaining, pl.Int64))
