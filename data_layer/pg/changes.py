"""Weekly delta: only new, changed and removed rows are written, inside the sync's transaction.

New and changed rows are first copied into a temp staging table, then upserted into the
live table in batches (`INSERT ... ON CONFLICT (id) DO UPDATE`, `createdAt` kept); removed
ids are deleted (or, for findings, marked resolved). Readers of the live tables are never
blocked — these statements take row locks only — and see none of it until the commit.
The sync state moves in the same transaction, so it always describes what Postgres holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import duckdb
import psycopg
from psycopg import sql

from data_layer.pg import mapping as m
from data_layer.pg.plan import TablePlan, diff, rows_query
from data_layer.pg.report import ProgressFactory
from data_layer.pg.schema import smarts_sync_state
from data_layer.pg.transfer import copy_query_to_table, copy_table_to_duckdb, copy_with_progress

#: Rows per upsert statement.
UPSERT_BATCH = 50_000
STATE = smarts_sync_state.name
#: Where a table's current state (id, _row_hash) is read from: a DuckDB relation's name.
StateReader = Callable[[str], str]


def write_delta(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    maps: list[m.TableMap],
    plans: Mapping[str, TablePlan],
    have: StateReader,
    sync_rows: Mapping[str, int],
    progress: ProgressFactory | None,
) -> bool:
    """Stage every table's changes, then delete children first and upsert parents first.

    The sync's own rows are recorded only when a row changed: a run that finds nothing to
    do writes nothing at all. Returns whether anything changed.
    """
    for tmap in maps:
        stage_changes(pg, duck, plans[tmap.table], have, progress)
    if not any(p.created or p.updated or p.deleted for p in plans.values()):
        return False
    for tmap in reversed(maps):
        remove(pg, plans[tmap.table], tmap)
    for tmap in maps:
        upsert(pg, plans[tmap.table])
    record_sync_rows(pg, sync_rows)
    return True


def record_sync_rows(pg: psycopg.Cursor[Any], sync_rows: Mapping[str, int]) -> None:
    """The sync's own state rows (table `_sync`): the hash canary and the generation."""
    pg.executemany(
        sql.SQL(
            'INSERT INTO {} ("table", id, "rowHash") VALUES (%s, %s, %s)'
            ' ON CONFLICT ("table", id) DO UPDATE SET "rowHash" = EXCLUDED."rowHash"'
        ).format(sql.Identifier(STATE)),
        [(SYNC_TABLE, key, value) for key, value in sync_rows.items()],
    )


#: The `table` value of the sync's own rows in the sync state.
SYNC_TABLE = "_sync"


def read_state(pg: psycopg.Cursor[Any], duck: duckdb.DuckDBPyConnection, table: str) -> str:
    """Postgres's sync state of `table` as DuckDB temp table (id, _row_hash); its name."""
    name = f"sync_have__{table}"
    query = sql.SQL('SELECT id, "rowHash" FROM {} WHERE "table" = {}').format(
        sql.Identifier(STATE), sql.Literal(table)
    )
    copy_table_to_duckdb(pg, query, duck, name, {"id": "VARCHAR", "_row_hash": "BIGINT"})
    return name


def stage_changes(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    have: StateReader,
    progress: ProgressFactory | None,
) -> None:
    """Compare with the state Postgres holds; copy new and changed rows, and removed ids,
    into temp tables."""
    diff(duck, plan, have(plan.name))
    live = sql.Identifier(plan.name)
    rows, removed = _stage_names(plan)
    pg.execute(
        sql.SQL(
            "CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS, _row_hash bigint, _batch integer)"
            " ON COMMIT DROP"
        ).format(rows, live)
    )
    pg.execute(sql.SQL("CREATE TEMP TABLE {} (id text) ON COMMIT DROP").format(removed))
    query, params = rows_query(plan, only=plan.tables["send"])
    batches = max(1, math.ceil((plan.created + plan.updated) / UPSERT_BATCH))
    send = plan.tables["send"]
    staged = (
        f"SELECT q.*, s._row_hash, CAST(hash(q.id) % {batches} AS INTEGER) AS _batch"
        f' FROM ({query}) AS q JOIN "{send}" AS s ON q.id = s.id'
    )
    columns = [*plan.shaped.columns, "_row_hash", "_batch"]
    if plan.created + plan.updated:
        total = plan.created + plan.updated
        copy_with_progress(duck, staged, params, pg, rows, columns, plan.name, total, progress)
        pg.execute(sql.SQL("CREATE INDEX ON {} (_batch)").format(rows))
    if plan.deleted:
        gone = f'SELECT id FROM "{plan.tables["gone"]}"'
        copy_query_to_table(duck, gone, {}, pg, removed, ["id"])


def _stage_names(plan: TablePlan) -> tuple[sql.Identifier, sql.Identifier]:
    return sql.Identifier(f"sync_rows__{plan.name}"), sql.Identifier(f"sync_gone__{plan.name}")


def remove(pg: psycopg.Cursor[Any], plan: TablePlan, tmap: m.TableMap) -> None:
    """Delete (or mark resolved) the ids the store no longer holds, and forget their state."""
    if not plan.deleted:
        return
    live = sql.Identifier(plan.name)
    _, removed = _stage_names(plan)
    if tmap.on_remove == "resolve":
        pg.execute(
            sql.SQL("UPDATE {} AS t SET resolved = true FROM {} AS r WHERE t.id = r.id").format(
                live, removed
            )
        )
    else:
        pg.execute(
            sql.SQL("DELETE FROM {} AS t USING {} AS r WHERE t.id = r.id").format(live, removed)
        )
    pg.execute(
        sql.SQL('DELETE FROM {} AS s USING {} AS r WHERE s."table" = {} AND s.id = r.id').format(
            sql.Identifier(STATE), removed, sql.Literal(plan.name)
        )
    )


def upsert(pg: psycopg.Cursor[Any], plan: TablePlan) -> None:
    """Insert new rows and overwrite changed ones, batch by batch; record their hashes."""
    if not plan.created + plan.updated:
        return
    live = sql.Identifier(plan.name)
    rows, _ = _stage_names(plan)
    columns = plan.shaped.columns
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
        for c in columns
        if c not in (m.ID, m.CREATED)
    )
    batches = max(1, math.ceil((plan.created + plan.updated) / UPSERT_BATCH))
    statement = sql.SQL(
        "INSERT INTO {live} ({names}) SELECT {names} FROM {rows} WHERE _batch = %s"
        " ON CONFLICT (id) DO UPDATE SET {updates}"
    ).format(live=live, names=names, rows=rows, updates=updates)
    for batch in range(batches):
        pg.execute(statement, [batch])
    pg.execute(
        sql.SQL(
            'INSERT INTO {state} ("table", id, "rowHash") SELECT {name}, id, _row_hash FROM {rows}'
            ' ON CONFLICT ("table", id) DO UPDATE SET "rowHash" = EXCLUDED."rowHash"'
        ).format(state=sql.Identifier(STATE), name=sql.Literal(plan.name), rows=rows)
    )
