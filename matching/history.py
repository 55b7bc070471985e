"""The decision history read back, and what it means now: the decision in force per pair.

The history is append-only; nothing is ever updated or deleted. A pair's decision in
force is its latest accept or reject that no undo has reverted; an undo reverts the
undoing reviewer's latest such decision on the pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from sqlalchemy import ColumnElement, Connection, Table, select

from matching.state import PAIR_KEY, decisions, rows_frame

#: One decision: the pair, its place in the pair's sequence, who, when, what and why.
DECISION_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "wdid": pl.String(),
    "app_id": pl.String(),
    "facility_place_id": pl.String(),
    "seq": pl.Int64(),
    "action": pl.String(),
    "reviewer": pl.String(),
    "decided_at": pl.Datetime("us", "UTC"),
    "note": pl.String(),
    "score_shown": pl.Float64(),
    "reverts_id": pl.Int64(),
    "bulk_id": pl.Int64(),
}
Key = tuple[str, str, str]


def same_pair(table: Table, key: Key) -> list[ColumnElement[bool]]:
    """Conditions selecting one pair's rows of `table`."""
    return [table.c[name] == value for name, value in zip(PAIR_KEY, key, strict=True)]


def facility_rows(table: Table, wdid: str | None, app_id: str | None) -> list[ColumnElement[bool]]:
    """Conditions selecting one SMARTS facility's rows of `table` (none: every row)."""
    if wdid is None and app_id is None:
        return []
    return [table.c.wdid == wdid, table.c.app_id == app_id]


def read_decisions(conn: Connection, where: Sequence[ColumnElement[bool]] = ()) -> pl.DataFrame:
    """Decisions (all, or those matching `where`) in DECISION_SCHEMA, oldest first per pair."""
    columns = [decisions.c[name] for name in DECISION_SCHEMA]
    stmt = select(*columns).where(*where).order_by(*(decisions.c[k] for k in PAIR_KEY), "seq")
    return rows_frame(conn.execute(stmt).all(), DECISION_SCHEMA)


def decisions_in_force(history: pl.DataFrame) -> pl.DataFrame:
    """Per pair, the accept or reject in force.

    Columns: the pair key, decision_id, action, reviewer, decided_at, note. Pairs whose
    every decision was undone (or that were never decided) have no row.
    """
    reverted = history.get_column("reverts_id").drop_nulls()
    standing = history.filter(
        pl.col("action").is_in(["accept", "reject"]) & ~pl.col("id").is_in(reverted.implode())
    )
    return (
        standing.sort("seq")
        .group_by(PAIR_KEY, maintain_order=True)
        .last()
        .select(
            *PAIR_KEY,
            pl.col("id").alias("decision_id"),
            "action",
            "reviewer",
            "decided_at",
            "note",
        )
    )


def last_decisions(history: pl.DataFrame) -> pl.DataFrame:
    """Per pair, its latest decision of any kind (what a reviewer saw): last_decision_id etc."""
    return (
        history.sort("seq")
        .group_by(PAIR_KEY, maintain_order=True)
        .last()
        .select(
            *PAIR_KEY,
            pl.col("id").alias("last_decision_id"),
            pl.col("action").alias("last_action"),
            pl.col("reviewer").alias("last_reviewer"),
            pl.col("decided_at").alias("last_decided_at"),
            pl.col("note").alias("last_note"),
        )
    )


def undo_target(history: pl.DataFrame, reviewer: str) -> int | None:
    """The decision an undo by `reviewer` reverts in one pair's history, or None."""
    reverted = history.get_column("reverts_id").drop_nulls()
    mine = history.filter(
        (pl.col("reviewer") == reviewer)
        & pl.col("action").is_in(["accept", "reject"])
        & ~pl.col("id").is_in(reverted.implode())
    )
    return None if mine.is_empty() else int(mine.sort("seq").get_column("id")[-1])
