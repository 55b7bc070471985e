"""The sync state: for each table, the id and content hash of every row the sync left there.

It lives in `smarts_sync_state`, written in the sync's own transaction so it always describes
what Postgres holds. Each table's state is a base — one zstd Parquet file (id, _row_hash),
written by a full sync — and the patches weekly syncs laid on it: small Parquet files of
the ids written or removed since (id, _row_hash, _gone, layer). Reading applies the patches
in order; once they describe more than a tenth of the base, the next write replaces them all
with a new base. Files are stored as `bytea` parts of at most `PART_BYTES`: 8 million
hashes take about 200 MB in a few rows, where a row per hash would take 1.8 GB and a
10-million-row index to build on every full load. Every part records the hash canary of the
DuckDB that wrote it (`ids.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import sql

from data_layer.identifiers import ident, literal, literal_list
from data_layer.pg.plan import TablePlan
from data_layer.pg.schema import smarts_sync_state

STATE = sql.Identifier(smarts_sync_state.name)
#: Bytes per `bytea` part (well under Postgres's 1 GB limit, and what is held in memory).
PART_BYTES = 32 << 20
#: Patches may describe up to this share of the base's rows before a new base is written.
PATCH_SHARE = 0.1
BASE = 0


@dataclass(frozen=True)
class TableState:
    """One table's state as stored: rows in its base and patches, last layer, canary."""

    base_rows: int
    patch_rows: int
    last_layer: int
    canary: int


def stored(pg: psycopg.Cursor[Any]) -> dict[str, TableState]:
    """The tables that have a state, and what it holds."""
    rows = pg.execute(
        sql.SQL(
            'SELECT "table", coalesce(max(rows) FILTER (WHERE layer = 0), 0),'
            " coalesce(sum(rows) FILTER (WHERE layer > 0 AND part = 0), 0), max(layer),"
            ' max("hashCanary") FROM {} GROUP BY 1'
        ).format(STATE)
    ).fetchall()
    return {t: TableState(int(b), int(p), int(last), int(c)) for t, b, p, last, c in rows}


def read(
    pg: psycopg.Cursor[Any], duck: duckdb.DuckDBPyConnection, table: str, workdir: Path
) -> str:
    """`table`'s state as a DuckDB temp view (id, _row_hash), empty if it has none; its name."""
    name = f"sync_have__{table}"
    files = _fetch(pg, table, workdir)
    base = files.pop(BASE, None)
    if base is None:
        source = "SELECT CAST(NULL AS VARCHAR) AS id, CAST(NULL AS BIGINT) AS _row_hash LIMIT 0"
    elif not files:
        source = f"SELECT id, _row_hash FROM read_parquet({literal(str(base))})"
    else:
        latest = f"sync_patched__{table}"
        duck.execute(
            f"CREATE OR REPLACE TEMP TABLE {ident(latest)} AS SELECT * FROM read_parquet("
            f"{literal_list(str(f) for f in files.values())}) QUALIFY row_number() OVER"
            " (PARTITION BY id ORDER BY layer DESC) = 1"
        )
        source = (
            f"SELECT b.id, b._row_hash FROM read_parquet({literal(str(base))}) AS b"
            f" ANTI JOIN {ident(latest)} AS p ON b.id = p.id"
            f" UNION ALL SELECT id, _row_hash FROM {ident(latest)} WHERE NOT _gone"
        )
    duck.execute(f"CREATE OR REPLACE TEMP VIEW {ident(name)} AS {source}")
    return name


def _fetch(pg: psycopg.Cursor[Any], table: str, workdir: Path) -> dict[int, Path]:
    """Each stored layer of `table` reassembled into a file; layer → path."""
    files: dict[int, Path] = {}
    cur = pg.execute(
        sql.SQL('SELECT layer, data FROM {} WHERE "table" = %s ORDER BY layer, part').format(STATE),
        [table],
        binary=True,
    )
    out = None
    try:
        for layer, data in cur:
            if layer not in files:
                if out is not None:
                    out.close()
                files[layer] = workdir / f"have-{table}-{layer}.parquet"
                out = files[layer].open("wb")
            out.write(data)
    finally:
        if out is not None:
            out.close()
    return files


def write_base(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    canary: int,
    workdir: Path,
) -> None:
    """Replace `plan`'s table state with a base of every row it holds now."""
    pg.execute(sql.SQL('DELETE FROM {} WHERE "table" = %s').format(STATE), [plan.name])
    query = f"SELECT id, _row_hash FROM {ident(plan.tables['hold'])}"
    _store(pg, duck, plan.name, BASE, query, canary, workdir)


def write_patch(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    canary: int,
    workdir: Path,
    before: TableState | None,
) -> None:
    """Lay the ids `plan` wrote or removed on `before`, or write a new base when due."""
    changed = plan.created + plan.updated + plan.deleted
    if before is None or before.patch_rows + changed > PATCH_SHARE * before.base_rows:
        write_base(pg, duck, plan, canary, workdir)
        return
    layer = before.last_layer + 1
    query = (
        f"SELECT id, _row_hash, false AS _gone, {layer} AS layer FROM"
        f" {ident(plan.tables['send'])} UNION ALL SELECT id, NULL, true, {layer}"
        f" FROM {ident(plan.tables['gone'])}"
    )
    _store(pg, duck, plan.name, layer, query, canary, workdir)


def _store(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    table: str,
    layer: int,
    query: str,
    canary: int,
    workdir: Path,
) -> None:
    """The rows of DuckDB `query` as one Parquet file in `bytea` parts of one layer."""
    path = workdir / f"hold-{table}-{layer}.parquet"
    copied = duck.execute(
        f"COPY ({query}) TO {literal(str(path))} (FORMAT parquet, COMPRESSION zstd)"
    )
    rows = copied.fetchall()[0][0]  # COPY answers with the number of rows it wrote
    insert = sql.SQL(
        'INSERT INTO {} ("table", layer, part, rows, "hashCanary", data)'
        " VALUES (%s, %s, %s, %s, %s, %b)"
    ).format(STATE)
    for part, data in enumerate(_parts(path)):
        pg.execute(insert, [table, layer, part, rows, canary, data])
    path.unlink()


def _parts(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while data := f.read(PART_BYTES):
            yield data
