"""Weekly delta: only new, changed and removed rows are written, inside the sync's transaction.

New and changed rows are first copied into a temp staging table, then upserted into the
live table in batches (`INSERT ... ON CONFLICT (id) DO UPDATE`, `createdAt` kept); removed
ids are deleted (or, for findings, marked resolved). Readers of the live tables are never
blocked — these statements take row locks only — and see none of it until the commit.
The sync state of each changed table is replaced in the same transaction (`state.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import duckdb
import psycopg
from psycopg import sql

from data_layer.identifiers import ident
from data_layer.pg import mapping as m
from data_layer.pg.plan import TablePlan, diff, rows_query
from data_layer.pg.report import ProgressFactory
from data_layer.pg.transfer import copy_query_to_table, copy_with_progress

#: Rows per upsert statement.
UPSERT_BATCH = 50_000
#: A table's current state (id, _row_hash) as the name of a DuckDB relation.
StateReader = Callable[[str], str]
#: Records a plan's rows held as its table's new state.
StateWriter = Callable[[TablePlan], None]


def write_delta(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    maps: list[m.TableMap],
    plans: Mapping[str, TablePlan],
    have: StateReader,
    save: StateWriter,
    progress: ProgressFactory | None,
) -> None:
    """Stage every table's changes, then delete children first and upsert parents first.

    Only tables with changes get a new state: a run that finds nothing writes no row.
    """
    for tmap in maps:
        stage_changes(pg, duck, plans[tmap.table], have, progress)
    for tmap in reversed(maps):
        remove(pg, plans[tmap.table], tmap)
    for tmap in maps:
        plan = plans[tmap.table]
        upsert(pg, plan)
        if plan.created or plan.updated or plan.deleted:
            save(plan)


def stage_changes(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    have: StateReader,
    progress: ProgressFactory | None,
) -> None:
    """Compare with the state Postgres holds; copy new and changed rows, and removed ids,
    into temp tables dropped at commit."""
    diff(duck, plan, have(plan.name))
    rows, removed = _stage_names(plan)
    if plan.created + plan.updated:
        pg.execute(
            sql.SQL(
                "CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS, _batch integer) ON COMMIT DROP"
            ).format(rows, sql.Identifier(plan.name))
        )
        query, params = rows_query(plan, only=plan.tables["send"])
        batches = _batches(plan)
        staged = f"SELECT *, CAST(hash(id) % {batches} AS INTEGER) AS _batch FROM ({query})"
        columns = [*plan.shaped.columns, "_batch"]
        total = plan.created + plan.updated
        copy_with_progress(duck, staged, params, pg, rows, columns, plan.name, total, progress)
        pg.execute(sql.SQL("CREATE INDEX ON {} (_batch)").format(rows))
    if plan.deleted:
        pg.execute(sql.SQL("CREATE TEMP TABLE {} (id text) ON COMMIT DROP").format(removed))
        gone = f"SELECT id FROM {ident(plan.tables['gone'])}"
        copy_query_to_table(duck, gone, {}, pg, removed, ["id"])


def _stage_names(plan: TablePlan) -> tuple[sql.Identifier, sql.Identifier]:
    return sql.Identifier(f"sync_rows__{plan.name}"), sql.Identifier(f"sync_gone__{plan.name}")


def _batches(plan: TablePlan) -> int:
    return max(1, math.ceil((plan.created + plan.updated) / UPSERT_BATCH))


def remove(pg: psycopg.Cursor[Any], plan: TablePlan, tmap: m.TableMap) -> None:
    """Delete (or mark resolved) the ids the store no longer holds."""
    if not plan.deleted:
        return
    live = sql.Identifier(plan.name)
    _, removed = _stage_names(plan)
    if tmap.on_remove == "resolve":
        statement = "UPDATE {} AS t SET resolved = true FROM {} AS r WHERE t.id = r.id"
    else:
        statement = "DELETE FROM {} AS t USING {} AS r WHERE t.id = r.id"
    pg.execute(sql.SQL(statement).format(live, removed))


def upsert(pg: psycopg.Cursor[Any], plan: TablePlan) -> None:
    """Insert new rows and overwrite changed ones (keeping `createdAt`), batch by batch."""
    if not plan.created + plan.updated:
        return
    rows, _ = _stage_names(plan)
    columns = plan.shaped.columns
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
        for c in columns
        if c not in (m.ID, m.CREATED)
    )
    statement = sql.SQL(
        "INSERT INTO {live} ({names}) SELECT {names} FROM {rows} WHERE _batch = %s"
        " ON CONFLICT (id) DO UPDATE SET {updates}"
    ).format(live=sql.Identifier(plan.name), names=names, rows=rows, updates=updates)
    for batch in range(_batches(plan)):
        pg.execute(statement, [batch])
