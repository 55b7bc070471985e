"""The dashboard-query benchmarks of DESIGN §9: warm p50/p95 and a cold first query.

Each dashboard query runs `CALLS` times, warm, through the data layer with arguments
drawn from the data with a fixed seed (different facilities, parameters, years), and
the same number of times as a bare DuckDB query over `read_parquet` returning the
same rows: the floor. Rows report our p50 and p95 with the floor's as baseline and
the ratio. A cold first query (open the store, run the violations page's default
query) is measured in fresh processes beside a bare DuckDB first query.

A query function not written yet is skipped with a log line, so the bench runs
while the data layer grows.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import math
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from bench.measure import measure_code
from data_layer.connection import StoreConnection, open_store, parquet_relation
from data_layer.datasets import DATASETS, dataset
from data_layer.settings import Settings
from data_layer.store import Store, store_at

log = logging.getLogger(__name__)

#: Warm calls per query and side; p95 is the 29th of 30 sorted timings.
CALLS = 30
#: Untimed calls before timing starts.
WARMUP = 3
SEED = 42

COLD_OURS = """
from data_layer.connection import open_store
from data_layer.violations import violations
start = time.perf_counter()  # clock restarts after imports: open the store + first query
violations(open_store({root!r}, {memory!r}).cursor())
"""

COLD_BARE = """
import duckdb
import polars
start = time.perf_counter()  # clock restarts after imports: connect + first query
duckdb.connect().sql({sql!r}).pl()
"""


@dataclass(frozen=True)
class Case:
    """One dashboard query: how we call it, and the bare query returning the same rows."""

    name: str
    module: str
    function: str
    call: Callable[[Callable[..., Any], duckdb.DuckDBPyConnection, tuple], Any]
    bare_sql: str
    bare_params: Callable[[tuple], list[Any]]
    args: list[tuple]


def _needed(settings: Settings) -> list[str]:
    """Datasets the store must have published (eSMR only when years are configured)."""
    return [ds.name for ds in DATASETS if not (ds.per_year_sources and not settings.esmr_years)]


def ensure_store(workdir: Path, scale: float, settings: Settings) -> Store:
    """`workdir/store` if every dataset is published there, else built from the demo source."""
    from bench.runner import ensure_source
    from loaders.refresh import RefreshOptions, refresh

    store = store_at(workdir / "store")
    missing = [n for n in _needed(settings) if store.current_version(n) is None]
    if not missing:
        return store
    log.info("building a store at scale %g for the query benchmarks (missing %s)", scale, missing)
    source, _ = ensure_source(workdir, scale, settings)
    outcomes = refresh(
        store,
        RefreshOptions(
            source=str(source),
            esmr_years=tuple(settings.esmr_years),
            memory_limit=settings.memory_limit,
        ),
    )
    failed = [(o.dataset, o.error) for o in outcomes if o.outcome == "failed"]
    if failed:
        raise RuntimeError(f"could not build the benchmark store: {failed}")
    return store


def _rows(cur: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return [tuple(r) for r in cur.sql(sql).fetchall()]


def _draw(rng: random.Random, candidates: Sequence[tuple], k: int) -> list[tuple]:
    """`k` arguments drawn from `candidates` (in a fixed order), repeating when there are few."""
    if not candidates:
        return []
    return rng.choices(list(candidates), k=k)


def _search_texts(rng: random.Random, names: list[tuple], k: int) -> list[tuple]:
    """Search texts as users type them: a word of a facility's name, or a WDID."""
    texts = []
    for name, wdid in _draw(rng, names, k):
        words = [w for w in str(name or "").split() if len(w) >= 4 and w.isalpha()]
        texts.append((rng.choice(words) if words and rng.random() < 0.7 else wdid,))
    return texts


