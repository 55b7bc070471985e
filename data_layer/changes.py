"""What changed: keys added, changed and removed between versions, and reads of older versions.

Every publish records its changes against the version it replaced (`changes.parquet`
beside the version). Between any two kept versions the change set is computed the
same way the publish did: one hash of each key's row(s) on each side, compared by key.
`esmr_samples` has no key, so its rows are identified by a hash of their content
(`_content`). Older versions stay queryable until they are pruned (the current version
and two before it are kept); asking for a pruned version raises StoreMissing.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import polars as pl

from data_layer.connection import StoreConnection, parquet_relation, staging_view
from data_layer.datasets import DATASETS, Dataset
from data_layer.datasets import dataset as contract
from data_layer.errors import StoreMissing, StormwaterError
from data_layer.filters import page_bounds
from data_layer.identifiers import ident, literal
from data_layer.results import Page, paged, run_query
from data_layer.store import Store

log = logging.getLogger(__name__)

#: The kinds of change a publish records, in the order results list them.
CHANGE_KINDS: tuple[str, ...] = ("added", "changed", "removed")
#: Identifier of a row in a dataset without key columns: a hash of its content.
CONTENT_KEY = "_content"

_SUMMARY_SCHEMA = {
    "dataset": pl.String,
    "version": pl.String,
    "previous": pl.String,
    "published_at": pl.Datetime("us", "UTC"),
    "current": pl.Boolean,
    "rows": pl.Int64,
    "added": pl.Int64,
    "changed": pl.Int64,
    "removed": pl.Int64,
}


def key_columns(ds: Dataset) -> tuple[str, ...]:
    """The columns that identify a row of `ds` in change sets: its key, else `_content`."""
    return ds.key or (CONTENT_KEY,)


def _store_of(source: StoreConnection | Store) -> Store:
    return source.store if isinstance(source, StoreConnection) else source


@contextmanager
def _cursor(source: StoreConnection | Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of the open store, or a short-lived engine when given only a Store."""
    cur = source.cursor() if isinstance(source, StoreConnection) else duckdb.connect(":memory:")
    try:
        yield cur
    finally:
        cur.close()


def kept_version(store: Store, dataset: str, version: str) -> str:
    """`version` if it is a complete version of `dataset` still on disk, else StoreMissing."""
    kept = store.versions(dataset)
    if version in kept:
        return version
    if not kept:
        raise StoreMissing(
            f"No published version of {dataset} in {store.root} — "
            f"run `python cli.py refresh --dataset {dataset}`."
        )
    raise StoreMissing(
        f"Version {version} of {dataset} is not kept (pruned or never published); "
        f"kept versions: {', '.join(kept)}."
    )


def _key_select(ds: Dataset) -> str:
    """Select list naming a row: its key columns, or a hash of its content without a key."""
    if ds.key:
        return ", ".join(ident(k) for k in ds.key)
    return f"hash({', '.join(ident(c) for c in ds.column_names)}) AS {ident(CONTENT_KEY)}"


def keys_sql(ds: Dataset, relation: str) -> str:
    """SQL: the distinct keys of `relation`: every key of a first version is added."""
    return f"SELECT DISTINCT {_key_select(ds)} FROM ({relation})"


def _sided_rows(ds: Dataset, relation: str, new: bool) -> str:
    """SQL: each row's key, its content hash `h` (keyed datasets) and its side of a diff."""
    content = f", hash({', '.join(ident(c) for c in ds.column_names)}) AS h" if ds.key else ""
    return f"SELECT {_key_select(ds)}{content}, {str(new).lower()} AS _new FROM ({relation})"


def diff_sql(ds: Dataset, new: str, old: str) -> str:
    """SQL: (keys..., change) of relation `new` against `old`, in one aggregate over both.

    Per key and side, the XOR of its rows' hashes (for a dataset without a key, how many
    copies of the row there are); a key whose sides differ is added, removed or changed.
    """
    keys = ", ".join(ident(k) for k in key_columns(ds))
    side = "bit_xor(h) FILTER (WHERE {})" if ds.key else "nullif(count(*) FILTER (WHERE {}), 0)"
    both = f"{_sided_rows(ds, new, True)} UNION ALL {_sided_rows(ds, old, False)}"
    return (
        f"SELECT {keys}, CASE WHEN o IS NULL THEN 'added' WHEN n IS NULL THEN 'removed'"
        f" ELSE 'changed' END AS change"
        f" FROM (SELECT {keys}, {side.format('_new')} AS n, {side.format('NOT _new')} AS o"
        f" FROM ({both}) GROUP BY {keys})"
        f" WHERE n IS DISTINCT FROM o"
    )


