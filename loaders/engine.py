"""The DuckDB engine the loaders convert with: bounded memory, spilling to scratch space."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from loaders.progress import Progress


def open_engine(
    scratch: Path, memory_limit: str = "2GB", threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB whose memory is capped and whose overflow spills to `scratch`.

    Insertion order is preserved because record numbers (for reject line numbers)
    come from the order rows are read in.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    config = {
        "memory_limit": memory_limit,
        "temp_directory": str(scratch),
        "preserve_insertion_order": True,
    }
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
    return con


def execute_with_progress(
    con: duckdb.DuckDBPyConnection, sql: str, params: list | None, progress: Progress | None
) -> None:
    """Run one statement, feeding DuckDB's own progress estimate into `progress`."""
    if progress is None:
        con.execute(sql, params or [])
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.25):
            pct = con.query_progress()
            if pct and pct > 0 and progress.total:
                progress.update(progress.total * min(pct, 100.0) / 100.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        con.execute(sql, params or [])
    finally:
        done.set()
        watcher.join()