def pick_arguments(
    cur: duckdb.DuckDBPyConnection, k: int = CALLS, seed: int = SEED
) -> dict[str, list]:
    """Arguments for each query drawn from the data with a fixed seed: `k` per query."""
    rng = random.Random(seed)
    facilities = _rows(
        cur,
        "SELECT wdid, app_id FROM stg_smarts__violations UNION "
        "SELECT wdid, app_id FROM stg_smarts__inspections UNION "
        "SELECT wdid, app_id FROM stg_smarts__enforcement_actions ORDER BY ALL",
    )
    series = _rows(
        cur,
        "SELECT wdid, app_id, parameter_canonical FROM stg_smarts__industrial_monitoring"
        " WHERE parameter_canonical IS NOT NULL GROUP BY ALL HAVING count(*) >= 2 ORDER BY ALL",
    )
    filters = _rows(
        cur,
        "SELECT region, violation_type, min(occurrence_date) FROM stg_smarts__violations"
        " WHERE region IS NOT NULL AND violation_type IS NOT NULL GROUP BY ALL ORDER BY ALL",
    )
    names = _rows(
        cur, "SELECT display_name, wdid FROM int_facilities_unified ORDER BY wdid, app_id"
    )
    param_years = _rows(
        cur,
        "SELECT parameter_canonical, reporting_year FROM stg_smarts__industrial_monitoring"
        " WHERE parameter_canonical IS NOT NULL GROUP BY ALL HAVING count(*) >= 5 ORDER BY ALL",
    )
    years = _rows(
        cur,
        "SELECT DISTINCT reporting_year FROM stg_smarts__industrial_monitoring ORDER BY ALL",
    )
    return {
        "facilities": _draw(rng, facilities, k),
        "series": _draw(rng, series, k),
        "filters": [
            (region, vtype, first or dt.date(2000, 1, 1))
            for region, vtype, first in _draw(rng, filters, k)
        ],
        "search": _search_texts(rng, names, k),
        "param_years": [(p, int(y)) for p, y in _draw(rng, param_years, k)],
        "years": [(int(y),) for (y,) in _draw(rng, years, k)],
        "default": [()] * k,
    }


def _cases(store: Store, picks: dict[str, list]) -> list[Case]:
    """The dashboard queries of issue 3, each beside its bare `read_parquet` query."""

    def rel(name: str) -> str:
        ds = dataset(name)
        return f"({parquet_relation(store, ds, store.require_version(ds.name))})"

    viol, insp, enf = rel("violations"), rel("inspections"), rel("enforcement_actions")
    monitoring = rel("industrial_monitoring")
    on_facility = "wdid = ? AND app_id = ?"
    return [
        Case(
            "timeline",
            "data_layer.timeline",
            "compliance_timeline",
            lambda fn, cur, a: fn(cur, a[0], a[1]),
            f"SELECT inspection_date AS event_date, 'inspection' AS kind, inspection_id AS id"
            f" FROM {insp} WHERE {on_facility} UNION ALL"
            f" SELECT coalesce(occurrence_date, discovery_date), 'violation', violation_id"
            f" FROM {viol} WHERE {on_facility} UNION ALL"
            f" SELECT issuance_date, 'enforcement', enforcement_id"
            f" FROM {enf} WHERE {on_facility} ORDER BY 1, 3",
            lambda a: [a[0], a[1]] * 3,
            picks["facilities"],
        ),
        Case(
            "series",
            "data_layer.monitoring",
            "facility_series",
            lambda fn, cur, a: fn(cur, a[0], a[1], a[2]),
            f"SELECT sample_date, result, units, result_qualifier FROM {monitoring}"
            " WHERE wdid = ? AND app_id = ? AND parameter_canonical = ? ORDER BY sample_date",
            list,
            picks["series"],
        ),
        Case(
            "violations_default",
            "data_layer.violations",
            "violations",
            lambda fn, cur, a: fn(cur),
            f"SELECT * FROM {viol} ORDER BY occurrence_date DESC NULLS LAST, violation_id LIMIT 50",
            list,
            picks["default"],
        ),
        Case(
            "violations_filtered",
            "data_layer.violations",
            "violations",
            lambda fn, cur, a: fn(cur, region=a[0], violation_type=a[1], date_from=a[2]),
            f"SELECT * FROM {viol} WHERE region = ? AND violation_type = ?"
            " AND occurrence_date >= ? ORDER BY occurrence_date DESC NULLS LAST, violation_id"
            " LIMIT 50",
            list,
            picks["filters"],
        ),
        Case(
            "facility_search",
            "data_layer.facilities",
            "facility_search",
            lambda fn, cur, a: fn(cur, a[0]),
            f"SELECT wdid, app_id, facility_name AS name FROM {rel('industrial_facilities')}"
            " WHERE contains(lower(facility_name), lower($1)) OR wdid = $1 UNION ALL"
            f" SELECT wdid, app_id, site_name FROM {rel('construction_facilities')}"
            " WHERE contains(lower(site_name), lower($1)) OR wdid = $1 ORDER BY 3 LIMIT 20",
            list,
            picks["search"],
        ),
        Case(
            "exceedance_summary",
            "data_layer.exceedances",
            "exceedance_summary",
            lambda fn, cur, a: fn(cur, parameter=a[0], year=a[1]),
            "SELECT region, count(DISTINCT wdid) AS facilities, count(*) AS results,"
            f" avg(result) AS mean FROM {monitoring}"
            " WHERE parameter_canonical = ? AND reporting_year = ? GROUP BY region ORDER BY 1",
            list,
            picks["param_years"],
        ),
        Case(
            "exceedances_annual",
            "data_layer.exceedances",
            "exceedances_annual",
            lambda fn, cur, a: fn(cur, year=a[0]),
            "SELECT wdid, app_id, parameter_canonical, avg(result) AS average, count(*) AS n"
            f" FROM {monitoring} WHERE reporting_year = ? GROUP BY ALL"
            " ORDER BY average DESC NULLS LAST, wdid, app_id, parameter_canonical LIMIT 50",
            list,
            picks["years"],
        ),
    ]


