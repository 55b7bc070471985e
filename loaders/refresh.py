"""A refresh: for each dataset, fetch what changed, convert it, and publish a new version.

Datasets are independent: one failing (bad file, too many rejects, portal down) is
logged and leaves its previous version serving, while the others go on. The whole run
holds the store's lock; every dataset gets a run-log record whatever its outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from data_layer.datasets import DATASETS, Dataset, dataset
from data_layer.errors import StormwaterError
from data_layer.store import DATA, REJECTS, STAGING_SUFFIX, Store
from loaders import publish
from loaders.convert import Converted, convert_file
from loaders.download import download
from loaders.engine import open_engine
from loaders.lock import refresh_lock
from loaders.progress import Progress
from loaders.runlog import append_run
from loaders.sources import SourceFile, by_dataset, plan

log = logging.getLogger(__name__)

PUBLISHED, UNCHANGED, FAILED = "published", "unchanged", "failed"


@dataclass
class RefreshOptions:
    """How a refresh runs; built by the CLI from settings and flags."""

    source: str
    datasets: list[str] = field(default_factory=list)
    force: bool = False
    esmr_years: tuple[int, ...] = ()
    reject_threshold: float = 0.01
    memory_limit: str = "2GB"
    threads: int | None = None


@dataclass
class Outcome:
    """What happened to one dataset in one run."""

    dataset: str
    outcome: str
    version: str | None = None
    rows_in: int = 0
    rows_out: int = 0
    rejects: int = 0
    bytes: int = 0
    seconds: float = 0.0
    changes: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


def refresh(
    store: Store, options: RefreshOptions, session: requests.Session | None = None
) -> list[Outcome]:
    """Refresh the chosen datasets (all by default) under the store's lock."""
    wanted = [dataset(n) for n in options.datasets] if options.datasets else None
    run_id = uuid.uuid4().hex[:12]
    with refresh_lock(store.lock_path):
        files = plan(options.source, wanted, options.esmr_years, session)
        grouped = by_dataset(files)
        return [
            _refresh_one(store, ds, grouped.get(ds.name, []), options, session, run_id)
            for ds in wanted or DATASETS
        ]


def _refresh_one(
    store: Store,
    ds: Dataset,
    files: list[SourceFile],
    options: RefreshOptions,
    session: requests.Session | None,
    run_id: str,
) -> Outcome:
    started = time.monotonic()
    out = Outcome(ds.name, FAILED)
    try:
        if not files:
            raise StormwaterError(f"no source file for {ds.name} in {options.source}")
        _build(store, ds, files, options, session, out)
    except StormwaterError as exc:
        out.outcome, out.error = FAILED, str(exc)
        log.error("%s: %s", ds.name, exc)
    except Exception as exc:  # an unexpected failure: logged with its traceback, run goes on
        out.outcome, out.error = FAILED, f"{type(exc).__name__}: {exc}"
        log.exception("%s: unexpected failure", ds.name)
    out.seconds = round(time.monotonic() - started, 3)
    _log_run(store, run_id, out, files, options)
    log.info(
        "%s: %s in %.1f s",
        ds.name,
        out.outcome,
        out.seconds,
        extra={"event": "dataset_refreshed", "dataset": ds.name, "figures": _figures(out)},
    )
    return out


def _figures(out: Outcome) -> dict[str, Any]:
    """The numbers of one dataset's refresh, for JSON log lines."""
    keys = ("outcome", "version", "rows_in", "rows_out", "rejects", "bytes", "seconds", "error")
    return {k: getattr(out, k) for k in keys} | {"changes": out.changes}


def _previous_sources(store: Store, ds: Dataset) -> tuple[str | None, dict[str, Any]]:
    current = store.current_version(ds.name)
    if current is None:
        return None, {}
    try:
        return current, store.manifest(ds.name, current).get("sources", {})
    except (OSError, ValueError, StormwaterError):
        return None, {}