def _diff(store: Store, ds: Dataset, version: str, since: str) -> str:
    """SQL: (keys..., change) of `version` against `since`, compared row hash by row hash."""
    return diff_sql(ds, parquet_relation(store, ds, version), parquet_relation(store, ds, since))


def _recorded(store: Store, ds: Dataset, version: str) -> str | None:
    """SQL over the changes recorded when `version` was published, if the file is there."""
    path = store.changes_path(ds.name, version)
    if not path.is_file():
        return None
    keys = ", ".join(ident(k) for k in key_columns(ds))
    return f"SELECT {keys}, change FROM read_parquet({literal(str(path))})"


def _changes_relation(store: Store, ds: Dataset, version: str, since: str | None) -> str:
    """SQL: (keys..., change) of `version` vs `since`; None means its recorded predecessor."""
    previous = store.manifest(ds.name, version).get("previous")
    if since is None or since == previous:
        recorded = _recorded(store, ds, version)
        if recorded is not None:
            return recorded
        if previous is None:  # the first version: everything in it was added
            keys = ", ".join(ident(k) for k in key_columns(ds))
            first = keys_sql(ds, parquet_relation(store, ds, version))
            return f"SELECT {keys}, 'added' AS change FROM ({first})"
        since = previous
    since = kept_version(store, ds.name, since)
    if since > version:
        raise ValueError(f"since_version {since} is newer than version {version} of {ds.name}")
    return _diff(store, ds, version, since)


def changed_keys(
    source: StoreConnection | Store,
    dataset: str,
    *,
    version: str | None = None,
    since_version: str | None = None,
    change: str | None = None,
) -> pl.DataFrame:
    """Keys added, changed or removed by a version of `dataset` (the current one by default).

    Against the version it replaced by default (the changes recorded at publish), or
    against any older kept `since_version`. Grain: one row per key that differs.
    Columns: the dataset's key columns (`_content`, a row hash, for a dataset without
    a key) and `change` ('added', 'changed' or 'removed'); `change=` keeps one kind.
    Ordered by change, then key. StoreMissing if either version is not kept.
    """
    ds = contract(dataset)
    if change is not None and change not in CHANGE_KINDS:
        raise ValueError(f"change must be one of {', '.join(CHANGE_KINDS)}, not {change!r}")
    store = _store_of(source)
    version = kept_version(store, ds.name, version or store.require_version(ds.name))
    if since_version is not None:
        since_version = kept_version(store, ds.name, since_version)
    relation = _changes_relation(store, ds, version, since_version)
    keys = ", ".join(ident(k) for k in key_columns(ds))
    where, params = ("WHERE change = ?", [change]) if change else ("", [])
    sql = f"SELECT * FROM ({relation}) {where} ORDER BY change, {keys}"
    with _cursor(source) as cur:
        return run_query(cur, f"changed_keys:{ds.name}", sql, params)


def _published_at(store: Store, dataset: str, version: str) -> dt.datetime | None:
    try:
        text = store.manifest(dataset, version).get("published_at")
        return dt.datetime.fromisoformat(text) if text else None
    except (OSError, ValueError, StormwaterError):
        return None


def _window(
    store: Store, dataset: str, current: str, cutoff: dt.datetime
) -> tuple[str | None, list[str]]:
    """The version that was current at `cutoff` (if kept) and the versions published since.

    Walks back from `current` through each manifest's `previous`, so versions left
    behind by a rollback are not counted.
    """
    kept = set(store.versions(dataset))
    since: list[str] = []
    version: str | None = current
    while version is not None and version in kept:
        published = _published_at(store, dataset, version)
        if published is not None and published < cutoff:
            return version, since
        since.append(version)
        version = store.manifest(dataset, version).get("previous")
    if version is not None:
        log.info(
            "%s: %s, current at %s, is pruned; using the changes recorded since",
            dataset,
            version,
            cutoff.isoformat(timespec="seconds"),
        )
    return None, since


def new_since(
    conn: StoreConnection,
    dataset: str,
    days: int = 7,
    *,
    kinds: tuple[str, ...] = ("added",),
    now: dt.datetime | None = None,
) -> pl.DataFrame:
    """Rows of the current version that are new in the last `days` days (e.g. new violations).

    Compares the current version with the one that was current `days` ago when it is
    still kept; otherwise takes the additions recorded by each version published
    since. `kinds=("added", "changed")` also returns rows whose content changed.
    Grain: one row per key of the current version. Columns: every column of the
    dataset's current rows, then `change` ('added' or 'changed').
    """
    ds = contract(dataset)
    bad = set(kinds) - {"added", "changed"}
    if bad or not kinds:
        raise ValueError(f"kinds must be 'added' and/or 'changed', not {sorted(bad) or kinds}")
    store = conn.store
    with _cursor(conn) as cur:
        current = conn.versions.get(ds.name) or store.require_version(ds.name)
        cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
        baseline, published = _window(store, ds.name, current, cutoff)
        if baseline is not None:
            parts = [_changes_relation(store, ds, current, baseline)] if published else []
        else:
            parts = [_changes_relation(store, ds, v, None) for v in published]
        name = f"new_since:{ds.name}"
        if not parts:
            empty = f"SELECT *, NULL::VARCHAR AS change FROM {ident(staging_view(ds))} WHERE false"
            return run_query(cur, name, empty)
        return run_query(cur, name, _rows_with_change(ds, parts, kinds), kinds)