def _load(module: str, function: str) -> Callable[..., Any] | None:
    """The query function, or None (logged) when it has not been written yet."""
    try:
        fn = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        log.warning("query benchmark skipped: %s.%s is not available (%s)", module, function, exc)
        return None
    return fn


def _timings(run: Callable[[tuple], Any], args: list[tuple]) -> list[float]:
    """Milliseconds of each call, after WARMUP untimed calls."""
    for a in args[:WARMUP]:
        run(a)
    out = []
    for a in args:
        start = time.perf_counter()
        run(a)
        out.append(1000 * (time.perf_counter() - start))
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile `q` (0–100) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _ours(conn: StoreConnection, case: Case, fn: Callable[..., Any]) -> Callable[[tuple], Any]:
    def run(a: tuple) -> Any:
        cur = conn.cursor()  # a cursor per call, as each page script takes one
        try:
            return case.call(fn, cur, a)
        finally:
            cur.close()

    return run


def _bare(con: duckdb.DuckDBPyConnection, case: Case) -> Callable[[tuple], Any]:
    def run(a: tuple) -> Any:
        return con.sql(case.bare_sql, params=case.bare_params(a)).pl()

    return run


def _warm_rows(
    store: Store,
    scale: float,
    settings: Settings,
    row: Callable[..., dict[str, Any]],
    calls: int,
) -> Iterator[dict[str, Any]]:
    conn = open_store(store.root, settings.memory_limit)
    conn.wait_until_cached()
    bare = duckdb.connect(":memory:", config={"memory_limit": settings.memory_limit})
    try:
        bare.execute("SET parquet_metadata_cache = true")
        cur = conn.cursor()
        try:
            picks = pick_arguments(cur, calls)
        finally:
            cur.close()
        for case in _cases(store, picks):
            fn = _load(case.module, case.function)
            if fn is None:
                continue
            if not case.args:
                log.warning("query benchmark %s skipped: no arguments in the data", case.name)
                continue
            ours = _timings(_ours(conn, case, fn), case.args)
            floor = _timings(_bare(bare, case), case.args)
            for label, q in (("p50", 50), ("p95", 95)):
                yield row(
                    f"query_{case.name}_{label}_ms",
                    percentile(ours, q),
                    "ms",
                    scale,
                    percentile(floor, q),
                )
    finally:
        bare.close()
        conn.close()


def _cold_rows(
    store: Store, scale: float, repeat: int, settings: Settings, row: Callable[..., dict]
) -> Iterator[dict[str, Any]]:
    viol = dataset("violations")
    first_page = (
        f"SELECT * FROM ({parquet_relation(store, viol, store.require_version(viol.name))})"
        " ORDER BY occurrence_date DESC NULLS LAST, violation_id LIMIT 50"
    )
    ours, bare = [], []
    for _ in range(max(1, repeat)):
        bare.append(measure_code(COLD_BARE.format(sql=first_page))["seconds"])
        ours.append(
            measure_code(COLD_OURS.format(root=str(store.root), memory=settings.memory_limit))[
                "seconds"
            ]
        )
    yield row(
        "query_cold_first_ms",
        1000 * statistics.median(ours),
        "ms",
        scale,
        1000 * statistics.median(bare),
    )


def query_benchmarks(
    workdir: Path, scale: float, repeat: int, settings: Settings, *, calls: int = CALLS
) -> Iterator[dict[str, Any]]:
    """Warm p50/p95 of each dashboard query and a cold first query, each beside its floor.

    `calls` warm calls per query and side; the cold query is measured `repeat` times
    (a fresh process each) and its median reported.
    """
    from bench.runner import _row

    store = ensure_store(workdir, scale, settings)
    yield from _warm_rows(store, scale, settings, _row, calls)
    yield from _cold_rows(store, scale, repeat, settings, _row)
