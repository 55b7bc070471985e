"""Writing versions into the store and switching readers to them atomically.

A version is built under `<version>.partial`, renamed to its final name only when
complete, and published by replacing the CURRENT pointer with `os.replace`. A run
killed at any point leaves either the old pointer or the new one, never a half
version; leftovers are cleaned by the next run. Two older versions are kept.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import duckdb

from data_layer.changes import CHANGE_KINDS, diff_sql, keys_sql
from data_layer.datasets import Dataset
from data_layer.errors import NothingToRollBack
from data_layer.identifiers import literal
from data_layer.store import CHANGES, DATA, MANIFEST, STAGING_SUFFIX, Store

log = logging.getLogger(__name__)

KEEP_PREVIOUS = 2


def new_version_name(now: dt.datetime | None = None) -> str:
    """A name that sorts by publish time and never collides: `20261125T193000Z-1a2b3c`."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"


def start_version(store: Store, dataset: str) -> tuple[str, Path]:
    """A fresh staging directory for a version being built."""
    name = new_version_name()
    staging = store.versions_dir(dataset) / (name + STAGING_SUFFIX)
    (staging / DATA).mkdir(parents=True)
    return name, staging


def clean_partials(store: Store, dataset: str) -> int:
    """Remove staging directories left by a killed run; returns how many."""
    base = store.versions_dir(dataset)
    removed = 0
    if base.is_dir():
        for entry in base.iterdir():
            if entry.name.endswith(STAGING_SUFFIX):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def point_to(store: Store, dataset: str, version: str) -> None:
    """Atomically make `version` the one readers see."""
    pointer = store.pointer_path(dataset)
    tmp = pointer.with_name(f"{pointer.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, pointer)
    _fsync_dir(pointer.parent)


def publish_version(
    store: Store, dataset: str, name: str, staging: Path, manifest: dict[str, Any]
) -> Path:
    """Seal the staging directory as version `name`, point readers at it, prune old versions."""
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    final = store.version_dir(dataset, name)
    os.rename(staging, final)
    _fsync_dir(final.parent)
    point_to(store, dataset, name)
    prune(store, dataset)
    log.info("published %s version %s", dataset, name)
    return final


def prune(store: Store, dataset: str, keep_previous: int = KEEP_PREVIOUS) -> list[str]:
    """Delete versions older than the current one and its `keep_previous` predecessors."""
    versions = store.versions(dataset)
    current = store.current_version(dataset)
    if current not in versions:
        return []
    idx = versions.index(current)
    doomed = versions[: max(0, idx - keep_previous)]
    for name in doomed:
        shutil.rmtree(store.version_dir(dataset, name), ignore_errors=True)
    return doomed


def rollback(store: Store, dataset: str) -> tuple[str, str]:
    """Point readers at the version before the current one; returns (from, to)."""
    current = store.require_version(dataset)
    versions = store.versions(dataset)
    idx = versions.index(current)
    if idx == 0:
        raise NothingToRollBack(f"{dataset} has no earlier version than {current} to roll back to")
    previous = versions[idx - 1]
    point_to(store, dataset, previous)
    log.info("rolled %s back from %s to %s", dataset, current, previous)
    return current, previous


def link_tree(src: Path, dest: Path) -> None:
    """Reuse an unchanged part of an older version: hard links, copies where links fail."""
    shutil.copytree(src, dest, copy_function=link_file)


def link_file(src: str | Path, dest: str | Path) -> None:
    """Hard-link one file (versions are immutable, so sharing is safe); copy across devices."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _version_rows(glob: str) -> str:
    files = f"read_parquet({literal(glob)}, hive_partitioning = true, union_by_name = true)"
    return f"SELECT * FROM {files}"


def record_changes(
    con: duckdb.DuckDBPyConnection, ds: Dataset, old_glob: str | None, new_glob: str, staging: Path
) -> dict[str, int]:
    """Write `changes.parquet` (keys added / changed / removed) and return the counts.

    A first version writes no file: every key in it is added, which the data layer
    derives from the version itself, so only the count is taken.
    """
    new_rows = _version_rows(new_glob)
    if old_glob is None:
        added = con.execute(f"SELECT count(*) FROM ({keys_sql(ds, new_rows)})").fetchall()[0][0]
        return {"added": int(added), "changed": 0, "removed": 0}
    target = staging / CHANGES
    diff = diff_sql(ds, new_rows, _version_rows(old_glob))
    con.execute(f"COPY ({diff}) TO {literal(str(target))} (FORMAT parquet, COMPRESSION zstd)")
    counts = dict(
        con.execute(
            f"SELECT change, count(*) FROM read_parquet({literal(str(target))}) GROUP BY ALL"
        ).fetchall()
    )
    return {k: int(counts.get(k, 0)) for k in CHANGE_KINDS}
