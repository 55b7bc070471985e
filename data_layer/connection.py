"""One DuckDB connection per process over the store's Parquet, read in place; a cursor per caller.

Views (`stg_smarts__*` over the current versions, then the intermediate and mart views
in `data_layer/sql/`) are ordinary views, not TEMP, so every cursor sees them. Before
handing out a cursor the connection checks the store's signature (the CURRENT
pointers); after a publish it rebuilds the views, so a running app sees new data
without a restart. DuckDB connections are not shared across threads: each caller
takes `cursor()` and uses it alone.

Two kinds of in-memory copy are built in the background once a version is in use:
entity marts (`CACHED_MODELS`), whose views are swapped to read the copy, and marts
that depend on the NAL table bound to a cursor (`DEFAULT_NAL_MODELS`), computed once
with the shipped table into a compressed in-memory database; query functions read
those through `default_nal_relation` when no other table is asked for.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from pathlib import Path

import duckdb

from data_layer.datasets import DATASETS, Dataset
from data_layer.identifiers import ident, literal_list
from data_layer.nal_table import NalTable, bind_rules
from data_layer.sql_files import model_order, render
from data_layer.store import Store, store_at

log = logging.getLogger(__name__)


def staging_view(ds: Dataset) -> str:
    """Name of the staging view of a dataset: dbt's `stg_[source]__[entity]s`."""
    source = "esmr" if ds.name.startswith("esmr") else "smarts"
    return f"stg_{source}__{ds.name.removeprefix('esmr_')}"


#: Entity-grain marts (tens of thousands of rows) copied into memory once their views
#: exist, so page queries stop re-joining Parquet; they are rebuilt after each publish.
#: Sample-grain models stay plain views, and so do those that depend on per-cursor rules
#: (a few are also copied as computed with the shipped NAL table: `DEFAULT_NAL_MODELS`).
CACHED_MODELS: tuple[str, ...] = (
    "int_facilities_unified",
    "facility_summary",
    "violations_enriched",
    "enforcement_enriched",
    "inspections_enriched",
    "filter_options",
)
CACHE_PREFIX = "cache__"

#: Marts that depend on the per-cursor NAL table, copied once per version as computed
#: with the shipped table (`nal_table.load_nal_table`), each with the columns its page
#: queries filter on, by which the copy is sorted so a query reads few row groups. The
#: copies live in an attached in-memory database with compression (hundreds of MB as
#: rows, tens compressed) and are built one partition year at a time, each year
#: compressed before the next, so a build never holds all the rows uncompressed; a mart
#: without `partition_year` (a few thousand rows per year) is copied in one statement.
DEFAULT_NAL_MODELS: dict[str, tuple[str, ...]] = {
    "exceedances_annual": ("reporting_year", "nd_rule"),
    "exceedance_summary_by_region": ("parameter", "reporting_year", "nd_rule"),
    "monitoring_statewide_summary": ("source_dataset", "parameter", "nd_rule", "reporting_year"),
    "facility_year_gaps": ("nd_rule", "reporting_year"),
    "quality_flags_summary": ("source_dataset", "flag"),
}
DEFAULT_NAL_DB = "default_nal"


def default_nal_relation(name: str) -> str:
    """Model `name` under the shipped NAL table: its in-memory copy, or the live view until built.

    Either way the rows are those of `name` on a cursor bound with `bind_rules(cur)`.
    """
    return f"{ident(DEFAULT_NAL_DB)}.{ident(name)}"


def rules_relation(name: str, nal: NalTable | None) -> str:
    """The relation a query bound with `bind_rules(cur, nal)` reads model `name` from:
    the per-version copy under the shipped NAL table, else the live view."""
    return default_nal_relation(name) if nal is None else ident(name)


def _default_nal_copy(name: str) -> str:
    return f"{ident(DEFAULT_NAL_DB)}.{ident(CACHE_PREFIX + name)}"


