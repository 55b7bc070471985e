"""Per-dataset status from the store's manifests and run log: what `status` and Data health show."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from data_layer.datasets import DATASETS
from data_layer.errors import StormwaterError
from data_layer.store import Store


def read_runs(path: Path) -> Iterator[dict[str, Any]]:
    """Every run-log record, oldest first; a torn last line (a crash mid-write) is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                yield json.loads(line)
            except ValueError:
                continue


def _health(version: str | None, last_run: dict[str, Any] | None) -> str:
    """`ok`, `missing` (never published) or `failing` (older version serving after a failure)."""
    if version is None:
        return "missing"
    if last_run is not None and last_run.get("outcome") == "failed":
        return "failing"
    return "ok"


def dataset_status(store: Store) -> list[dict[str, Any]]:
    """One row per dataset: version, rows, source date, publish time, rejects, last run, health."""
    last: dict[str, dict[str, Any]] = {}
    for record in read_runs(store.runlog_path):
        last[record.get("dataset", "")] = record
    rows = []
    for ds in DATASETS:
        version = store.current_version(ds.name)
        manifest: dict[str, Any] = {}
        if version is not None:
            try:
                manifest = store.manifest(ds.name, version)
            except (OSError, ValueError, StormwaterError):
                version = None
        run = last.get(ds.name)
        rows.append(
            {
                "dataset": ds.name,
                "version": version,
                "rows": manifest.get("rows"),
                "rejects": manifest.get("rejects"),
                "source_modified": manifest.get("source_modified"),
                "published_at": manifest.get("published_at"),
                "changes": manifest.get("changes"),
                "versions_kept": len(store.versions(ds.name)),
                "last_run": run.get("finished_at") if run else None,
                "last_outcome": run.get("outcome") if run else None,
                "last_error": run.get("error") if run else None,
                "health": _health(version, run),
            }
        )
    return rows
