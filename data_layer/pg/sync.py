"""Sync the store (and the facility-link decisions) into the platform's PostgreSQL.

`sync()` is the one entry point (the `sync` and `nightly` commands call it). One run is
one Postgres transaction: readers see the old rows until the commit and the new ones
after it, never a mix, and a run that fails or is killed leaves Postgres as it was.

- A **full** run (the first, `--full`, or after DuckDB's hash function changed) builds
  each table afresh beside the live one and swaps them in at the commit (`shadow.py`).
- A **delta** run compares each row's content hash with the sync state kept in
  Postgres and writes only new, changed and removed rows (`changes.py`); with nothing
  changed it writes no rows at all.

Every run records one `smarts_import_logs` row per table and refreshes
`data_quality_issues`. Only one sync runs against a database at a time (an advisory lock).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import polars as pl
import psycopg
from psycopg import sql

from data_layer.connection import StoreConnection
from data_layer.errors import PostgresError, StormwaterError
from data_layer.identifiers import ident, literal
from data_layer.pg import changes, findings, importlog, shadow
from data_layer.pg import mapping as m
from data_layer.pg.ids import canary_sql
from data_layer.pg.migrate import head_revision
from data_layer.pg.plan import Parent, TablePlan, diff, plan_table, rows_query
from data_layer.pg.schema import (
    EXTERNAL_TABLES,
    VERSION_TABLE,
    metadata,
    smarts_sync_state,
)
from data_layer.pg.shaping import shape_table, table_key
from data_layer.pg.transfer import copy_query_to_table, copy_table_to_duckdb
from data_layer.pg.urls import libpq_url, redact, scrub

log = logging.getLogger(__name__)

#: The session-level advisory lock one sync holds per database ("SWSYNC").
ADVISORY_LOCK = 0x535753594E43
#: The sync-state row holding the content-hash canary (`ids.py`).
CANARY_KEY = ("_sync", "hash_canary")
STATE = sql.Identifier(smarts_sync_state.name)
FULL, DELTA = "full", "delta"


class Progress(Protocol):
    """What the sync reports progress to (loaders.progress.Progress fits)."""

    def advance(self, amount: float) -> None: ...

    def finish(self, note: str = "done") -> None: ...


ProgressFactory = Callable[[str, int | None], Progress]


@dataclass(frozen=True)
class TableReport:
    """One table's counts for a run: rows read, written (new / changed), removed, not written."""

    table: str
    processed: int
    created: int
    updated: int
    deleted: int
    skipped: int
    findings: int

    @property
    def unchanged(self) -> int:
        return self.processed - self.skipped - self.created - self.updated


@dataclass
class SyncReport:
    """What a sync did, for the CLI's one-line summary and the nightly log."""

    target: str
    mode: str
    reason: str
    tables: list[TableReport] = field(default_factory=list)
    findings: int = 0
    seconds: float = 0.0
    lock_wait: float = 0.0

    def total(self, what: str) -> int:
        return sum(getattr(t, what) for t in self.tables)

    def line(self) -> str:
        """One line: target, mode, rows written and why not, findings, time."""
        written = self.total("created") + self.total("updated")
        return (
            f"{self.target}: {self.mode} sync ({self.reason}) — {written:,} rows written"
            f" ({self.total('created'):,} new, {self.total('updated'):,} changed),"
            f" {self.total('deleted'):,} removed, {self.total('unchanged'):,} unchanged,"
            f" {self.total('skipped'):,} not written; {self.findings:,} data-quality findings;"
            f" {self.seconds:.1f} s"
        )


