"""Rows between DuckDB and PostgreSQL with COPY, streamed; rows never become Python objects.

Out: DuckDB writes the query's result as CSV (its own parallel writer) into a pipe, and the
bytes go on into psycopg's `cursor.copy()` a megabyte at a time, so DuckDB and Postgres work
at once. Where the system has no `/dev/fd` (Windows), Arrow batches are written as CSV by
Arrow instead, one batch in memory at a time. In: `COPY ... TO STDOUT` goes to a temporary
CSV file that DuckDB reads into a temp table. CSV keeps NULL (an empty field) apart from the
empty string (`""`); quotes, backslashes, tabs, newlines and `\\N` travel as plain text.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pyarrow.csv as pacsv
from psycopg import sql

from data_layer.identifiers import ident, literal
from data_layer.pg.report import ProgressFactory

#: Rows per Arrow batch: big enough for COPY to run at full speed, small enough for memory.
BATCH_ROWS = 50_000
#: Bytes handed to COPY per write when streaming through the pipe.
CHUNK_BYTES = 1 << 20
PIPES = Path("/dev/fd").is_dir()
_CSV = pacsv.WriteOptions(include_header=False, quoting_style="needed")
COPY_IN = "COPY {} ({}) FROM STDIN (FORMAT csv{})"


def copy_query_to_table(
    duck: duckdb.DuckDBPyConnection,
    query: str,
    params: Mapping[str, Any],
    pg: psycopg.Cursor[Any],
    target: sql.Composable,
    columns: Sequence[str],
    on_rows: Callable[[int], None] | None = None,
    freeze: bool = False,
    via_pipe: bool = PIPES,
) -> int:
    """Stream the result of DuckDB `query` (its columns = `columns`) into Postgres `target`.

    Returns the number of rows Postgres took; `on_rows` hears rows as they go (progress,
    counted by line ends when piped, so a value holding a newline counts twice).
    """
    statement = sql.SQL(COPY_IN).format(
        target,
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", FREEZE" if freeze else ""),
    )
    with pg.copy(statement) as copy:
        if via_pipe:
            _pipe_rows(duck, query, params, copy, on_rows)
        else:
            _arrow_rows(duck, query, params, copy, on_rows)
    return pg.rowcount


def _arrow_rows(
    duck: duckdb.DuckDBPyConnection,
    query: str,
    params: Mapping[str, Any],
    copy: psycopg.Copy,
    on_rows: Callable[[int], None] | None,
) -> None:
    reader = duck.sql(query, params=dict(params)).to_arrow_reader(BATCH_ROWS)
    try:
        for batch in reader:
            buf = io.BytesIO()
            pacsv.write_csv(batch, buf, _CSV)
            copy.write(buf.getbuffer())
            if on_rows is not None:
                on_rows(batch.num_rows)
    finally:
        reader.close()


def _pipe_rows(
    duck: duckdb.DuckDBPyConnection,
    query: str,
    params: Mapping[str, Any],
    copy: psycopg.Copy,
    on_rows: Callable[[int], None] | None,
) -> None:
    """DuckDB's `COPY TO` writes into a pipe in a thread; this thread feeds Postgres."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            duck.execute(
                f"COPY ({query}) TO {literal(f'/dev/fd/{write_fd}')}"
                " (FORMAT csv, HEADER false, USE_TMP_FILE false)",
                dict(params),
            )
        except BaseException as exc:  # handed to the consuming thread, which re-raises
            failure.append(exc)
        finally:
            os.close(write_fd)

    producer = threading.Thread(target=produce, name="duckdb-copy", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            while chunk := pipe.read(CHUNK_BYTES):
                copy.write(chunk)
                if on_rows is not None:
                    on_rows(chunk.count(b"\n"))
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            duck.interrupt()
        raise
    finally:
        producer.join()
    if failure:
        raise failure[0]


def copy_table_to_duckdb(
    pg: psycopg.Cursor[Any],
    query: sql.Composable,
    duck: duckdb.DuckDBPyConnection,
    table: str,
    columns: Mapping[str, str],
) -> int:
    """Run Postgres `query` and keep its rows in DuckDB temp table `table` (`columns`: types).

    The rows pass through a temporary CSV file, removed before returning.
    """
    copy_out = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)
    with tempfile.TemporaryDirectory(prefix="stormwater-sync-") as tmp:
        path = Path(tmp) / f"{table}.csv"
        with path.open("wb") as out, pg.copy(copy_out) as copy:
            for block in copy:
                out.write(block)
        types = "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in columns.items()) + "}"
        duck.execute(
            f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS SELECT * FROM read_csv("
            f"{literal(str(path))}, header = false, columns = {types},"
            " allow_quoted_nulls = false, auto_detect = false)"
        )
    return duck.execute(f"SELECT count(*) FROM {ident(table)}").fetchall()[0][0]


def copy_with_progress(
    duck: duckdb.DuckDBPyConnection,
    query: str,
    params: Mapping[str, Any],
    pg: psycopg.Cursor[Any],
    target: sql.Composable,
    columns: Sequence[str],
    label: str,
    total: int | None,
    progress: ProgressFactory | None,
    freeze: bool = False,
) -> int:
    """`copy_query_to_table`, reporting rows to a Progress made for `label` and `total`."""
    report = progress(label, total) if progress is not None else None
    rows = copy_query_to_table(
        duck, query, params, pg, target, columns, report.advance if report else None, freeze
    )
    if report is not None:
        report.finish()
    return rows
