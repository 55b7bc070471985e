"""Paths and versions of the Parquet store: the one place that knows its layout.

    <root>/<dataset>/versions/<version>/data/...parquet   Hive-partitioned where the contract says
    <root>/<dataset>/versions/<version>/rejects/*.parquet rows that failed validation, with reasons
    <root>/<dataset>/versions/<version>/changes.parquet   keys added / changed / removed vs previous
                                                          (none in a first version: all added)
    <root>/<dataset>/versions/<version>/manifest.json     rows, source, timings, change counts
    <root>/<dataset>/CURRENT                              the published version's name
    <root>/_state/                                        run log, lock, SQLite state, scratch space

A version directory is complete before it gets its final name, and CURRENT is replaced
with `os.replace`, so a reader always sees one whole version. Only `loaders` writes here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from data_layer.errors import StoreMissing

POINTER = "CURRENT"
VERSIONS = "versions"
MANIFEST = "manifest.json"
DATA = "data"
REJECTS = "rejects"
CHANGES = "changes.parquet"
STAGING_SUFFIX = ".partial"


@dataclass(frozen=True)
class Store:
    """A store rooted at `root`; cheap to create, holds no open files."""

    root: Path

    @property
    def state_dir(self) -> Path:
        """Run log, lock, state database and scratch space."""
        return self.root / "_state"

    @property
    def runlog_path(self) -> Path:
        """JSON lines, one per dataset per refresh run."""
        return self.state_dir / "refresh_runs.jsonl"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "refresh.lock"

    @property
    def nightly_lock_path(self) -> Path:
        """Held by `nightly` for its whole chain (refresh takes `lock_path` inside it)."""
        return self.state_dir / "nightly.lock"

    @property
    def nightly_log_path(self) -> Path:
        """JSON lines, one per step of each nightly run."""
        return self.state_dir / "nightly_runs.jsonl"

    @property
    def scratch_dir(self) -> Path:
        """DuckDB spill space and downloads in progress."""
        return self.state_dir / "scratch"

    @property
    def downloads_dir(self) -> Path:
        return self.state_dir / "downloads"

    def dataset_dir(self, dataset: str) -> Path:
        return self.root / dataset

    def versions_dir(self, dataset: str) -> Path:
        return self.dataset_dir(dataset) / VERSIONS

    def version_dir(self, dataset: str, version: str) -> Path:
        return self.versions_dir(dataset) / version

    def pointer_path(self, dataset: str) -> Path:
        return self.dataset_dir(dataset) / POINTER

    def current_version(self, dataset: str) -> str | None:
        """The published version's name, or None before the first publish."""
        try:
            name = self.pointer_path(dataset).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def require_version(self, dataset: str, version: str | None = None) -> str:
        """`version` if given, else the current one; StoreMissing naming the fix if none."""
        name = version or self.current_version(dataset)
        if name is None or not self.version_dir(dataset, name).is_dir():
            what = (
                f"version {version!r} of {dataset}"
                if version
                else f"published version of {dataset}"
            )
            raise StoreMissing(
                f"No {what} in {self.root} — run `python cli.py refresh --dataset {dataset}`."
            )
        return name

    def versions(self, dataset: str) -> list[str]:
        """Complete versions on disk, oldest first (names sort by time)."""
        base = self.versions_dir(dataset)
        if not base.is_dir():
            return []
        return sorted(
            p.name for p in base.iterdir() if p.is_dir() and not p.name.endswith(STAGING_SUFFIX)
        )

    def data_glob(self, dataset: str, version: str | None = None) -> str:
        """A glob over every Parquet file of a version (read with hive_partitioning)."""
        name = self.require_version(dataset, version)
        return str(self.version_dir(dataset, name) / DATA / "**" / "*.parquet")

    def data_files(self, dataset: str, version: str | None = None) -> list[str]:
        """Every Parquet file of a version: naming them spares readers a glob per query."""
        name = self.require_version(dataset, version)
        return sorted(str(p) for p in (self.version_dir(dataset, name) / DATA).rglob("*.parquet"))

    def rejects_glob(self, dataset: str, version: str | None = None) -> str:
        """A glob over a version's rejects files (one per source file)."""
        name = self.require_version(dataset, version)
        return str(self.version_dir(dataset, name) / REJECTS / "*.parquet")

    def changes_path(self, dataset: str, version: str | None = None) -> Path:
        return self.version_dir(dataset, self.require_version(dataset, version)) / CHANGES

    def manifest(self, dataset: str, version: str | None = None) -> dict:
        """The manifest of a version (the current one by default)."""
        name = self.require_version(dataset, version)
        path = self.version_dir(dataset, name) / MANIFEST
        return json.loads(path.read_text(encoding="utf-8"))

    def signature(self) -> str:
        """A string that changes whenever any dataset publishes: a cache key for readers."""
        parts = []
        if self.root.is_dir():
            for entry in sorted(self.root.iterdir()):
                pointer = entry / POINTER
                if pointer.is_file():
                    parts.append(f"{entry.name}={self.current_version(entry.name)}")
        return ";".join(parts)


def store_at(root: str | os.PathLike[str]) -> Store:
    """A `Store` for a path given as text or Path."""
    return Store(Path(root).expanduser().resolve())