def sync(
    store: StoreConnection,
    pg_url: str,
    *,
    links: pl.DataFrame | None = None,
    full: bool = False,
    progress: ProgressFactory | None = None,
) -> SyncReport:
    """Bring Postgres in line with the store's current versions and `links`, in one commit.

    `links`: the current link set (matching's LINK_SCHEMA); None leaves `facility_links`
    as it is. `full`: rebuild every table instead of writing the delta.
    """
    started, now = time.perf_counter(), _now()
    target = redact(pg_url)
    for name in m.SOURCE_DATASETS:  # an empty store must never empty Postgres
        store.store.require_version(name)
    maps = [t for t in m.TABLE_MAPS if links is not None or t is not m.FACILITY_LINKS]
    log_conn = _connect(pg_url, "stormwater-sync-log", autocommit=True)
    try:
        _require_migrated(log_conn)
        _take_lock(log_conn)
        stale = importlog.close_stale(log_conn, now)
        if stale:
            log.warning("%d import-log rows of an interrupted sync marked failed", stale)
        notes = "versions " + ", ".join(f"{k}={v}" for k, v in sorted(store.versions.items()))
        ids = importlog.open_run(log_conn, [t.table for t in maps], now, notes)
        try:
            report = _run(store, pg_url, maps, links, full, now, progress, ids, notes)
        except Exception as exc:
            message = scrub(
                str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc), pg_url
            )
            with contextlib.suppress(psycopg.Error):
                importlog.fail(log_conn, ids, _now(), message)
            if isinstance(exc, (psycopg.Error, duckdb.Error, OSError, StormwaterError)):
                raise PostgresError(f"sync to {target} failed, nothing written: {message}") from exc
            raise
    finally:
        log_conn.close()
    report.target = target
    report.seconds = time.perf_counter() - started
    log.info(report.line())
    return report


def _run(
    store: StoreConnection,
    pg_url: str,
    maps: list[m.TableMap],
    links: pl.DataFrame | None,
    full: bool,
    now: dt.datetime,
    progress: ProgressFactory | None,
    ids: dict[str, str],
    notes: str,
) -> SyncReport:
    """The sync's one transaction: plan in DuckDB, write, record, swap, commit."""
    duck = store.cursor()
    try:
        with _connect(pg_url, "stormwater-sync", autocommit=False) as conn, conn.transaction():
            pg = conn.cursor()
            pg.execute("SET LOCAL lock_timeout = '60s'")
            pg.execute("SET LOCAL maintenance_work_mem = '256MB'")
            live_schema = pg.execute("SELECT current_schema()").fetchall()[0][0]
            mode, reason, canary = _mode(pg, duck, full)
            if links is not None:
                duck.register(m.LINKS_RELATION, links)
            plans = _plan_all(pg, duck, store, maps, now)
            report = SyncReport("", mode, reason)
            if mode == FULL:
                report.lock_wait = _write_full(pg, duck, maps, plans, live_schema, canary, progress)
            else:
                _write_delta(pg, duck, maps, plans, canary, progress)
            importlog.complete(pg, ids, plans, _now(), f"{mode} sync; {notes}")
            report.tables = [_table_report(plans[t.table]) for t in maps]
            report.findings = plans[m.DATA_QUALITY_ISSUES.table].held
        return report
    finally:
        duck.close()


def _mode(
    pg: psycopg.Cursor[Any], duck: duckdb.DuckDBPyConnection, full: bool
) -> tuple[str, str, int]:
    """Full or delta, why, and this DuckDB's hash canary."""
    canary = duck.execute(canary_sql()).fetchall()[0][0]
    stored = pg.execute(
        sql.SQL('SELECT "rowHash" FROM {} WHERE "table" = %s AND id = %s').format(STATE),
        list(CANARY_KEY),
    ).fetchall()
    if full:
        return FULL, "asked for", canary
    if not stored:
        return FULL, "first sync", canary
    if stored[0][0] != canary:
        return FULL, "content hashes of this DuckDB differ from the last sync's", canary
    return DELTA, "changes only", canary


