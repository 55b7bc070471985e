"""Full load: each table rebuilt beside the live one, then all swapped in at one commit.

A shadow table is created in schema `smarts_sync_new` inside the sync's transaction (so a
failed or killed run leaves nothing behind), filled with `COPY ... FREEZE` while it has no
index, then given its keys, indexes and foreign keys (names from `schema.py`, so they are
the migration's names) and analysed. The swap moves the live tables out and the shadows in
with `ALTER TABLE ... SET SCHEMA` and drops the old ones. Those statements need ACCESS
EXCLUSIVE locks, which would block readers, so they run last, for milliseconds: the locks
are taken with NOWAIT and retried (never queueing behind a long read, so never making
new readers queue behind us), and the commit follows at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import psycopg
from psycopg import errors, sql
from sqlalchemy import ForeignKeyConstraint, MetaData, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import AddConstraint, CreateIndex

from data_layer.errors import PostgresError
from data_layer.pg import changes
from data_layer.pg import mapping as m
from data_layer.pg.plan import TablePlan, rows_query
from data_layer.pg.report import ProgressFactory
from data_layer.pg.schema import NAMING_CONVENTION, metadata
from data_layer.pg.transfer import copy_with_progress

log = logging.getLogger(__name__)

SHADOW, RETIRED = "smarts_sync_new", "smarts_sync_old"
#: How long the swap keeps retrying for its locks before the sync gives up.
SWAP_LOCK_WAIT_S = 60.0
_DIALECT = postgresql.dialect()


def write_full(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    maps: list[m.TableMap],
    plans: Mapping[str, TablePlan],
    live_schema: str,
    have: changes.StateReader,
    save: changes.StateWriter,
    progress: ProgressFactory | None,
) -> float:
    """Every swapped table rebuilt as a shadow, the others updated row by row, every state
    replaced, then the swap; returns the seconds the swap waited for readers."""
    swapped = [t for t in maps if t.swap]
    shadows = shadow_tables([metadata.tables[t.table] for t in swapped])
    for tmap in swapped:
        plan = plans[tmap.table]
        started = time.perf_counter()
        target = create_shadow(pg, live_schema, metadata.tables[tmap.table])
        query, params = rows_query(plan)
        columns = plan.shaped.columns
        copy_with_progress(
            duck, query, params, pg, target, columns, plan.name, plan.held, progress, freeze=True
        )
        copied = time.perf_counter()
        finish_shadow(pg, live_schema, shadows[tmap.table])
        log.debug(
            "%s: %d rows copied in %.1f s, keys, indexes and statistics in %.1f s",
            plan.name,
            plan.held,
            copied - started,
            time.perf_counter() - copied,
        )
        plan.created = plan.held
    for tmap in maps:
        if not tmap.swap:
            changes.stage_changes(pg, duck, plans[tmap.table], have, progress)
            changes.remove(pg, plans[tmap.table], tmap)
            changes.upsert(pg, plans[tmap.table])
    for plan in plans.values():
        save(plan)
    return swap(pg, live_schema, [t.table for t in swapped])


def create_shadow(pg: psycopg.Cursor[Any], live_schema: str, table: Table) -> sql.Composable:
    """An empty, index-free copy of `table`'s columns in the shadow schema; its name."""
    pg.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SHADOW)))
    shadow = sql.Identifier(SHADOW, table.name)
    live = sql.Identifier(live_schema, table.name)
    pg.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(shadow, live))
    options = pg.execute(
        "SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = to_regclass(%s)",
        [live.as_string(pg)],
    ).fetchall()[0][0]
    for option in options:  # fillfactor and any storage setting a DBA gave the live table
        name, value = option.split("=", 1)
        pg.execute(
            sql.SQL("ALTER TABLE {} SET ({} = {})").format(
                shadow, sql.Identifier(name), sql.Literal(value)
            )
        )
    return shadow


def shadow_tables(tables: Sequence[Table]) -> dict[str, Table]:
    """The tables as they are declared in the shadow schema (foreign keys between them kept)."""
    shadow = MetaData(naming_convention=NAMING_CONVENTION)
    return {t.name: t.to_metadata(shadow, schema=SHADOW) for t in tables}


