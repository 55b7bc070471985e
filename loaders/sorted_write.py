"""Write Parquet parts in key order: DuckDB fetches each part, Arrow sorts and writes it.

Sorting wide rows is where a sorted load spends its time. DuckDB sorts by moving
every payload column through its sort; Arrow sorts only the key columns into an
index and gathers each column once, and parts are fetched, sorted and written on
`workers` threads at once. Memory beyond DuckDB's is one fetched part per worker
plus one row group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: Rows per Parquet row group: small enough that a facility's rows span few of them.
ROW_GROUP_ROWS = 100_000
#: zstd level: DuckDB's default, which Arrow's level 1 would trade for larger files.
ZSTD_LEVEL = 3
#: Parts written at once: each holds one fetched part in memory besides DuckDB's.
WORKERS = 2


@dataclass(frozen=True)
class Part:
    """One Parquet file to write: the query giving its rows and how many there are."""

    target: Path
    select: str
    params: tuple[object, ...] = ()
    rows: int = 0


def sort_and_write(table: pa.Table, sort: Sequence[str], target: Path) -> None:
    """Write `table` to `target` ordered by `sort` (ascending, nulls last).

    Rows are gathered one row group at a time, so the sorted copy never exists whole.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(
        target, table.schema, compression="zstd", compression_level=ZSTD_LEVEL
    ) as writer:
        if not sort:
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            return
        order = pc.sort_indices(table, sort_keys=[(c, "ascending") for c in sort])
        for start in range(0, table.num_rows, ROW_GROUP_ROWS):
            rows = table.take(order.slice(start, ROW_GROUP_ROWS))
            writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)


def _write_part(con: duckdb.DuckDBPyConnection, part: Part, sort: Sequence[str]) -> Part:
    with con.cursor() as cur:
        table = cur.sql(part.select, params=list(part.params)).to_arrow_table()
    sort_and_write(table, sort, part.target)
    return part


def write_sorted(
    con: duckdb.DuckDBPyConnection,
    parts: Sequence[Part],
    sort: Sequence[str],
    workers: int = WORKERS,
    done: Callable[[Part], None] | None = None,
) -> None:
    """Write every part, `workers` at a time, each fetched on its own cursor.

    The queries may read only what `con`'s database holds (tables and views), not
    Python objects registered on `con` itself.
    """
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="sorted-write") as pool:
        futures = [pool.submit(_write_part, con, p, sort) for p in parts]
        try:
            for future in as_completed(futures):
                written = future.result()
                if done is not None:
                    done(written)
        except BaseException:
            for future in futures:  # the version will not be published: stop queued parts
                future.cancel()
            raise