def _plan_all(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    store: StoreConnection,
    maps: list[m.TableMap],
    now: dt.datetime,
) -> dict[str, TablePlan]:
    """Plan every table in order; the findings table last, from what the others found."""
    findings.start_findings(duck)
    dates = _source_dates(store)
    refs = _parents(maps)
    keep = _referenced(refs)
    plans: dict[str, TablePlan] = {}
    for tmap in maps:
        table = metadata.tables[tmap.table]
        if tmap is m.DATA_QUALITY_ISSUES:
            samples = m.MONITORING_SAMPLES
            key = table_key(samples, metadata.tables[samples.table])
            findings.add_sample_flags(duck, key)
            findings.publish_findings(duck)
        parents = [_parent_keys(pg, duck, plans, *r) for r in refs[tmap.table]]
        shaped = shape_table(duck, tmap, table, dates, now)
        plans[tmap.table] = plan_table(duck, shaped, parents, keep.get(tmap.table, ()))
        log.debug("planned %s: %d rows held", tmap.table, plans[tmap.table].held)
    return plans


def _parents(
    maps: Sequence[m.TableMap],
) -> dict[str, list[tuple[tuple[str, ...], str, tuple[str, ...]]]]:
    """Per table, the rows it refers to: the schema's foreign keys and the mapping's references."""
    refs: dict[str, list[tuple[tuple[str, ...], str, tuple[str, ...]]]] = {}
    for tmap in maps:
        table = metadata.tables[tmap.table]
        found = [
            (
                tuple(fk.column_keys),
                fk.referred_table.name,
                tuple(e.column.name for e in fk.elements),
            )
            for fk in table.foreign_key_constraints
        ]
        found += [(r.columns, r.table, r.target) for r in tmap.references]
        refs[tmap.table] = found
    return refs


def _referenced(
    refs: dict[str, list[tuple[tuple[str, ...], str, tuple[str, ...]]]],
) -> dict[str, tuple[str, ...]]:
    """Per parent table, the columns children look rows up by."""
    keep: dict[str, list[str]] = {}
    for entries in refs.values():
        for _, parent, target in entries:
            cols = keep.setdefault(parent, [])
            cols += [c for c in target if c not in cols]
    return {k: tuple(v) for k, v in keep.items()}


def _parent_keys(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    plans: dict[str, TablePlan],
    columns: tuple[str, ...],
    parent: str,
    target: tuple[str, ...],
) -> Parent:
    """Where the referenced keys are: a synced parent's held keys, or read from Postgres."""
    if parent not in EXTERNAL_TABLES:
        return Parent(columns, parent, target, plans[parent].tables["keys"])
    name = f"sync_keys__{parent}"
    table = metadata.tables[parent]
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in target), sql.Identifier(parent)
    )
    types = {
        c: "INTEGER" if table.columns[c].type.python_type is int else "VARCHAR" for c in target
    }
    copy_table_to_duckdb(pg, query, duck, name, types)
    return Parent(columns, parent, target, name)


def _write_full(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    maps: list[m.TableMap],
    plans: dict[str, TablePlan],
    live_schema: str,
    canary: int,
    progress: ProgressFactory | None,
) -> float:
    """Shadow tables filled and indexed, row-by-row tables updated, then the swap."""
    swapped = [t for t in maps if t.swap]
    shadows = shadow.shadow_tables(
        [metadata.tables[t.table] for t in swapped] + [smarts_sync_state]
    )
    for tmap in swapped:
        plan = plans[tmap.table]
        target = shadow.create_shadow(pg, live_schema, metadata.tables[tmap.table])
        query, params = rows_query(plan)
        _copy(pg, duck, plan.name, query, params, target, plan.shaped.columns, plan.held, progress)
        shadow.finish_shadow(pg, live_schema, shadows[tmap.table])
        plan.created = plan.held
    for tmap in maps:
        if not tmap.swap:
            _delta_table(pg, duck, tmap, plans[tmap.table], progress)
    state = shadow.create_shadow(pg, live_schema, smarts_sync_state)
    query = " UNION ALL ".join(
        f"SELECT {literal(p.name)}, id, _row_hash FROM {ident(p.tables['hold'])}"
        for p in plans.values()
    )
    query += f" UNION ALL SELECT {literal(CANARY_KEY[0])}, {literal(CANARY_KEY[1])}, $canary"
    held = sum(p.held for p in plans.values())
    _copy(
        pg,
        duck,
        "sync state",
        query,
        {"canary": canary},
        state,
        ["table", "id", "rowHash"],
        held,
        progress,
    )
    shadow.finish_shadow(pg, live_schema, shadows[smarts_sync_state.name])
    for tmap in maps:
        if not tmap.swap:
            changes.remove(pg, plans[tmap.table], tmap)
            changes.upsert(pg, plans[tmap.table])
    return shadow.swap(pg, live_schema, [t.table for t in swapped] + [smarts_sync_state.name])


