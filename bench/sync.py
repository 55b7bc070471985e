"""The PostgreSQL sync against a bare COPY of the same rows plus their indexes (DESIGN §9).

On a throwaway database per run (on `$STORMWATER_PG_URL`'s server, else the local one):
the initial sync of every table, monitoring samples included, beside a bare baseline
measured in the same run — the same rows (dumped from the synced database) copied from
CSV files into plain tables, then given the same keys and indexes; a weekly delta with
1 % of the source rows changed (a second store refreshed from a copy of the source with
those rows edited; deltas alternate between the two stores); peak memory; and the size
of the tables in Postgres beside the store's Parquet. Every database made is dropped.

Downtime is what a reader sees: another connection reads each table in turn, as the web
app would, while the migration, the initial sync, a full re-sync and the weekly delta run;
its longest single wait is set beside its longest wait over the same time with nothing
running.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.measure import measure_code
from bench.queries import ensure_store
from data_layer.datasets import DATASETS, NULL_TOKENS
from data_layer.pg.mapping import FACILITY_LINKS, TABLE_MAPS
from data_layer.pg.migrate import migrate
from data_layer.settings import Settings
from data_layer.store import Store, store_at

log = logging.getLogger(__name__)

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The tables a sync writes from the store, in load order (facility_links needs decisions).
LOADED = tuple(t.table for t in TABLE_MAPS if t is not FACILITY_LINKS)
#: Per SMARTS export, the column edited in 1 % of rows for the weekly delta, and how.
WEEKLY_EDITS = {
    "industrial_facilities": ("FACILITY_NAME", "text"),
    "construction_facilities": ("SITE_NAME", "text"),
    "violations": ("DESCRIPTION", "text"),
    "enforcement_actions": ("DESCRIPTION", "text"),
    "inspections": ("GENERAL_NOTES", "text"),
    "industrial_monitoring": ("RESULT", "number"),
    "construction_monitoring": ("RESULT", "number"),
}
CHANGED_SHARE = 100  # one row in this many
#: The eSMR rows the stand-in platform table holds while the migration runs.
ESMR_ROWS = 1000
#: Seconds a reader rests between rounds of reads.
PAUSE = 0.02

SYNC = """
from data_layer.connection import open_store
from data_layer.pg.sync import sync
sync(open_store({store!r}), {url!r}, full={full!r})
"""

#: The platform's table the migration's foreign key points at (a stand-in, empty).
ESMR_FACILITIES = (
    'CREATE TABLE esmr_facilities ("facilityPlaceId" integer PRIMARY KEY, "facilityName" text)'
)

#: The baseline: plain tables in schema `bare`, each filled by COPY from the dumped CSV,
#: then given the same primary key, unique key, indexes and foreign keys as ours.
BARE = """
import json, psycopg
from psycopg import sql
from sqlalchemy import ForeignKeyConstraint, MetaData
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import AddConstraint, CreateIndex
from data_layer.pg.schema import metadata
files = json.loads({files!r})
bare = MetaData()
with psycopg.connect({url!r}, autocommit=True) as conn:
    cur = conn.cursor()
    cur.execute("SET maintenance_work_mem = '256MB'")
    cur.execute("CREATE SCHEMA bare")
    for name, path in files.items():
        table = metadata.tables[name].to_metadata(bare, schema="bare")
        cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)
        target = sql.Identifier("bare", name)
        cur.execute(sql.SQL("CREATE TABLE {{}} (LIKE {{}})").format(target, sql.Identifier(name)))
        copy_in = sql.SQL("COPY {{}} ({{}}) FROM STDIN (FORMAT csv)").format(target, cols)
        with cur.copy(copy_in) as copy, open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        ddl = [AddConstraint(table.primary_key)]
        ddl += [AddConstraint(c) for c in table.constraints
                if c is not table.primary_key and not isinstance(c, ForeignKeyConstraint)]
        ddl += [CreateIndex(i) for i in table.indexes]
        ddl += [AddConstraint(c) for c in table.foreign_key_constraints]
        for statement in ddl:
            cur.execute(str(statement.compile(dialect=postgresql.dialect())))
