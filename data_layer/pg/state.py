"""The sync state: for each table, the id and content hash of every row the sync left there.

It lives in `smarts_sync_state`, written in the sync's own transaction so it always describes
what Postgres holds. Each table's state is one zstd Parquet file (DuckDB writes and reads
it), stored as `bytea` parts of at most `PART_BYTES`: 8 million hashes take about 200 MB
and a few dozen rows, read back in a second or two, where one Postgres row per hash would
take 1.8 GB and a 10-million-row index to build on every full load. Each table's state
also records the hash canary of the DuckDB that wrote it (`ids.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import sql

from data_layer.identifiers import ident, literal
from data_layer.pg.schema import smarts_sync_state

STATE = sql.Identifier(smarts_sync_state.name)
#: Bytes per `bytea` part (well under Postgres's 1 GB limit, and what is held in memory).
PART_BYTES = 32 << 20


@dataclass(frozen=True)
class TableState:
    """One table's state as stored: rows described, and the canary of the DuckDB that wrote it."""

    rows: int
    canary: int


def stored(pg: psycopg.Cursor[Any]) -> dict[str, TableState]:
    """Which tables have a state, how many rows it describes, and their canaries."""
    rows = pg.execute(
        sql.SQL('SELECT "table", max(rows), max("hashCanary") FROM {} GROUP BY 1').format(STATE)
    ).fetchall()
    return {table: TableState(int(n), int(canary)) for table, n, canary in rows}


def read(
    pg: psycopg.Cursor[Any], duck: duckdb.DuckDBPyConnection, table: str, workdir: Path
) -> str:
    """`table`'s state as a DuckDB temp view (id, _row_hash), empty if it has none; its name."""
    name = f"sync_have__{table}"
    path = workdir / f"have-{table}.parquet"
    parts = 0
    with path.open("wb") as out:
        cur = pg.execute(
            sql.SQL('SELECT data FROM {} WHERE "table" = %s ORDER BY part').format(STATE),
            [table],
            binary=True,
        )
        for (data,) in cur:
            out.write(data)
            parts += 1
    source = (
        f"SELECT id, _row_hash FROM read_parquet({literal(str(path))})"
        if parts
        else "SELECT * FROM (VALUES (NULL, NULL)) AS t(id, _row_hash) WHERE false"
    )
    duck.execute(
        f"CREATE OR REPLACE TEMP VIEW {ident(name)} AS SELECT CAST(id AS VARCHAR) AS id,"
        f" CAST(_row_hash AS BIGINT) AS _row_hash FROM ({source})"
    )
    return name


def write(
    pg: psycopg.Cursor[Any],
    duck: duckdb.DuckDBPyConnection,
    table: str,
    relation: str,
    canary: int,
    workdir: Path,
) -> None:
    """Replace `table`'s state with the rows of DuckDB `relation` (id, _row_hash)."""
    path = workdir / f"hold-{table}.parquet"
    duck.execute(
        f"COPY (SELECT id, _row_hash FROM {ident(relation)}) TO {literal(str(path))}"
        " (FORMAT parquet, COMPRESSION zstd)"
    )
    rows = duck.execute(f"SELECT count(*) FROM {ident(relation)}").fetchall()[0][0]
    pg.execute(sql.SQL('DELETE FROM {} WHERE "table" = %s').format(STATE), [table])
    insert = sql.SQL(
        'INSERT INTO {} ("table", part, rows, "hashCanary", data) VALUES (%s, %s, %s, %s, %b)'
    ).format(STATE)
    with path.open("rb") as f:
        part = 0
        while data := f.read(PART_BYTES):
            pg.execute(insert, [table, part, rows, canary, data])
            part += 1
    path.unlink()
