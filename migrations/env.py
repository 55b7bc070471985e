"""Alembic environment for the SMARTS tables on the platform's PostgreSQL.

Configured in code, never in alembic.ini: the connection comes from the caller
(`data_layer.pg.migrate`, via `config.attributes["connection"]`) or, for the `alembic`
command itself, from `-x pg=URL` or `$STORMWATER_PG_URL`. Only this integration's tables
are compared and versioned (in `smarts_alembic_version`); the platform's own tables are
invisible to autogenerate, so a revision can never touch them.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool

from data_layer.pg.schema import EXTERNAL_TABLES, VERSION_TABLE, metadata
from data_layer.pg.urls import sqlalchemy_url

config = context.config
OWN_TABLES = {name for name in metadata.tables if name not in EXTERNAL_TABLES}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Compare only our tables (and what hangs off them); ignore everything else."""
    if type_ == "table":
        return name in OWN_TABLES
    return True


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("pg") or os.environ.get(
        "STORMWATER_PG_URL"
    )
    if not url:
        raise SystemExit("no database: pass -x pg=URL or set STORMWATER_PG_URL")
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
