"""The page-render benchmark of DESIGN §9: each page drawn by `AppTest`, warm, under 1 s.

The app runs on the benchmark store in this process, as `tests/test_app.py` drives it:
query parameters set, `switch_page`, `run`. Each page's first view is timed once (its
`st.cache_data` queries miss), then `repeat` more views are timed and their median
reported as warm. Besides every page in the navigation, the facility page is timed
addressed to one facility (overview, and the compliance-timeline tab) and as a search.

Before timing, the app frame and the home page are drawn once, the store's in-memory
marts are built and the chart libraries imported, so a page's first view measures its
own queries and drawing, not the process's start. An AppTest run after the first starts
in Streamlit's legacy `pages/` mode and hands over to `app.py` (see `pages/_shared.py`),
so each view is that short first pass plus the real one, as in the app tests.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.queries import ensure_store
from data_layer.settings import Settings

log = logging.getLogger(__name__)

APP = Path(__file__).resolve().parents[1] / "app.py"
#: Seconds AppTest waits for one run before calling it hung.
RUN_TIMEOUT = 300
CHART_MODULES = ("plotly.express", "plotly.graph_objects", "pydeck")


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """`values` set in os.environ for the duration, then the previous values restored."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _views(store_root: Path, memory_limit: str) -> list[tuple[str, str, dict[str, str]]]:
    """(benchmark name, page file, query parameters) for every page the app lists."""
    from data_layer.connection import open_store
    from data_layer.violations import violations
    from pages._shared import NAV, page_enabled

    cfg = Settings.from_env()
    views = []
    for entries in NAV.values():
        for path, _title, _icon, _flag in entries:
            if page_enabled(path, cfg):
                views.append((Path(path).stem, path, {}))
            else:
                log.info("page benchmark skips %s: not listed (file missing or flag off)", path)
    if not any(path == "pages/facilities.py" for _n, path, _p in views):
        return views
    conn = open_store(store_root, memory_limit)
    try:
        first = violations(conn.cursor(), limit=1).rows  # the violations page's first row
    finally:
        conn.close()
    if first.height:
        row = first.row(0, named=True)
        facility = {"wdid": row["wdid"], "app_id": row["app_id"]}
        views += [
            ("facility_search", "pages/facilities.py", {"q": row["wdid"]}),
            ("facility", "pages/facilities.py", facility),
            ("facility_timeline", "pages/facilities.py", facility | {"tab": "Compliance timeline"}),
        ]
    return views


def _warm_up_process(at: Any, store_root: Path, memory_limit: str) -> None:
    """Draw the frame and home page, build the in-memory marts, import the chart libraries."""
    from pages._shared import _connection

    for module in CHART_MODULES:  # a server imports them once, not once per page
        importlib.import_module(module)

    _check(at.run(), "home")
    with contextlib.suppress(Exception):  # the app's cached connection, outside a script run
        _connection(str(store_root), memory_limit).wait_until_cached(timeout=600)


def _check(at: Any, name: str) -> Any:
    """Stop the benchmark when a page raised or showed its failure line."""
    if at.exception:
        raise RuntimeError(f"page {name} raised: {at.exception[0].message}")
    failed = [e.value for e in at.error if "could not be drawn" in str(e.value)]
    if failed:
        raise RuntimeError(f"page {name} failed: {failed[0]}")
    return at


def _view(at: Any, name: str, path: str, params: dict[str, str]) -> float:
    """Seconds to draw `path` with `params` in the running app test."""
    at.query_params.clear()
    at.query_params.update(params)
    at.switch_page(path)
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    _check(at, name)
    return elapsed


def page_benchmarks(
    workdir: Path, scale: float, repeat: int, settings: Settings
) -> Iterator[dict[str, Any]]:
    """For each page: its first view and the median of `repeat` warm views, in seconds."""
    from streamlit.testing.v1 import AppTest

    from bench.runner import _row

    store = ensure_store(workdir, scale, settings)
    with _environ(STORMWATER_STORE=str(store.root), STORMWATER_MEMORY_LIMIT=settings.memory_limit):
        views = _views(store.root, settings.memory_limit)
        at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
        _warm_up_process(at, store.root, settings.memory_limit)
        for name, path, params in views:
            first = _view(at, name, path, params)
            warm = [_view(at, name, path, params) for _ in range(max(1, repeat))]
            yield _row(f"page_{name}_warm_s", statistics.median(warm), "s", scale)
            yield _row(f"page_{name}_first_s", first, "s", scale)
