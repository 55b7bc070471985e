"""Recording a match run: its scored pairs merged into the store, decisions left alone.

Re-running is idempotent. A pair seen again gets its latest score, parts and band; a new
one is added; one that is no longer a candidate keeps its row (and any decision on it)
with `is_candidate` false. The decision history is only read, to count what it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, Engine, and_, bindparam, insert, update

from data_layer.errors import StormwaterError
from matching.contract import PAIR_SCHEMA
from matching.history import decisions_in_force, read_decisions
from matching.links import read_pairs
from matching.state import BAND_AUTO, BAND_REVIEW, PAIR_KEY, match_runs, scored_pairs, utc_now

#: Summed parts may miss 0..1 by rounding; scores within this are clipped, beyond it refused.
SCORE_ROUNDING = 1e-5
#: Columns a run rewrites on a pair it scores again.
_SCORED = ("score", "components", "smarts_name", "esmr_name", "band")


@dataclass(frozen=True)
class RunSummary:
    """What one match run did, as counted into `match_runs`."""

    run_id: int
    pairs_scored: int
    new: int
    auto_linked: int
    queued: int
    unchanged: int
    decisions_kept: int

    def line(self) -> str:
        """The one-line summary `python cli.py match` prints."""
        return (
            f"match run {self.run_id}: {self.pairs_scored:,} pairs scored, {self.new:,} new,"
            f" {self.auto_linked:,} auto-linked, {self.queued:,} queued for review,"
            f" {self.unchanged:,} unchanged, {self.decisions_kept:,} human decisions kept"
        )


def check_thresholds(auto: float, review: float) -> None:
    """Refuse thresholds that cannot band a score: 0 ≤ review ≤ auto ≤ 1."""
    if not 0.0 <= review <= auto <= 1.0:
        raise StormwaterError(f"thresholds must satisfy 0 ≤ review ({review}) ≤ auto ({auto}) ≤ 1")


def _checked(pairs: pl.DataFrame) -> pl.DataFrame:
    """`pairs` in PAIR_SCHEMA, refused with one line if its rows make no sense."""
    missing = [name for name in PAIR_SCHEMA if name not in pairs.columns]
    if missing:
        raise StormwaterError(f"scored pairs lack column(s) {', '.join(missing)}")
    frame = pairs.select(list(PAIR_SCHEMA)).cast(PAIR_SCHEMA)
    if frame.select(pl.any_horizontal(pl.col(*PAIR_KEY, "score").is_null()).any()).item():
        raise StormwaterError("scored pairs with an empty key or score: the matcher must fill them")
    slack = pl.col("score").is_between(-SCORE_ROUNDING, 1.0 + SCORE_ROUNDING)
    outside = frame.filter(~slack)
    if not outside.is_empty():
        worst = outside.row(0, named=True)
        raise StormwaterError(
            f"{outside.height} scored pairs with a score outside 0..1"
            f" (e.g. {worst['score']} for {worst['wdid']} / {worst['facility_place_id']})"
        )
    if frame.select(pl.struct(PAIR_KEY).is_duplicated().any()).item():
        raise StormwaterError("scored pairs name one (wdid, app_id, facility_place_id) twice")
    return frame.with_columns(pl.col("score").clip(0.0, 1.0))


def _start_run(conn: Connection, auto: float, review: float, settings: str | None) -> int:
    row = conn.execute(
        insert(match_runs)
        .values(
            started_at=utc_now(), auto_threshold=auto, review_threshold=review, settings=settings
        )
        .returning(match_runs.c.id)
    ).all()
    return int(row[0][0])


def _merge(conn: Connection, candidates: pl.DataFrame, run_id: int) -> tuple[int, int]:
    """Insert new pairs, refresh those seen before, retire the rest; return (new, unchanged)."""
    before = read_pairs(conn).select(
        *PAIR_KEY,
        *(pl.col(c).alias(f"old_{c}") for c in _SCORED),
        pl.col("is_candidate").alias("was_candidate"),
        known=pl.lit(True),
    )
    merged = candidates.join(before, on=PAIR_KEY, how="left")
    known = merged.filter(pl.col("known").fill_null(False))
    fresh = merged.filter(pl.col("known").is_null()).select(*PAIR_KEY, *_SCORED)
    if not fresh.is_empty():
        rows = fresh.with_columns(
            is_candidate=pl.lit(True), first_run_id=pl.lit(run_id), last_run_id=pl.lit(run_id)
        )
        conn.execute(insert(scored_pairs), rows.to_dicts())
    if not known.is_empty():
        match = and_(*(scored_pairs.c[k] == bindparam(f"k_{k}") for k in PAIR_KEY))
        stmt = (
            update(scored_pairs)
            .where(match)
            .values(**{c: bindparam(c) for c in _SCORED}, is_candidate=True, last_run_id=run_id)
        )
        rows = known.select(*(pl.col(k).alias(f"k_{k}") for k in PAIR_KEY), *_SCORED)
        conn.execute(stmt, rows.to_dicts())
    conn.execute(
        update(scored_pairs)
        .where(scored_pairs.c.last_run_id != run_id, scored_pairs.c.is_candidate)
        .values(is_candidate=False)
    )
    same = pl.all_horizontal(
        pl.col("was_candidate"), *(pl.col(c).eq_missing(pl.col(f"old_{c}")) for c in _SCORED)
    )
    return fresh.height, known.filter(same).height


def save_pairs(
    engine: Engine,
    pairs: pl.DataFrame,
    auto: float,
    review: float,
    *,
    settings: str | None = None,
) -> RunSummary:
    """Record a match run's scored pairs (PAIR_SCHEMA) in one transaction; return its counts.

    Pairs at or above `auto` fall in the auto band, those at or above `review` in the review
    band; lower ones are not candidates. No decision is ever written, changed or removed:
    a human decision outlives any later score, and a pair that disappears keeps it.
    `settings` (the matcher's settings as JSON) is kept with the run.
    """
    check_thresholds(auto, review)
    frame = _checked(pairs)
    candidates = frame.filter(pl.col("score") >= review).with_columns(
        band=pl.when(pl.col("score") >= auto).then(pl.lit(BAND_AUTO)).otherwise(pl.lit(BAND_REVIEW))
    )
    with engine.begin() as conn:
        run_id = _start_run(conn, auto, review, settings)
        new, unchanged = _merge(conn, candidates, run_id)
        kept = decisions_in_force(read_decisions(conn))
        open_ = candidates.join(kept, on=PAIR_KEY, how="anti")
        summary = RunSummary(
            run_id=run_id,
            pairs_scored=frame.height,
            new=new,
            auto_linked=open_.filter(pl.col("band") == BAND_AUTO).height,
            queued=open_.filter(pl.col("band") == BAND_REVIEW).height,
            unchanged=unchanged,
            decisions_kept=kept.height,
        )
        counts = {k: v for k, v in summary.__dict__.items() if k not in ("run_id", "new")}
        conn.execute(
            update(match_runs)
            .where(match_runs.c.id == run_id)
            .values(**counts, new_pairs=summary.new)
        )
    return summary
