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
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import psycopg
from psycopg import sql

from data_layer.connection import StoreConnection
from data_layer.errors import PostgresError, StormwaterError
from data_layer.pg import changes, findings, importlog, shadow
from data_layer.pg import mapping as m
from data_layer.pg.ids import canary_sql
from data_layer.pg.migrate import head_revision
from data_layer.pg.plan import Parent, TablePlan, looked_up, plan_table, references
from data_layer.pg.report import ProgressFactory, SyncReport, TableReport
from data_layer.pg.schema import EXTERNAL_TABLES, VERSION_TABLE, metadata, smarts_sync_state
from data_layer.pg.shaping import shape_table, table_key
from data_layer.pg.statecache import GENERATION_KEY, StateCache
from data_layer.pg.transfer import copy_table_to_duckdb
from data_layer.pg.urls import libpq_url, redact, scrub

log = logging.getLogger(__name__)

#: The session-level advisory lock one sync holds per database ("SWSYNC").
ADVISORY_LOCK = 0x535753594E43
#: The sync-state row holding the content-hash canary (`ids.py`).
CANARY_KEY = (changes.SYNC_TABLE, "hash_canary")
STATE = sql.Identifier(smarts_sync_state.name)
FULL, DELTA = "full", "delta"
_EXPECTED = (psycopg.Error, duckdb.Error, OSError, StormwaterError)


@dataclass
class _Run:
    """One sync's inputs, shared by its steps."""

    store: StoreConnection
    duck: duckdb.DuckDBPyConnection
    pg_url: str
    maps: list[m.TableMap]
    full: bool
    now: dt.datetime
    progress: ProgressFactory | None
    cache_dir: Path | None
    cache: StateCache | None = None
    generation: int = 0

    @property
    def versions(self) -> str:
        return "versions " + ", ".join(f"{k}={v}" for k, v in sorted(self.store.versions.items()))


def sync(
    store: StoreConnection,
    pg_url: str,
    *,
    links: pl.DataFrame | None = None,
    full: bool = False,
    progress: ProgressFactory | None = None,
    cache_dir: Path | None = None,
) -> SyncReport:
    """Bring Postgres in line with the store's current versions and `links`, in one commit.

    `links`: the current link set (matching's LINK_SCHEMA); None leaves `facility_links`
    as it is. `full`: rebuild every table instead of writing the delta. `cache_dir`: where
    to keep a local copy of the sync state (`statecache.py`), None for none.
    """
    started = time.perf_counter()
    for name in m.SOURCE_DATASETS:  # an empty store must never empty Postgres
        store.store.require_version(name)
    maps = [t for t in m.TABLE_MAPS if links is not None or t is not m.FACILITY_LINKS]
    duck = store.cursor()
    try:
        if links is not None:
            duck.register(m.LINKS_RELATION, links)
        run = _Run(store, duck, pg_url, maps, full, _now(), progress, cache_dir)
        report = _logged(run)
    finally:
        duck.close()
    report.seconds = time.perf_counter() - started
    log.info(report.line())
    return report


def _logged(run: _Run) -> SyncReport:
    """The run under the sync lock, with its import-log rows opened and closed."""
    target = redact(run.pg_url)
    log_conn = _connect(run.pg_url, "stormwater-sync-log", autocommit=True)
    try:
        _require_migrated(log_conn)
        _take_lock(log_conn)
        stale = importlog.close_stale(log_conn, run.now)
        if stale:
            log.warning("%d import-log rows of an interrupted sync marked failed", stale)
        ids = importlog.open_run(log_conn, [t.table for t in run.maps], run.now, run.versions)
        try:
            report, holds = _transaction(run, ids)
        except Exception as exc:
            text = str(exc).strip()
            message = scrub(text.splitlines()[0] if text else repr(exc), run.pg_url)
            with contextlib.suppress(psycopg.Error):
                importlog.fail(log_conn, ids, _now(), message)
            if isinstance(exc, _EXPECTED):
                raise PostgresError(f"sync to {target} failed, nothing written: {message}") from exc
            raise
    finally:
        log_conn.close()
    if run.cache is not None:
        run.cache.write(run.duck, holds, run.generation)
    report.target = target
    return report