def _write_delta(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    maps: list[m.TableMap],
    plans: dict[str, TablePlan],
    canary: int,
    progress: ProgressFactory | None,
) -> None:
    """Stage every table's changes, then delete children-first and upsert parents-first."""
    for tmap in maps:
        _delta_table(pg, duck, tmap, plans[tmap.table], progress)
    for tmap in reversed(maps):
        changes.remove(pg, plans[tmap.table], tmap)
    for tmap in maps:
        changes.upsert(pg, plans[tmap.table])
    pg.execute(
        sql.SQL(
            'INSERT INTO {} ("table", id, "rowHash") VALUES (%s, %s, %s)'
            ' ON CONFLICT ("table", id) DO UPDATE SET "rowHash" = EXCLUDED."rowHash"'
        ).format(STATE),
        [*CANARY_KEY, canary],
    )


def _delta_table(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    tmap: m.TableMap,
    plan: TablePlan,
    progress: ProgressFactory | None,
) -> None:
    """Compare with Postgres's state and stage the table's changes."""
    diff(duck, plan, changes.read_state(pg, duck, tmap.table))
    report = progress(plan.name, plan.created + plan.updated) if progress else None
    changes.stage(pg, duck, plan, report.advance if report else None)
    if report:
        report.finish()


def _copy(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    label: str,
    query: str,
    params: dict[str, Any],
    target: sql.Composable,
    columns: Sequence[str],
    total: int,
    progress: ProgressFactory | None,
) -> int:
    report = progress(label, total) if progress else None
    rows = copy_query_to_table(
        duck, query, params, pg, target, columns, report.advance if report else None, freeze=True
    )
    if report:
        report.finish()
    return rows


def _table_report(plan: TablePlan) -> TableReport:
    return TableReport(
        plan.name,
        plan.rows_in,
        plan.created,
        plan.updated,
        plan.deleted,
        plan.skipped,
        plan.findings,
    )


def _source_dates(store: StoreConnection) -> dict[str, dt.datetime | None]:
    """When each dataset's current export was last modified (from its version's manifest)."""
    dates: dict[str, dt.datetime | None] = {}
    for name, version in store.versions.items():
        raw = store.store.manifest(name, version).get("source_modified")
        dates[name] = dt.datetime.fromisoformat(raw).replace(tzinfo=None) if raw else None
    return dates


def _now() -> dt.datetime:
    """This moment in UTC, to the millisecond (Prisma's timestamp(3))."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _connect(pg_url: str, name: str, autocommit: bool) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(
            libpq_url(pg_url), autocommit=autocommit, application_name=name, connect_timeout=10
        )
    except psycopg.Error as exc:
        detail = scrub(str(exc).strip().splitlines()[0], pg_url)
        raise PostgresError(f"cannot connect to {redact(pg_url)}: {detail}") from exc


def _require_migrated(conn: psycopg.Connection[Any]) -> None:
    """The SMARTS tables are at the migration's head, or a one-line error says what to run."""
    head = head_revision()
    found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [VERSION_TABLE]).fetchall()[0][0]
    current = None
    if found:
        rows = conn.execute(
            sql.SQL("SELECT version_num FROM {}").format(sql.Identifier(VERSION_TABLE))
        ).fetchall()
        current = rows[0][0] if rows else None
    if current != head:
        raise PostgresError(
            f"the SMARTS tables are at revision {current or 'none'}, not {head}"
            " — run `python cli.py migrate` first"
        )


def _take_lock(conn: psycopg.Connection[Any]) -> None:
    got = conn.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK]).fetchall()[0][0]
    if not got:
        raise PostgresError("another sync is running against this database; try again later")