class StoreConnection:
    """The store opened for reading: thread-safe to share, one cursor per caller."""

    def __init__(self, store: Store, memory_limit: str = "2GB") -> None:
        self.store = store
        self._con = duckdb.connect(":memory:", config={"memory_limit": memory_limit})
        self._con.execute("SET parquet_metadata_cache = true")
        self._con.execute(f"ATTACH ':memory:' AS {ident(DEFAULT_NAL_DB)} (COMPRESS)")
        self._catalog = self._con.execute("SELECT current_database()").fetchall()[0][0]
        self._lock = threading.Lock()
        self._signature: str | None = None
        self._warming: threading.Thread | None = None
        self._warm_cursor: duckdb.DuckDBPyConnection | None = None
        atexit.register(self._stop_caching)
        self.versions: dict[str, str] = {}

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor over the current versions (views rebuilt first if a publish happened)."""
        signature = self.store.signature()
        if signature != self._signature:
            with self._lock:
                if signature != self._signature:
                    self._build_views()
                    self._signature = signature
                    self._warming = None
                    return self._con.cursor()
        if self._warming is None:
            self._start_caching(signature)
        return self._con.cursor()

    def _start_caching(self, signature: str) -> None:
        """Build the in-memory marts in the background, from the second use of a new version on.

        The first query after a publish (a cold start) is not slowed down by the build.
        """
        with self._lock:
            if self._warming is None and self._signature == signature:
                self._warming = threading.Thread(
                    target=self._cache_marts, args=(signature,), daemon=True
                )
                self._warming.start()

    def wait_until_cached(self, timeout: float | None = None) -> bool:
        """Block until the in-memory marts are built (for benchmarks and tests)."""
        self.cursor().close()
        self.cursor().close()
        if self._warming is not None:
            self._warming.join(timeout)
        return self._warming is None or not self._warming.is_alive()

    def _cache_marts(self, signature: str) -> None:
        """Swap each cached model's view for one over an in-memory copy, in dependency order.

        Then copy the `DEFAULT_NAL_MODELS` as computed with the shipped NAL table.
        """
        cur = self._warm_cursor = self._con.cursor()
        try:
            for name in [m for m in model_order() if m in CACHED_MODELS]:
                with self._lock:
                    if self._signature != signature:
                        return
                    table = ident(CACHE_PREFIX + name)
                    cur.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {ident(name)}")
                    cur.execute(f"CREATE OR REPLACE VIEW {ident(name)} AS SELECT * FROM {table}")
            bind_rules(cur)
            for name, order in DEFAULT_NAL_MODELS.items():
                if not self._copy_default_nal_model(cur, signature, name, order):
                    return
        except duckdb.Error as exc:
            if self._signature == signature:
                log.warning("caching marts stopped (%s); queries read the Parquet views", exc)
        finally:
            self._warm_cursor = None
            cur.close()

    def _copy_default_nal_model(
        self, cur: duckdb.DuckDBPyConnection, signature: str, name: str, order: tuple[str, ...]
    ) -> bool:
        """Copy model `name` as `cur` computes it, then point its relation at the copy.

        One partition year at a time, each compressed by a checkpoint (FORCE waits for
        readers of the copies) before the next. False when a publish made it stale.
        """
        table, live = _default_nal_copy(name), self._live(name)
        keys = ", ".join(ident(c) for c in order)
        with self._lock:
            if self._signature != signature:
                return False
            cur.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {live} LIMIT 0")
        for where, params in self._copy_steps(cur, live):
            with self._lock:
                if self._signature != signature:
                    return False
                cur.execute(
                    f"INSERT INTO {table} SELECT * FROM {live}{where} ORDER BY {keys}", params
                )
                cur.execute(f"FORCE CHECKPOINT {ident(DEFAULT_NAL_DB)}")
        with self._lock:
            if self._signature != signature:
                return False
            cur.execute(
                f"CREATE OR REPLACE VIEW {default_nal_relation(name)} AS SELECT * FROM {table}"
            )
        return True

    @staticmethod
    def _copy_steps(cur: duckdb.DuckDBPyConnection, live: str) -> list[tuple[str, list[object]]]:
        """The WHERE clause and parameters of each step of a copy: one per partition year,
        or a single step for a mart without `partition_year`."""
        columns = [d[0] for d in cur.execute(f"SELECT * FROM {live} LIMIT 0").description]
        if "partition_year" not in columns:
            return [("", [])]
        years = cur.execute(f"SELECT DISTINCT partition_year FROM {live} ORDER BY 1").fetchall()
        return [(" WHERE partition_year IS NOT DISTINCT FROM ?", [y]) for (y,) in years]

    def _live(self, name: str) -> str:
        """Model `name` in the main database (named in full: it is read from another one)."""
        return f"{ident(self._catalog)}.main.{ident(name)}"

    def _stop_caching(self) -> None:
        """Interrupt a cache build still running (at exit, or on close) and wait for it."""
        self._signature = None
        warm = self._warm_cursor
        if warm is not None:
            with contextlib.suppress(duckdb.Error):
                warm.interrupt()
        if self._warming is not None:
            self._warming.join()

    @property
    def signature(self) -> str:
        """The store state the views were built on: a cache key for callers."""
        self.cursor().close()
        return self._signature or ""

    def _build_views(self) -> None:
        versions = {}
        for ds in DATASETS:
            version = self.store.current_version(ds.name)
            if version is None or not self.store.version_dir(ds.name, version).is_dir():
                self._con.execute(
                    f"CREATE OR REPLACE VIEW {ident(staging_view(ds))} AS {_empty_relation(ds)}"
                )
                continue
            versions[ds.name] = version
            self._con.execute(
                f"CREATE OR REPLACE VIEW {ident(staging_view(ds))} AS "
                f"{parquet_relation(self.store, ds, version)}"
            )
        for name in model_order():
            self._con.execute(f"CREATE OR REPLACE VIEW {ident(name)} AS {render(name)}")
        for name in CACHED_MODELS:
            self._con.execute(f"DROP TABLE IF EXISTS {ident(CACHE_PREFIX + name)}")
        for name in DEFAULT_NAL_MODELS:
            self._con.execute(
                f"CREATE OR REPLACE VIEW {default_nal_relation(name)}"
                f" AS SELECT * FROM {self._live(name)}"
            )
            self._con.execute(f"DROP TABLE IF EXISTS {_default_nal_copy(name)}")
        self.versions = versions
        log.info("views built on %s", versions)

    def close(self) -> None:
        self._stop_caching()
        atexit.unregister(self._stop_caching)
        self._con.close()


def parquet_relation(store: Store, ds: Dataset, version: str) -> str:
    """SQL reading one version of a dataset in place (paths come from store.py only)."""
    files = store.data_files(ds.name, version)
    return f"SELECT * FROM read_parquet({literal_list(files)}, hive_partitioning = true)"


def _empty_relation(ds: Dataset) -> str:
    """A typed, empty relation for a dataset not yet published, so marts still bind."""
    from data_layer.datasets import TYPES

    cols = [f"NULL::{TYPES[c.type]} AS {ident(c.name)}" for c in ds.columns]
    cols += [f"NULL::{TYPES[d.type]} AS {ident(d.name)}" for d in ds.derived]
    return f"SELECT {', '.join(cols)} WHERE false"


def open_store(root: str | Path, memory_limit: str = "2GB") -> StoreConnection:
    """Open the store at `root` for reading; callers keep one per process."""
    return StoreConnection(store_at(root), memory_limit)