def _rows_with_change(ds: Dataset, parts: list[str], kinds: tuple[str, ...]) -> str:
    """SQL: current rows joined to the union of change sets `parts`, 'added' winning."""
    keys = key_columns(ds)
    cols = ", ".join(ident(k) for k in keys)
    marks = ", ".join("?" * len(kinds))
    union = " UNION ALL ".join(f"SELECT {cols}, change FROM ({p})" for p in parts)
    picked = (
        f"SELECT {cols}, min(change) AS change FROM ({union})"
        f" WHERE change IN ({marks}) GROUP BY ALL"
    )
    if ds.key:
        on = " AND ".join(f"r.{ident(k)} = c.{ident(k)}" for k in keys)
    else:
        content = ", ".join(f"r.{ident(c)}" for c in ds.column_names)
        on = f"hash({content}) = c.{ident(CONTENT_KEY)}"
    order = ", ".join(f"r.{ident(c)}" for c in dict.fromkeys((*ds.sort, *ds.key)))
    return (
        f"SELECT r.*, c.change FROM {ident(staging_view(ds))} AS r JOIN ({picked}) AS c ON {on}"
        f" ORDER BY {order or 'c.change'}"
    )


def changes_summary(store: Store, *, all_versions: bool = False) -> pl.DataFrame:
    """What each publish changed, from the version manifests.

    Grain: one row per dataset (its current version), or with `all_versions` one per
    kept version, newest first; a dataset never published has one row of nulls.
    Columns: dataset, version, previous, published_at (UTC), current, rows, added,
    changed, removed.
    """
    records: list[dict[str, Any]] = []
    for ds in DATASETS:
        current = store.current_version(ds.name)
        names = list(reversed(store.versions(ds.name))) if all_versions else [current]
        rows = [_summary_row(store, ds.name, v, current) for v in names if v is not None]
        rows = [r for r in rows if r is not None]
        records.extend(rows or [{"dataset": ds.name}])
    return pl.DataFrame(
        [{k: r.get(k) for k in _SUMMARY_SCHEMA} for r in records], schema=_SUMMARY_SCHEMA
    )


def _summary_row(
    store: Store, dataset: str, version: str, current: str | None
) -> dict[str, Any] | None:
    try:
        manifest = store.manifest(dataset, version)
    except (OSError, ValueError, StormwaterError):
        return None
    changes = manifest.get("changes") or {}
    return {
        "dataset": dataset,
        "version": version,
        "previous": manifest.get("previous"),
        "published_at": _published_at(store, dataset, version),
        "current": version == current,
        "rows": manifest.get("rows"),
        **{kind: changes.get(kind) for kind in CHANGE_KINDS},
    }


@contextmanager
def at_version(
    cur: duckdb.DuckDBPyConnection, store: Store, dataset: str, version: str
) -> Iterator[str]:
    """A view of one kept version of `dataset`, private to `cur`, for the `with` block.

    Yields the view's name (quote it with `identifiers.ident`); the view has the same
    columns as the dataset's staging view. StoreMissing if the version is not kept.
    """
    ds = contract(dataset)
    version = kept_version(store, ds.name, version)
    name = f"{staging_view(ds)}__at_{secrets.token_hex(4)}"
    cur.execute(f"CREATE TEMP VIEW {ident(name)} AS {parquet_relation(store, ds, version)}")
    try:
        yield name
    finally:
        cur.execute(f"DROP VIEW IF EXISTS {ident(name)}")


def rows_at_version(
    cur: duckdb.DuckDBPyConnection,
    store: Store,
    dataset: str,
    version: str,
    *,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """One page of the rows of a kept older version of `dataset`, with their total.

    Grain and columns as the dataset's staging view; ordered by the dataset's sort
    columns, then key. StoreMissing if the version is not kept.
    """
    ds = contract(dataset)
    limit, offset = page_bounds(limit, offset)
    order = ", ".join(ident(c) for c in dict.fromkeys((*ds.sort, *ds.key)))
    with at_version(cur, store, ds.name, version) as view:
        sql = f"SELECT * FROM {ident(view)}"
        return paged(cur, f"rows_at_version:{ds.name}", sql, [], limit, offset, order=order)
