"""Bulk accepts, and the random sample of them set aside for a check that estimates precision.

A bulk accept appends one ordinary `accept` per selected pair (tagged with the batch), so
it is audited and undoable like any other; pairs someone has already decided are skipped,
never overridden. A random share of the accepted pairs goes into `bulk_checks`; each
checked pair says whether the link was right, and a wrong one is rejected on the spot.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import NamedTuple

import polars as pl
from sqlalchemy import Engine, and_, exc, insert, select, update

from data_layer.errors import StormwaterError
from matching.contract import PAIR_SCHEMA
from matching.history import Key, decisions_in_force, read_decisions, same_pair
from matching.ledger import (
    DecisionConflict,
    Entry,
    UnknownPair,
    append,
    append_or_refuse,
    check_entry,
    pair_label,
)
from matching.state import (
    PAIR_KEY,
    bulk_batches,
    bulk_checks,
    decisions,
    rows_frame,
    scored_pairs,
    utc_now,
)

CHECK_SCHEMA: dict[str, pl.DataType] = {
    "check_id": pl.Int64(),
    "bulk_id": pl.Int64(),
    "decision_id": pl.Int64(),
    **PAIR_SCHEMA,
    "accepted_by": pl.String(),
}


@dataclass(frozen=True)
class BulkResult:
    """A bulk accept: its batch id, the new decision ids, what was skipped and why, the sample."""

    bulk_id: int
    accepted: list[Key] = field(default_factory=list)
    decision_ids: list[int] = field(default_factory=list)
    skipped: dict[Key, str] = field(default_factory=dict)
    check_keys: list[Key] = field(default_factory=list)


class Precision(NamedTuple):
    """Checked bulk accepts, how many were right, and the share right (None before any check)."""

    checked: int
    correct: int
    estimate: float | None


def _require_fraction(fraction: float) -> None:
    if not 0.0 <= fraction <= 1.0:
        raise StormwaterError(f"check fraction must be within 0..1, not {fraction}")


def sample_size(accepted: int, fraction: float) -> int:
    """How many of `accepted` pairs to check: the fraction rounded up, at least one if any."""
    _require_fraction(fraction)
    return min(accepted, max(1 if fraction > 0 else 0, math.ceil(accepted * fraction)))


def _start_batch(engine: Engine, reviewer: str, selected: int, fraction: float, seed: int | None):
    with engine.begin() as conn:
        row = conn.execute(
            insert(bulk_batches)
            .values(
                reviewer=reviewer,
                created_at=utc_now(),
                selected=selected,
                check_fraction=fraction,
                seed=seed,
            )
            .returning(bulk_batches.c.id)
        ).all()
    return int(row[0][0])


def bulk_accept(
    engine: Engine,
    keys: list[Key],
    reviewer: str,
    check_fraction: float = 0.1,
    seed: int | None = None,
) -> BulkResult:
    """Accept every selected pair nobody has decided, and set a random sample aside to check.

    Each accept is appended on its own, only if the pair still has no decision in force;
    pairs decided meanwhile (or unknown) are listed in `skipped` with the reason.
    """
    for key in keys:
        check_entry("accept", reviewer, key)
    _require_fraction(check_fraction)
    reviewer = reviewer.strip()
    bulk_id = _start_batch(engine, reviewer, len(keys), check_fraction, seed)
    with engine.connect() as conn:
        past = read_decisions(conn)
    standing = {tuple(k) for k in decisions_in_force(past).select(PAIR_KEY).iter_rows()}
    last_ids = dict(
        ((r[0], r[1], r[2]), r[3])
        for r in past.group_by(PAIR_KEY).agg(pl.col("id").max()).iter_rows()
    )
    result = BulkResult(bulk_id=bulk_id)
    for key in dict.fromkeys(keys):
        if key in standing:
            result.skipped[key] = "already decided"
            continue
        entry = Entry(
            key=key,
            action="accept",
            reviewer=reviewer,
            note="bulk accept",
            expected_last_id=last_ids.get(key),
            bulk_id=bulk_id,
        )
        try:
            result.decision_ids.append(append_or_refuse(engine, entry))
            result.accepted.append(key)
        except (DecisionConflict, UnknownPair) as exc:
            result.skipped[key] = str(exc)
    chosen = sorted(
        random.Random(seed).sample(
            range(len(result.accepted)), sample_size(len(result.accepted), check_fraction)
        )
    )
    if chosen:
        with engine.begin() as conn:
            conn.execute(
                insert(bulk_checks),
                [
                    {"bulk_id": bulk_id, "decision_id": result.decision_ids[i]}
                    | dict(zip(PAIR_KEY, result.accepted[i], strict=True))
                    for i in chosen
                ],
            )
    result.check_keys.extend(result.accepted[i] for i in chosen)
    return result


def check_sample(engine: Engine) -> pl.DataFrame:
    """Bulk-accepted pairs set aside for a check and not yet checked, oldest batch first.

    Columns: check_id, bulk_id, decision_id, the pair key, score, components, both
    names, accepted_by.
    """
    joined = bulk_checks.join(
        scored_pairs, and_(*(bulk_checks.c[k] == scored_pairs.c[k] for k in PAIR_KEY))
    ).join(bulk_batches, bulk_checks.c.bulk_id == bulk_batches.c.id)
    stmt = (
        select(
            bulk_checks.c.id,
            bulk_checks.c.bulk_id,
            bulk_checks.c.decision_id,
            *(bulk_checks.c[k] for k in PAIR_KEY),
            scored_pairs.c.score,
            scored_pairs.c.components,
            scored_pairs.c.smarts_name,
            scored_pairs.c.esmr_name,
            bulk_batches.c.reviewer,
        )
        .select_from(joined)
        .where(bulk_checks.c.correct.is_(None))
        .order_by(bulk_checks.c.bulk_id, bulk_checks.c.id)
    )
    with engine.connect() as conn:
        return rows_frame(conn.execute(stmt).all(), CHECK_SCHEMA)


def record_check(engine: Engine, key: Key, correct: bool, reviewer: str) -> None:
    """Record the check of a sampled bulk accept; a wrong link is rejected in the same step.

    Raises DecisionConflict if someone checked it first, StormwaterError if the pair is not
    waiting for a check.
    """
    check_entry("reject", reviewer, key)
    reviewer = reviewer.strip()
    with engine.begin() as conn:
        done = conn.execute(
            update(bulk_checks)
            .where(*same_pair(bulk_checks, key), bulk_checks.c.correct.is_(None))
            .values(correct=correct, checked_by=reviewer, checked_at=utc_now())
            .returning(bulk_checks.c.id)
        ).all()
        if done and not correct:
            last = read_decisions(conn, same_pair(decisions, key)).get_column("id")
            entry = Entry(
                key=key,
                action="reject",
                reviewer=reviewer,
                note="bulk check: wrong link",
                expected_last_id=int(last[-1]) if len(last) else None,
            )
            try:
                appended = append(conn, entry)
            except exc.IntegrityError:
                appended = None
            if appended is None:
                raise DecisionConflict(f"{pair_label(key)} changed while it was being checked")
    if not done:
        raise _no_pending_check(engine, key)


def _no_pending_check(engine: Engine, key: Key) -> StormwaterError:
    with engine.connect() as conn:
        rows = conn.execute(
            select(bulk_checks.c.checked_by).where(*same_pair(bulk_checks, key))
        ).all()
    if rows and rows[-1][0]:
        return DecisionConflict(f"{rows[-1][0]} already checked {pair_label(key)}")
    return StormwaterError(f"{pair_label(key)} is not in a bulk-accept check sample")


def bulk_precision(engine: Engine) -> Precision:
    """Precision of bulk accepts as estimated from the checked sample."""
    stmt = select(bulk_checks.c.correct).where(bulk_checks.c.correct.is_not(None))
    with engine.connect() as conn:
        results = [bool(r[0]) for r in conn.execute(stmt).all()]
    right = sum(results)
    return Precision(len(results), right, right / len(results) if results else None)
