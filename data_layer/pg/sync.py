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
import tempfile
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
from data_layer.pg import changes, findings, importlog, shadow, state
from data_layer.pg import mapping as m
from data_layer.pg.ids import canary_sql
from data_layer.pg.migrate import head_revision
from data_layer.pg.plan import Parent, TablePlan, looked_up, plan_table, references
from data_layer.pg.report import ProgressFactory, SyncReport, TableReport
from data_layer.pg.schema import EXTERNAL_TABLES, VERSION_TABLE, metadata
from data_layer.pg.shaping import shape_table, table_key
from data_layer.pg.transfer import copy_table_to_duckdb
from data_layer.pg.urls import libpq_url, redact, scrub

log = logging.getLogger(__name__)

#: The session-level advisory lock one sync holds per database ("SWSYNC").
ADVISORY_LOCK = 0x535753594E43
FULL, DELTA = "full", "delta"
_EXPECTED = (psycopg.Error, duckdb.Error, OSError, StormwaterError)


@dataclass
class _Run:
    """One sync's inputs, shared by its steps; `workdir` holds its temporary files."""

    store: StoreConnection
    duck: duckdb.DuckDBPyConnection
    pg_url: str
    maps: list[m.TableMap]
    full: bool
    now: dt.datetime
    progress: ProgressFactory | None
    workdir: Path

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
) -> SyncReport:
    """Bring Postgres in line with the store's current versions and `links`, in one commit.

    `links`: the current link set (matching's LINK_SCHEMA); None leaves `facility_links`
    as it is. `full`: rebuild every table instead of writing the delta.
    """
    started = time.perf_counter()
    for name in m.SOURCE_DATASETS:  # an empty store must never empty Postgres
        store.store.require_version(name)
    maps = [t for t in m.TABLE_MAPS if links is not None or t is not m.FACILITY_LINKS]
    duck = store.cursor()
    try:
        if links is not None:
            duck.register(m.LINKS_RELATION, links)
        with tempfile.TemporaryDirectory(prefix="stormwater-sync-") as workdir:
            run = _Run(store, duck, pg_url, maps, full, _now(), progress, Path(workdir))
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
            report = _transaction(run, ids)
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
    report.target = target
    return report


def _transaction(run: _Run, ids: dict[str, str]) -> SyncReport:
    """The sync's one transaction: plan in DuckDB, write, record, swap, commit."""
    with _connect(run.pg_url, "stormwater-sync", autocommit=False) as conn, conn.transaction():
        pg = conn.cursor()
        pg.execute("SET LOCAL lock_timeout = '60s'")
        pg.execute("SET LOCAL maintenance_work_mem = '256MB'")
        live_schema = pg.execute("SELECT current_schema()").fetchall()[0][0]
        canary = run.duck.execute(canary_sql()).fetchall()[0][0]
        stored = state.stored(pg)
        mode, reason = _mode(stored, canary, run.full)
        plans = _plan_all(pg, run)

        def have(table: str) -> str:
            return state.read(pg, run.duck, table, run.workdir)

        def base(plan: TablePlan) -> None:
            state.write_base(pg, run.duck, plan, canary, run.workdir)

        def patch(plan: TablePlan) -> None:
            state.write_patch(pg, run.duck, plan, canary, run.workdir, stored.get(plan.name))

        report = SyncReport("", mode, reason)
        if mode == FULL:
            report.lock_wait = shadow.write_full(
                pg, run.duck, run.maps, plans, live_schema, have, base, run.progress
            )
        else:
            changes.write_delta(pg, run.duck, run.maps, plans, have, patch, run.progress)
        importlog.complete(pg, ids, plans, _now(), f"{mode} sync; {run.versions}")
    report.tables = [_table_report(plans[t.table]) for t in run.maps]
    report.findings = plans[m.DATA_QUALITY_ISSUES.table].held
    return report


def _mode(stored: dict[str, state.TableState], canary: int, full: bool) -> tuple[str, str]:
    """Full or delta, and why: a first sync, or a DuckDB whose hashes differ, is full."""
    if full:
        return FULL, "asked for"
    if not stored:
        return FULL, "first sync"
    if any(s.canary != canary for s in stored.values()):
        return FULL, "content hashes of this DuckDB differ from the last sync's"
    return DELTA, "changes only"


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