"""


def _server(settings: Settings) -> str:
    return settings.pg_url or LOCAL_SERVER


@contextmanager
def _databases(server: str) -> Iterator[list[str]]:
    """Throwaway database URLs on `server`, all dropped on the way out."""
    made: list[str] = []
    try:
        yield made
    finally:
        for url in list(made):
            _drop(server, url, made)


def _new_database(server: str, made: list[str]) -> str:
    name = f"sw_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    made.append(url)
    with psycopg.connect(url) as conn:
        conn.execute(ESMR_FACILITIES)
        conn.execute(
            "INSERT INTO esmr_facilities SELECT i, 'Plant ' || i FROM generate_series(1, %s) i",
            [ESMR_ROWS],
        )
    return url


class Reader:
    """Another connection reading each table in turn for as long as it runs.

    Each read is what the web app's lightest query on that table would need: the table's
    lock and one row. A read waits only while a lock that excludes readers is held, so
    its longest wait is the downtime a reader saw.
    """

    def __init__(self, url: str, tables: Sequence[str]) -> None:
        self.url, self.tables = url, tables
        self.waits: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        queries = [
            sql.SQL("SELECT * FROM {} LIMIT 1").format(sql.Identifier(t)) for t in self.tables
        ]
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                for query in queries:
                    start = time.perf_counter()
                    conn.execute(query).fetchall()
                    self.waits.append(time.perf_counter() - start)
                self._stop.wait(PAUSE)  # a web app's pace, not a load of its own

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def longest_ms(self) -> float:
        return max(self.waits, default=0.0) * 1000


def _watched(url: str, tables: Sequence[str], work: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run `work` under a reader; its result, the reader's longest wait, and the longest
    wait of the same reader over as long again with nothing running (ms)."""
    with Reader(url, tables) as busy:
        start = time.perf_counter()
        result = work()
        took = time.perf_counter() - start
    with Reader(url, tables) as idle:
        time.sleep(min(took, 10.0))
    return result, busy.longest_ms, idle.longest_ms


def sync_benchmarks(
    workdir: Path, scale: float, repeat: int, settings: Settings
) -> Iterator[dict[str, Any]]:
    """Initial sync vs bare COPY + indexes, weekly 1 % delta, memory and size on disk."""
    from bench.runner import _row

    store = ensure_store(workdir, scale, settings)
    week = ensure_week_store(workdir, scale, store, settings)
    server = _server(settings)
    dumps = workdir / "sync_rows"
    readers: dict[str, list[tuple[float, float]]] = {}

    def watched(phase: str, url: str, tables: Sequence[str], work: Callable[[], Any]) -> Any:
        result, busy, idle = _watched(url, tables, work)
        readers.setdefault(phase, []).append((busy, idle))
        return result

    with _databases(server) as made:
        ours, bare, files, synced = [], [], {}, ""
        for _ in range(repeat):
            if synced:
                _drop(server, synced, made)
            synced = _new_database(server, made)
            watched("migrate", synced, ["esmr_facilities"], partial(migrate, synced))
            full = SYNC.format(store=str(store.root), url=synced, full=True)
            ours.append(watched("sync_initial", synced, LOADED, partial(measure_code, full)))
            files = files or _dump_rows(synced, dumps)
            baseline = _new_database(server, made)
            migrate(baseline)
            bare.append(measure_code(BARE.format(files=json.dumps(files), url=baseline)))
            _drop(server, baseline, made)
        shutil.rmtree(dumps, ignore_errors=True)
        med = {k: statistics.median(r[k] for r in ours) for k in ("seconds", "peak_mb")}
        base = {k: statistics.median(r[k] for r in bare) for k in ("seconds", "peak_mb")}
        yield _row("sync_initial_s", med["seconds"], "s", scale, base["seconds"])
        yield _row("sync_initial_peak_memory_mb", med["peak_mb"], "MB", scale, base["peak_mb"])
        yield _row("sync_initial_rows_per_s", _count_rows(synced) / med["seconds"], "rows/s", scale)
        size = _pg_size(synced) / 2**20
        yield _row("postgres_size_mb", size, "MB", scale, _store_size(store) / 2**20)
        deltas = []
        for i in range(repeat):  # alternate: a week's changes, then back again
            target = week if i % 2 == 0 else store
            code = SYNC.format(store=str(target.root), url=synced, full=False)
            deltas.append(watched("sync_weekly_delta", synced, LOADED, partial(measure_code, code)))
        for key, name, unit in (
            ("seconds", "sync_weekly_delta_s", "s"),
            ("peak_mb", "sync_weekly_delta_peak_memory_mb", "MB"),
        ):
            yield _row(name, statistics.median(d[key] for d in deltas), unit, scale)
        resync = SYNC.format(store=str(store.root), url=synced, full=True)
        for _ in range(repeat):
            watched("sync_full_again", synced, LOADED, partial(measure_code, resync))
        for phase, waits in readers.items():
            busy = statistics.median(b for b, _ in waits)
            idle = statistics.median(i for _, i in waits)
            yield _row(f"reader_longest_wait_{phase}_ms", busy, "ms", scale, idle)


def _drop(server: str, url: str, made: list[str]) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        name = make_url(url).database
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    made.remove(url)


