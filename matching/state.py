"""The decision store: match runs, scored pairs, the append-only decision history, bulk checks.

People's work (accept / reject / undo, bulk checks) lives here, never in a store version
that a refresh replaces. SQLite file by default, PostgreSQL when `STORMWATER_STATE_URL`
says so; tables come from this metadata, created idempotently by `open_state`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    create_engine,
    event,
    exc,
)
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

#: Stable constraint names on every backend (Alembic's recommended convention).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: The three columns that name a pair: SMARTS facility (wdid, app_id) and eSMR place.
PAIR_KEY = ("wdid", "app_id", "facility_place_id")
ACTIONS = ("accept", "reject", "undo")
#: A score band a pair fell in at its latest run (thresholds are those of that run).
BAND_AUTO, BAND_REVIEW = "auto", "review"
#: SQLite waits this long for another writer before giving up (two Streamlit sessions).
SQLITE_BUSY_TIMEOUT_MS = 15_000


def _key_columns() -> list[Column[Any]]:
    return [Column(name, String, nullable=False) for name in PAIR_KEY]


match_runs = Table(
    "match_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("auto_threshold", Float, nullable=False),
    Column("review_threshold", Float, nullable=False),
    Column("pairs_scored", Integer, nullable=False, default=0),
    Column("new_pairs", Integer, nullable=False, default=0),
    Column("auto_linked", Integer, nullable=False, default=0),
    Column("queued", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("decisions_kept", Integer, nullable=False, default=0),
    Column("settings", Text),
)

scored_pairs = Table(
    "scored_pairs",
    metadata,
    *_key_columns(),
    Column("score", Float, nullable=False),
    Column("components", Text, nullable=False),
    Column("smarts_name", Text),
    Column("esmr_name", Text),
    Column("band", String, nullable=False),
    Column("is_candidate", Boolean, nullable=False),
    Column("first_run_id", Integer, ForeignKey("match_runs.id"), nullable=False),
    Column("last_run_id", Integer, ForeignKey("match_runs.id"), nullable=False),
    PrimaryKeyConstraint(*PAIR_KEY),
)

bulk_batches = Table(
    "bulk_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reviewer", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("selected", Integer, nullable=False),
    Column("check_fraction", Float, nullable=False),
    Column("seed", Integer),
)

#: Append-only. `seq` numbers a pair's decisions 1, 2, 3...; the unique (pair, seq)
#: constraint is what lets only the first of two simultaneous decisions in.
decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    *_key_columns(),
    Column("seq", Integer, nullable=False),
    Column("action", String, nullable=False),
    Column("reviewer", String, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("score_shown", Float),
    Column("reverts_id", Integer, ForeignKey("decisions.id")),
    Column("bulk_id", Integer, ForeignKey("bulk_batches.id")),
    UniqueConstraint(*PAIR_KEY, "seq"),
    CheckConstraint(column("action").in_(ACTIONS), name="action"),
)

#: The random sample of a bulk accept set aside for a second look; `correct` is null until checked.
bulk_checks = Table(
    "bulk_checks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bulk_id", Integer, ForeignKey("bulk_batches.id"), nullable=False),
    Column("decision_id", Integer, ForeignKey("decisions.id"), nullable=False, unique=True),
    *_key_columns(),
    Column("correct", Boolean),
    Column("checked_by", String),
    Column("checked_at", DateTime(timezone=True)),
)


def utc_now() -> dt.datetime:
    """Now, timezone-aware UTC: what every `*_at` column holds."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time as aware UTC (SQLite hands back naive UTC, PostgreSQL aware)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def rows_frame(rows: Sequence[Sequence[Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows read from the decision store as a frame of exactly `schema` (times aware UTC)."""
    times = {i for i, kind in enumerate(schema.values()) if isinstance(kind, pl.Datetime)}
    data = [tuple(as_utc(v) if i in times else v for i, v in enumerate(row)) for row in rows]
    return pl.DataFrame(data, schema=schema, orient="row")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL so readers never block the writer; wait for a busy writer instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_state(url: str) -> Engine:
    """An engine on the decision store, its tables created if missing (safe to call again).

    For SQLite the file's directory is created and every connection runs in WAL mode with
    a busy timeout, so two app sessions and a `match` run can write one after another.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(parsed, pool_pre_ping=True)
    try:
        metadata.create_all(engine)
    except (exc.OperationalError, exc.ProgrammingError, exc.IntegrityError):
        # Another process created the tables between our check and our CREATE.
        log.info("decision store tables appeared concurrently; checking again")
        metadata.create_all(engine)
    return engine
