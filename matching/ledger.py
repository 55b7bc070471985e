"""Appending one decision, only if the pair still looks as the reviewer saw it.

The insert is one conditional statement: it adds a row only when the pair exists and its
latest decision is the one the reviewer saw (`expected_last_id`; None = they saw none).
The unique (pair, seq) constraint backs it up across processes, so of two reviewers
deciding one pair at once exactly one gets in; the other is told who was first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    Text,
    cast,
    exc,
    exists,
    func,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.types import TypeEngine

from data_layer.errors import StormwaterError
from matching.history import Key, read_decisions, same_pair
from matching.state import ACTIONS, PAIR_KEY, as_utc, decisions, scored_pairs, utc_now

_PAST = {"accept": "accepted", "reject": "rejected", "undo": "undid a decision on"}


class DecisionConflict(StormwaterError):
    """Someone else decided the pair first; the caller's view of it is out of date."""


class UnknownPair(StormwaterError):
    """A decision names a pair the matcher never scored."""


class NothingToUndo(StormwaterError):
    """An undo found no standing decision of that reviewer on the pair."""


def pair_label(key: Key) -> str:
    """How a pair is named in messages: `WDID / app APP ↔ eSMR place PLACE`."""
    wdid, app_id, place = key
    return f"{wdid} / app {app_id} ↔ eSMR place {place}"


@dataclass(frozen=True)
class Entry:
    """One decision to append, with the latest decision id its author saw on the pair."""

    key: Key
    action: str
    reviewer: str
    note: str = ""
    score_shown: float | None = None
    expected_last_id: int | None = None
    reverts_id: int | None = None
    bulk_id: int | None = None
    decided_at: dt.datetime = field(default_factory=utc_now)


def check_entry(action: str, reviewer: str, key: Key) -> None:
    """Refuse what must never reach the history: unknown actions, anonymous reviewers."""
    if action not in ACTIONS:
        raise StormwaterError(f"unknown decision {action!r}: use one of {', '.join(ACTIONS)}")
    if not reviewer or not reviewer.strip():
        raise StormwaterError("a decision needs a signed-in reviewer")
    if any(not isinstance(part, str) or not part for part in key):
        raise UnknownPair(f"not a pair key: {key!r}")


def _bound(value: Any, kind: TypeEngine[Any]) -> Any:
    """A bound value; a NULL is cast, since PostgreSQL types an untyped one as text here.

    (Values are not cast: SQLite's CAST to DATETIME would turn a timestamp into a number.)
    """
    return cast(null(), kind) if value is None else literal(value, kind)


def append(conn: Connection, entry: Entry) -> int | None:
    """Insert `entry` if the pair exists and its latest decision is the expected one.

    Returns the new decision id, or None when the condition failed (see `refusal`).
    """
    mine = same_pair(decisions, entry.key)
    last_id = select(func.max(decisions.c.id)).where(*mine).scalar_subquery()
    next_seq = select(func.coalesce(func.max(decisions.c.seq), 0) + 1).where(*mine)
    expected = entry.expected_last_id
    seen = last_id.is_(None) if expected is None else last_id == expected
    values = {
        **{name: _bound(part, String()) for name, part in zip(PAIR_KEY, entry.key, strict=True)},
        "seq": next_seq.scalar_subquery(),
        "action": _bound(entry.action, String()),
        "reviewer": _bound(entry.reviewer, String()),
        "decided_at": _bound(entry.decided_at, DateTime(timezone=True)),
        "note": _bound(entry.note, Text()),
        "score_shown": _bound(entry.score_shown, Float()),
        "reverts_id": _bound(entry.reverts_id, Integer()),
        "bulk_id": _bound(entry.bulk_id, Integer()),
    }
    pair_exists = exists().where(*same_pair(scored_pairs, entry.key))
    source = select(*values.values()).where(pair_exists, seen)
    stmt = insert(decisions).from_select(list(values), source).returning(decisions.c.id)
    rows = conn.execute(stmt).all()
    return int(rows[0][0]) if rows else None


def refusal(engine: Engine, key: Key, expected_last_id: int | None) -> StormwaterError:
    """Why `append` added nothing: the pair is unknown, or someone decided it first."""
    with engine.connect() as conn:
        known = conn.execute(select(exists().where(*same_pair(scored_pairs, key)))).all()
        history = read_decisions(conn, same_pair(decisions, key))
    if not known[0][0]:
        return UnknownPair(
            f"no scored pair {pair_label(key)}: run `python cli.py match` or check the ids"
        )
    if history.is_empty():
        return DecisionConflict(
            f"decision #{expected_last_id} is not on {pair_label(key)}: reload the pair"
        )
    last = history.row(-1, named=True)
    when = as_utc(last["decided_at"])
    stamp = when.strftime("%Y-%m-%d %H:%M UTC") if when else "?"
    return DecisionConflict(
        f"{last['reviewer']} {_PAST[last['action']]} {pair_label(key)} first"
        f" (at {stamp}); reload the pair and decide again"
    )


def append_or_refuse(engine: Engine, entry: Entry) -> int:
    """Append `entry` in its own transaction; raise DecisionConflict / UnknownPair if refused."""
    try:
        with engine.begin() as conn:
            new_id = append(conn, entry)
    except exc.IntegrityError:
        new_id = None  # a simultaneous decision took this pair's next sequence number
    if new_id is None:
        raise refusal(engine, entry.key, entry.expected_last_id)
    return new_id