def _transaction(run: _Run, ids: dict[str, str]) -> tuple[SyncReport, list[tuple[str, str]]]:
    """The sync's one transaction: plan in DuckDB, write, record, swap, commit.

    Returns the report and, per table, the DuckDB relation of its new state (id, hash).
    """
    with _connect(run.pg_url, "stormwater-sync", autocommit=False) as conn, conn.transaction():
        pg = conn.cursor()
        pg.execute("SET LOCAL lock_timeout = '60s'")
        pg.execute("SET LOCAL maintenance_work_mem = '256MB'")
        live_schema = pg.execute("SELECT current_schema()").fetchall()[0][0]
        run.cache = StateCache.for_database(run.cache_dir, pg) if run.cache_dir else None
        mode, reason, canary, stored = _mode(pg, run)
        copy = run.cache.find(stored.get(GENERATION_KEY[1])) if run.cache else None
        plans = _plan_all(pg, run)
        run.generation = secrets.randbits(63)
        sync_rows = {CANARY_KEY[1]: canary, GENERATION_KEY[1]: run.generation}
        have = _state_reader(pg, run, copy)
        # tables not synced this run (no link set given) keep their state as it is
        holds = [(p.name, p.tables["hold"]) for p in plans.values()] + [
            (t.table, have(t.table)) for t in m.TABLE_MAPS if t not in run.maps
        ]
        report = SyncReport("", mode, reason)
        if mode == FULL:
            report.lock_wait = shadow.write_full(
                pg, run.duck, run.maps, plans, live_schema, have, holds, sync_rows, run.progress
            )
        elif not changes.write_delta(pg, run.duck, run.maps, plans, have, sync_rows, run.progress):
            run.generation = stored.get(GENERATION_KEY[1], run.generation)
        importlog.complete(pg, ids, plans, _now(), f"{mode} sync; {run.versions}")
    report.tables = [_table_report(plans[t.table]) for t in run.maps]
    report.findings = plans[m.DATA_QUALITY_ISSUES.table].held
    return report, holds


def _mode(pg: psycopg.Cursor[Any], run: _Run) -> tuple[str, str, int, dict[str, int]]:
    """Full or delta and why, this DuckDB's hash canary, and the sync's rows as stored."""
    canary = run.duck.execute(canary_sql()).fetchall()[0][0]
    stored = dict(
        pg.execute(
            sql.SQL('SELECT id, "rowHash" FROM {} WHERE "table" = %s').format(STATE),
            [changes.SYNC_TABLE],
        ).fetchall()
    )
    if run.full:
        return FULL, "asked for", canary, stored
    if CANARY_KEY[1] not in stored:
        return FULL, "first sync", canary, stored
    if stored[CANARY_KEY[1]] != canary:
        return FULL, "content hashes of this DuckDB differ from the last sync's", canary, stored
    return DELTA, "changes only", canary, stored


def _state_reader(pg: psycopg.Cursor[Any], run: _Run, copy: Path | None) -> changes.StateReader:
    """Where each table's current state is read from: the local copy, else Postgres."""
    if copy is not None and run.cache is not None:
        cache = run.cache
        log.debug("sync state read from the local copy %s", copy)
        return lambda table: cache.view(run.duck, copy, table)
    return lambda table: changes.read_state(pg, run.duck, table)


def _plan_all(pg: psycopg.Cursor[Any], run: _Run) -> dict[str, TablePlan]:
    """Plan every table in order; the findings table last, from what the others found."""
    findings.start_findings(run.duck)
    dates = _source_dates(run.store)
    refs = references(run.maps)
    keep = looked_up(refs)
    plans: dict[str, TablePlan] = {}
    for tmap in run.maps:
        table = metadata.tables[tmap.table]
        if tmap is m.DATA_QUALITY_ISSUES:
            samples = metadata.tables[m.MONITORING_SAMPLES.table]
            findings.add_sample_flags(run.duck, table_key(m.MONITORING_SAMPLES, samples))
            findings.publish_findings(run.duck)
        parents = [_parent(pg, run.duck, plans, ref) for ref in refs[tmap.table]]
        shaped = shape_table(run.duck, tmap, table, dates, run.now)
        plans[tmap.table] = plan_table(run.duck, shaped, parents, keep.get(tmap.table, ()))
        log.debug("planned %s: %d rows held", tmap.table, plans[tmap.table].held)
    return plans


def _parent(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    plans: dict[str, TablePlan],
    ref: m.Reference,
) -> Parent:
    """Where the referenced keys are: a synced parent's held keys, or read from Postgres."""
    if ref.table not in EXTERNAL_TABLES:
        return Parent(ref, plans[ref.table].tables["keys"])
    name = f"sync_keys__{ref.table}"
    table = metadata.tables[ref.table]
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in ref.target), sql.Identifier(ref.table)
    )
    types = {
        c: "INTEGER" if table.columns[c].type.python_type is int else "VARCHAR" for c in ref.target
    }
    copy_table_to_duckdb(pg, query, duck, name, types)
    return Parent(ref, name)


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
    current = None
    if conn.execute("SELECT to_regclass(%s) IS NOT NULL", [VERSION_TABLE]).fetchall()[0][0]:
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
