"""What query functions return: a page of rows with the total, and the error wrapper."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from data_layer.errors import QueryError
from data_layer.query_times import QUERY_TIMES

log = logging.getLogger(__name__)

# `execute` plans a statement once where `sql(...).pl()` plans it twice (about 5 ms per
# dashboard query); its Arrow result is copied once more, which costs little at the sizes
# pages ask for, so DuckDB's advice to use `sql()` instead is silenced here.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


@dataclass(frozen=True)
class Page:
    """One page of a filtered, sorted result and the count of all matching rows."""

    rows: pl.DataFrame
    total: int
    limit: int
    offset: int


def run_query(
    cur: duckdb.DuckDBPyConnection, name: str, sql: str, params: Sequence[Any] = ()
) -> pl.DataFrame:
    """Run one named query with bound parameters; engine errors become QueryError(name)."""
    started = time.perf_counter()
    try:
        frame = pl.from_arrow(cur.execute(sql, list(params)).to_arrow_table())
    except duckdb.Error as exc:
        log.debug("query %s failed: %s\n%s", name, exc, sql)
        raise QueryError(f"query {name!r} failed: {str(exc).splitlines()[0]}") from exc
    elapsed = time.perf_counter() - started
    QUERY_TIMES.record(name, elapsed)
    log.debug("query %s: %d rows in %.1f ms", name, frame.height, 1000 * elapsed)
    return frame


def paged(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    sql: str,
    params: Sequence[Any],
    limit: int,
    offset: int,
    order: str = "",
    materialize: bool = False,
) -> Page:
    """One page of `sql` (no ORDER BY: pass `order`) and the count of all its rows.

    The count is a separate aggregate over the same CTE so the page itself stays a
    cheap top-N; `materialize` computes an expensive CTE once for both.
    """
    cte = "MATERIALIZED " if materialize else ""
    ordering = f" ORDER BY {order}" if order else ""
    frame = run_query(
        cur,
        name,
        f"WITH r AS {cte}({sql}) SELECT *, (SELECT count(*) FROM r) AS _total FROM r"
        f"{ordering} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    total = int(frame["_total"][0]) if frame.height else _count(cur, name, sql, params, offset)
    return Page(frame.drop("_total"), total, limit, offset)


def _count(
    cur: duckdb.DuckDBPyConnection, name: str, sql: str, params: Sequence[Any], offset: int
) -> int:
    if offset == 0:
        return 0
    return int(run_query(cur, name, f"SELECT count(*) AS n FROM ({sql})", params)["n"][0])
