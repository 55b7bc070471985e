"""A local copy of Postgres's sync state, so a weekly delta need not read every hash back.

After a committed sync, the `(table, id, hash)` of every row it left in Postgres goes to a
Parquet file named for the database and for a random generation number that the same
transaction stored in the sync state. The next delta uses the file only while Postgres
still holds that generation; anything else that rewrote the state (a sync from another
machine, a restored backup) changed or removed it, and the state is read from Postgres
instead. Losing or deleting the file costs time, never correctness.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from data_layer.identifiers import ident, literal

log = logging.getLogger(__name__)

#: The sync-state row holding the generation the local copy must match.
GENERATION_KEY = ("_sync", "generation")


@dataclass(frozen=True)
class StateCache:
    """The local copies of one database's sync state, in `directory`."""

    directory: Path
    database: str

    @classmethod
    def for_database(cls, directory: Path, pg: psycopg.Cursor[Any]) -> StateCache:
        """The cache of the database `pg` is connected to (named by server and database)."""
        where = pg.execute(
            "SELECT concat_ws('/', inet_server_addr(), inet_server_port(), current_database())"
        ).fetchall()[0][0]
        return cls(directory, hashlib.sha256(where.encode()).hexdigest()[:16])

    def path(self, generation: int) -> Path:
        return self.directory / f"sync-state-{self.database}-{generation}.parquet"

    def find(self, generation: int | None) -> Path | None:
        """The copy for `generation`, if this machine wrote it."""
        if generation is None:
            return None
        path = self.path(generation)
        return path if path.is_file() else None

    def write(
        self, duck: duckdb.DuckDBPyConnection, holds: Iterable[tuple[str, str]], generation: int
    ) -> None:
        """Keep `(table, id, hash)` of each (table name, DuckDB temp table) as `generation`.

        Older copies of this database go; a failure to write is logged, not raised.
        """
        target = self.path(generation)
        if target.is_file():  # a run that changed nothing keeps the generation and its copy
            return
        partial = target.with_suffix(".partial")
        query = " UNION ALL ".join(
            f"SELECT {literal(name)} AS {ident('table')}, id, _row_hash FROM {ident(temp)}"
            for name, temp in holds
        )
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            duck.execute(f"COPY ({query} ORDER BY 1) TO {literal(str(partial))} (FORMAT parquet)")
            os.replace(partial, target)
            for old in self.directory.glob(f"sync-state-{self.database}-*"):
                if old != target:
                    old.unlink(missing_ok=True)
        except (OSError, duckdb.Error) as exc:
            log.warning("could not keep a local copy of the sync state (%s)", exc)
            partial.unlink(missing_ok=True)

    def view(self, duck: duckdb.DuckDBPyConnection, path: Path, table: str) -> str:
        """A DuckDB temp view of one table's state (id, _row_hash) in the copy; its name."""
        name = f"sync_have__{table}"
        duck.execute(
            f"CREATE OR REPLACE TEMP VIEW {ident(name)} AS SELECT id, _row_hash"
            f" FROM read_parquet({literal(str(path))}) WHERE {ident('table')} = {literal(table)}"
        )
        return name