def _build(
    store: Store,
    ds: Dataset,
    files: list[SourceFile],
    options: RefreshOptions,
    session: requests.Session | None,
    out: Outcome,
) -> None:
    previous, prev_sources = _previous_sources(store, ds)
    changed = [f for f in files if options.force or _changed(ds, f, prev_sources)]
    same_units = {f.unit for f in files} == set(prev_sources)
    if not changed and same_units:
        out.outcome, out.version = UNCHANGED, previous
        log.info("%s: source unchanged, keeping version %s", ds.name, previous)
        return
    publish.clean_partials(store, ds.name)
    name, staging = publish.start_version(store, ds.name)
    try:
        sources = _fill_version(
            store, ds, files, changed, previous, prev_sources, staging, options, session, out
        )
        con = open_engine(store.scratch_dir, options.memory_limit, options.threads)
        try:
            old_glob = store.data_glob(ds.name, previous) if previous else None
            out.changes = publish.record_changes(
                con, ds, old_glob, str(staging / DATA / "**" / "*.parquet"), staging
            )
        finally:
            con.close()
        manifest = _manifest(ds, name, previous, sources, out)
        publish.publish_version(store, ds.name, name, staging, manifest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    out.outcome, out.version = PUBLISHED, name


def _changed(ds: Dataset, f: SourceFile, prev_sources: dict[str, Any]) -> bool:
    """Whether `f` differs from what the current version was built from, as far as can be told."""
    if not f.traceable:
        log.info("%s: %s has no size, date or ETag to compare; loading it", ds.name, f.name)
        return True
    return prev_sources.get(f.unit, {}).get("signature") != f.signature()


def _fill_version(
    store: Store,
    ds: Dataset,
    files: list[SourceFile],
    changed: list[SourceFile],
    previous: str | None,
    prev_sources: dict[str, Any],
    staging: Path,
    options: RefreshOptions,
    session: requests.Session | None,
    out: Outcome,
) -> dict[str, Any]:
    """Convert the changed files and reuse unchanged per-year parts; returns the sources record."""
    sources: dict[str, Any] = {}
    for f in files:
        if f in changed or previous is None:
            sources[f.unit] = _convert_unit(store, ds, f, staging, options, session, out)
        else:
            _reuse_unit(store, ds, f, previous, staging)
            sources[f.unit] = prev_sources[f.unit]
            _add_counts(out, sources[f.unit])
    return sources


def _reuse_unit(store: Store, ds: Dataset, f: SourceFile, previous: str, staging: Path) -> None:
    old = store.version_dir(ds.name, previous)
    part = f"{ds.partition}={f.year}"
    publish.link_tree(old / DATA / part, staging / DATA / part)
    rejects = old / REJECTS / f"{f.unit}.parquet"
    if rejects.exists():
        (staging / REJECTS).mkdir(exist_ok=True)
        publish.link_file(rejects, staging / REJECTS / rejects.name)
    log.info("%s %s: unchanged, reused from version %s", ds.name, f.unit, previous)


def _fetch(store: Store, f: SourceFile, session: requests.Session | None) -> tuple[Path, bool]:
    """A local path to read `f` from, and whether it is a download to delete afterwards."""
    if not f.is_remote:
        return Path(f.location), False
    dest = store.downloads_dir / f.dataset / f"{f.unit}.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    progress = Progress(f"downloading {f.name}", f.size, "bytes")
    download(f.location, dest, session or requests.Session(), progress=progress)
    return dest, True


def _convert_unit(
    store: Store,
    ds: Dataset,
    f: SourceFile,
    staging: Path,
    options: RefreshOptions,
    session: requests.Session | None,
    out: Outcome,
) -> dict[str, Any]:
    path, downloaded = _fetch(store, f, session)
    size = path.stat().st_size
    progress = Progress(f"converting {ds.name} {f.unit}".strip(), size, "bytes")
    held = store.state_dir / "rejects" / f"{ds.name}-{staging.name.removesuffix(STAGING_SUFFIX)}"
    rejects = held / f"{f.unit}.parquet"
    con = open_engine(store.scratch_dir, options.memory_limit, options.threads)
    try:
        result = convert_file(
            con,
            ds,
            path,
            staging / DATA,
            rejects,
            options.reject_threshold,
            f.year if ds.per_year_sources else None,
            progress,
        )
    finally:
        con.close()
    (staging / REJECTS).mkdir(exist_ok=True)
    rejects.rename(staging / REJECTS / rejects.name)
    held.rmdir()
    progress.update(size)
    progress.finish(f"→ {result.rows_out:,} rows, {result.rejects:,} rejects")
    if downloaded:
        path.unlink(missing_ok=True)
    record = _unit_record(f, size, result)
    _add_counts(out, record)
    out.warnings.extend(result.warnings)
    return record


def _unit_record(f: SourceFile, size: int, result: Converted) -> dict[str, Any]:
    return {
        "signature": f.signature(),
        "location": f.location,
        "bytes": size,
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "rejects": result.rejects,
        "reject_reasons": result.reject_reasons,
        "exact_duplicates": result.exact_duplicates,
        "duplicate_keys": result.duplicate_keys,
        "duplicate_samples": result.duplicate_samples,
        "transcoded_lines": result.transcoded_lines,
        "warnings": result.warnings,
    }


def _add_counts(out: Outcome, record: dict[str, Any]) -> None:
    out.rows_in += record["rows_in"]
    out.rows_out += record["rows_out"]
    out.rejects += record["rejects"]
    out.bytes += record["bytes"]


def _manifest(
    ds: Dataset, name: str, previous: str | None, sources: dict[str, Any], out: Outcome
) -> dict[str, Any]:
    modified = sorted(s["signature"].get("last_modified") or "" for s in sources.values())
    return {
        "dataset": ds.name,
        "version": name,
        "previous": previous,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source_modified": modified[-1] if modified else None,
        "rows": out.rows_out,
        "rows_in": out.rows_in,
        "rejects": out.rejects,
        "bytes": out.bytes,
        "changes": out.changes,
        "sources": sources,
    }


def _log_run(
    store: Store, run_id: str, out: Outcome, files: Iterable[SourceFile], options: RefreshOptions
) -> None:
    files = list(files)
    append_run(
        store.runlog_path,
        {
            "run_id": run_id,
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "dataset": out.dataset,
            "outcome": out.outcome,
            "version": out.version,
            "source": options.source,
            "source_urls": [f.location for f in files],
            "source_modified": max((f.last_modified or "" for f in files), default=None),
            "bytes": out.bytes,
            "rows_in": out.rows_in,
            "rows_out": out.rows_out,
            "rejects": out.rejects,
            "changes": out.changes,
            "duration_s": out.seconds,
            "error": out.error,
            "forced": options.force,
        },
    )
