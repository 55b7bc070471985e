"""Alembic, run from code: upgrade the platform database to this integration's head, or back.

The revisions live in `migrations/`; the connection is handed to Alembic directly, so no
URL or password is ever written to a file. `downgrade` returns the database to exactly
what it was before the first upgrade: our tables, enum and version table go, nothing else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, create_engine, inspect, pool, text
from sqlalchemy.exc import SQLAlchemyError

from data_layer.errors import PostgresError
from data_layer.pg.schema import VERSION_TABLE
from data_layer.pg.urls import redact, scrub, sqlalchemy_url

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
#: Alembic announces each of its plugins at INFO when first imported (imported lazily below,
#: after this): noise in the log of every command that only checks the revision.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
HEAD, BASE = "head", "base"


@dataclass(frozen=True)
class MigrateResult:
    """Revision before and after; equal when there was nothing to do."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _config(conn: Connection | None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str | None:
    """The newest revision in `migrations/`: what a migrated database is at."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None)).get_current_head()


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at (None before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def migrate(pg_url: str, downgrade: bool = False) -> MigrateResult:
    """Upgrade to head (a no-op when already there), or downgrade to nothing of ours."""
    from alembic import command

    engine = create_engine(sqlalchemy_url(pg_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            before = current_revision(conn)
            conn.commit()
            if downgrade:
                command.downgrade(_config(conn), BASE)
                _drop_version_table(conn)
            else:
                command.upgrade(_config(conn), HEAD)
            after = current_revision(conn) if not downgrade else None
            conn.commit()
    except SQLAlchemyError as exc:
        detail = scrub(str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0], pg_url)
        raise PostgresError(f"migration of {redact(pg_url)} failed: {detail}") from exc
    finally:
        engine.dispose()
    log.info("migrate %s: %s -> %s", redact(pg_url), before, after)
    return MigrateResult(before, after)


def _drop_version_table(conn: Connection) -> None:
    """After a downgrade to base, the version table is the last thing of ours: drop it."""
    if inspect(conn).has_table(VERSION_TABLE):
        rows = conn.execute(text(f'SELECT count(*) FROM "{VERSION_TABLE}"')).scalar_one()
        if rows == 0:
            conn.execute(text(f'DROP TABLE "{VERSION_TABLE}"'))
    conn.commit()
