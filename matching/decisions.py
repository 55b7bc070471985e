"""What reviewers and the matcher do to the decision store: the API the review page uses.

- `save_pairs` records a match run's scored pairs (never touching a decision);
- `decide` appends accept / reject / undo, first writer wins (`DecisionConflict`);
- `bulk_accept`, `check_sample`, `record_check`, `bulk_precision`: bulk accepts and the
  random check that estimates their precision;
- `review_queue`, `history`, `progress`: what there is to review and what was done.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl
from sqlalchemy import Engine

from matching.bulk import (
    BulkResult,
    Precision,
    bulk_accept,
    bulk_precision,
    check_sample,
    record_check,
)
from matching.history import DECISION_SCHEMA, read_decisions, same_pair, undo_target
from matching.ledger import (
    DecisionConflict,
    Entry,
    NothingToUndo,
    UnknownPair,
    append_or_refuse,
    check_entry,
    pair_label,
    refusal,
)
from matching.queue import progress, review_queue
from matching.runs import RunSummary, save_pairs
from matching.state import decisions

__all__ = [
    "DECISION_SCHEMA",
    "BulkResult",
    "DecisionConflict",
    "NothingToUndo",
    "Precision",
    "RunSummary",
    "UnknownPair",
    "bulk_accept",
    "bulk_precision",
    "check_sample",
    "decide",
    "history",
    "progress",
    "record_check",
    "review_queue",
    "save_pairs",
]


def history(engine: Engine, wdid: str, app_id: str, facility_place_id: str) -> pl.DataFrame:
    """Every decision on one pair, oldest first, in DECISION_SCHEMA (decided_at in UTC)."""
    with engine.connect() as conn:
        return read_decisions(conn, same_pair(decisions, (wdid, app_id, facility_place_id)))


def _undo_target(engine: Engine, entry: Entry) -> int:
    """The decision an undo reverts, checked against the history the reviewer saw."""
    past = history(engine, *entry.key)
    last_id = None if past.is_empty() else int(past.get_column("id")[-1])
    if last_id != entry.expected_last_id:
        raise refusal(engine, entry.key, entry.expected_last_id)
    target = undo_target(past, entry.reviewer)
    if target is None:
        raise NothingToUndo(
            f"{entry.reviewer} has no standing decision on {pair_label(entry.key)} to undo"
        )
    return target


def decide(
    engine: Engine,
    wdid: str,
    app_id: str,
    facility_place_id: str,
    action: str,
    reviewer: str,
    note: str = "",
    score_shown: float | None = None,
    expected_last_id: int | None = None,
) -> int:
    """Append an accept, reject or undo on a pair and return its decision id.

    `expected_last_id` is the latest decision id the reviewer saw on the pair (None: they
    saw none). If the pair has moved on since, or another reviewer decides it at the same
    moment, the first decision stands and this one raises `DecisionConflict` naming who
    was first. An undo is itself a decision: it reverts this reviewer's latest standing
    accept or reject on the pair (`NothingToUndo` if there is none).
    """
    key = (wdid, app_id, facility_place_id)
    check_entry(action, reviewer, key)
    entry = Entry(
        key=key,
        action=action,
        reviewer=reviewer.strip(),
        note=note,
        score_shown=score_shown,
        expected_last_id=expected_last_id,
    )
    if action == "undo":
        entry = replace(entry, reverts_id=_undo_target(engine, entry))
    return append_or_refuse(engine, entry)