def finish_shadow(pg: psycopg.Cursor[Any], live_schema: str, shadow: Table) -> None:
    """Keys, indexes and foreign keys on the filled shadow, then the live table's grants."""
    ddl: list[Any] = [AddConstraint(shadow.primary_key)]
    ddl += [
        AddConstraint(c)
        for c in sorted(shadow.constraints, key=lambda c: str(c.name))
        if c is not shadow.primary_key and not isinstance(c, ForeignKeyConstraint)
    ]
    ddl += [CreateIndex(i) for i in sorted(shadow.indexes, key=lambda i: str(i.name))]
    ddl += [AddConstraint(c) for c in shadow.foreign_key_constraints]
    for statement in ddl:
        pg.execute(str(statement.compile(dialect=_DIALECT)))
    _copy_grants(pg, live_schema, shadow.name)
    pg.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SHADOW, shadow.name)))


_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
)


def _copy_grants(pg: psycopg.Cursor[Any], live_schema: str, table: str) -> None:
    """Give the shadow the live table's owner and privileges (a web app's read grant)."""
    live = sql.Identifier(live_schema, table).as_string(pg)
    owner = pg.execute(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(%s)", [live]
    ).fetchall()[0][0]
    grants = pg.execute(
        "SELECT a.privilege_type, a.grantee = 0, pg_get_userbyid(a.grantee)"
        " FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = to_regclass(%s)"
        " AND a.grantee <> c.relowner",
        [live],
    ).fetchall()
    target = sql.Identifier(SHADOW, table)
    if owner != pg.execute("SELECT current_user").fetchall()[0][0]:
        pg.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(target, sql.Identifier(owner)))
    for privilege, public, role in grants:
        if privilege not in _PRIVILEGES:
            continue
        grantee = sql.SQL("PUBLIC") if public else sql.Identifier(role)
        pg.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privilege), target, grantee))


def swap(pg: psycopg.Cursor[Any], live_schema: str, tables: Sequence[str]) -> float:
    """Put every shadow in place of its live table; returns seconds spent waiting for locks."""
    live = [sql.Identifier(live_schema, t) for t in tables]
    waited = _lock_nowait(pg, live)
    pg.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(RETIRED)))
    for name, table in zip(tables, live, strict=True):
        pg.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(table, sql.Identifier(RETIRED)))
        pg.execute(
            sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                sql.Identifier(SHADOW, name), sql.Identifier(live_schema)
            )
        )
    try:
        pg.execute(
            sql.SQL("DROP TABLE {}").format(
                sql.SQL(", ").join(sql.Identifier(RETIRED, t) for t in tables)
            )
        )
    except errors.DependentObjectsStillExist as exc:
        raise PostgresError(
            "a full sync replaces the SMARTS tables, but another object depends on them "
            f"({str(exc).splitlines()[0]}); drop it, or sync without --full"
        ) from exc
    pg.execute(
        sql.SQL("DROP SCHEMA {}, {}").format(sql.Identifier(RETIRED), sql.Identifier(SHADOW))
    )
    return waited


def _lock_nowait(pg: psycopg.Cursor[Any], live: list[sql.Identifier]) -> float:
    """ACCESS EXCLUSIVE on all live tables at once, retried with NOWAIT until free."""
    statement = sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT").format(
        sql.SQL(", ").join(live)
    )
    started = time.monotonic()
    pause = 0.01
    while True:
        pg.execute("SAVEPOINT sync_swap")
        try:
            pg.execute(statement)
        except errors.LockNotAvailable:
            pg.execute("ROLLBACK TO SAVEPOINT sync_swap")
            waited = time.monotonic() - started
            if waited > SWAP_LOCK_WAIT_S:
                raise PostgresError(
                    f"readers kept the SMARTS tables busy for {waited:.0f} s; the full sync"
                    " was rolled back — run it again at a quieter time"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
            continue
        pg.execute("RELEASE SAVEPOINT sync_swap")
        waited = time.monotonic() - started
        if waited > 0.05:
            log.info("swap waited %.2f s for readers to finish", waited)
        return waited