def _dump_rows(url: str, out: Path) -> dict[str, str]:
    """Each loaded table's rows as a CSV file: exactly what the sync wrote."""
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    with psycopg.connect(url) as conn:
        cur = conn.cursor()
        for name in LOADED:
            path = out / f"{name}.csv"
            copy_out = sql.SQL("COPY {} TO STDOUT (FORMAT csv)").format(sql.Identifier(name))
            with path.open("wb") as f, cur.copy(copy_out) as copy:
                for block in copy:
                    f.write(block)
            files[name] = str(path)
    return files


def _count_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return sum(
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchall()[
                0
            ][0]
            for t in LOADED
        )


def _pg_size(url: str) -> int:
    """Bytes on disk of the loaded tables with their indexes and TOAST."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT sum(pg_total_relation_size(to_regclass(t)))::bigint FROM unnest(%s::text[]) t",
            [list(LOADED)],
        ).fetchall()[0][0]


def _store_size(store: Store) -> int:
    """Bytes of Parquet in the current versions of the SMARTS datasets (what is synced)."""
    return sum(
        Path(f).stat().st_size
        for ds in DATASETS
        if ds.name in WEEKLY_EDITS and store.current_version(ds.name)
        for f in store.data_files(ds.name)
    )


def ensure_week_store(workdir: Path, scale: float, store: Store, settings: Settings) -> Store:
    """The store a week later: a copy refreshed from the source with 1 % of rows edited.

    The refresh runs in its own process, so this one stays small and the peak memory
    measured in the processes it starts is theirs alone.
    """
    from bench.runner import REFRESH, ensure_source

    week = store_at(workdir / "store-week")
    if all(week.current_version(n) for n in WEEKLY_EDITS):
        return week
    source, _ = ensure_source(workdir, scale, settings)
    edited = workdir / "source-week"
    shutil.rmtree(edited, ignore_errors=True)
    shutil.copytree(source, edited)
    _edit_one_percent(edited)
    shutil.rmtree(week.root, ignore_errors=True)
    shutil.copytree(store.root, week.root)
    code = REFRESH.format(
        store=str(week.root),
        source=str(edited),
        years=list(settings.esmr_years),
        memory=settings.memory_limit,
    )
    measure_code(code)
    return week


def _edit_one_percent(source: Path) -> None:
    """Edit one line in a hundred of each SMARTS export and re-date its package entry.

    Lines are edited as text, never re-parsed and re-written, so every other byte of the
    export stays as the loader saw it; only plain lines (no quotes, not inside a quoted
    value) are candidates.
    """
    package_path = source / "package.json"
    package = json.loads(package_path.read_text())
    for res in package["result"]["resources"]:
        path = source / res["url"]
        if path.stem in WEEKLY_EDITS:
            _edit_lines(path, *WEEKLY_EDITS[path.stem])
            res["size"] = path.stat().st_size
            res["last_modified"] = "2030-01-07T06:00:00.000000"
    package_path.write_text(json.dumps(package, indent=1))


def _edit_lines(path: Path, column: str, kind: str) -> None:
    """Edit `column` on every n-th editable line, n chosen so one line in a hundred changes."""
    lines, editable = 0, 0
    for _, fields in _plain_lines(path, column, kind):
        lines += 1
        editable += fields is not None
    stride = max(1, editable * CHANGED_SHARE // max(lines, 1))
    edited, seen = path.with_suffix(".edited"), 0
    with edited.open("w", encoding="utf-8", newline="") as out:
        for line, fields in _plain_lines(path, column, kind, out):
            if fields is not None:
                seen += 1
                if seen % stride == 0:
                    at, values = fields
                    values[at] = "1.2345" if kind == "number" else f"changed {values[at]}"
                    line = ",".join(values) + line[len(line.rstrip("\r\n")) :]
            out.write(line)
    edited.replace(path)


def _plain_lines(
    path: Path, column: str, kind: str, out: Any = None
) -> Iterator[tuple[str, tuple[int, list[str]] | None]]:
    """Each data line, with its fields when it may be edited as text: no quotes, not inside
    a quoted value, and (for a number) a value to change (a non-detect has none)."""
    with path.open(encoding="utf-8", newline="") as src:
        header = src.readline()
        if out is not None:
            out.write(header)
        at = header.lstrip("\ufeff").rstrip("\r\n").split(",").index(column)
        inside = False
        for line in src:
            quotes = line.count('"')
            values = line.rstrip("\r\n").split(",") if not inside and quotes == 0 else []
            ok = bool(values) and (kind == "text" or values[at] not in NULL_TOKENS)
            inside ^= quotes % 2 == 1
            yield line, (at, values) if ok else None
