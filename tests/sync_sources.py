"""Helpers for the Postgres sync tests: a week's changed export, and what Postgres holds.

A changed export is a copy of `tiny_source` with some rows edited, added or removed, and
its `package.json` entry updated (size and modification time) the way the portal would,
so `refresh` publishes a new version of just those datasets into a copy of `tiny_store`.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from data_layer.pg.mapping import TABLE_MAPS
from data_layer.store import Store, store_at
from loaders.refresh import RefreshOptions, refresh
from tests.conftest import ESMR_YEARS

Rows = list[dict[str, str]]
DATA_TABLES = tuple(t.table for t in TABLE_MAPS)


def edit_csv(
    source: Path, file: str, edit: Callable[[Rows], Rows], modified: str = "2026-01-05T06:00:00"
) -> None:
    """Rewrite `file` of the export at `source` through `edit`, as a new upload would be."""
    path = source / file
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = edit(list(reader))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    package_path = source / "package.json"
    package = json.loads(package_path.read_text())
    for res in package["result"]["resources"]:
        if res["url"] == file:
            res["size"] = path.stat().st_size
            res["last_modified"] = modified
    package_path.write_text(json.dumps(package, indent=1))


def republished(tiny_store: Store, tiny_source: Path, workdir: Path, *edits: Any) -> Store:
    """A copy of `tiny_store` refreshed from a copy of `tiny_source` with `edits` applied.

    Each edit is `(file, function(rows) -> rows)`.
    """
    source, store_dir = workdir / "source", workdir / "store"
    shutil.copytree(tiny_source, source)
    shutil.copytree(tiny_store.root, store_dir)
    for file, edit in edits:
        edit_csv(source, file, edit)
    store = store_at(store_dir)
    outcomes = refresh(
        store, RefreshOptions(source=str(source), esmr_years=ESMR_YEARS, memory_limit="1GB")
    )
    failed = [(o.dataset, o.error) for o in outcomes if o.outcome == "failed"]
    assert not failed, failed
    return store


#: One statement reading every table a sync writes: what a reader sees at one moment.
TOTALS = (
    "SELECT "
    + ", ".join(f"(SELECT count(*) FROM {t})" for t in DATA_TABLES)
    + ", (SELECT sum(result) FROM smarts_monitoring_samples),"
    " (SELECT md5(string_agg(description, '|' ORDER BY id)) FROM smarts_violations)"
)


def totals(url: str) -> tuple[Any, ...]:
    """What `TOTALS` reads now."""
    with psycopg.connect(url) as conn:
        return tuple(conn.execute(TOTALS).fetchall()[0])


def content(url: str) -> dict[str, tuple[int, str]]:
    """Every data table's row count and a digest of all its rows (by id), and of the state."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in DATA_TABLES:
            out[table] = conn.execute(
                f"SELECT count(*), coalesce(md5(string_agg(t::text, '\n' ORDER BY t.id)), '')"
                f" FROM {table} t"
            ).fetchall()[0]
        out["smarts_sync_state"] = conn.execute(
            'SELECT count(*), coalesce(md5(string_agg("table" || layer || part || md5(data),'
            " ',' ORDER BY \"table\", layer, part)), '') FROM smarts_sync_state"
        ).fetchall()[0]
    return out


def physical(url: str, table: str) -> list[tuple[str, str]]:
    """Each row's position and writing transaction: unchanged only if no row was rewritten."""
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT ctid::text, xmin::text FROM {table} ORDER BY ctid").fetchall()
