"""What every page shares: the cached store connection and queries, URL-bound filters,
facility links and formatting (charts are in `_charts`, exports in `_exports`).

Pages call `run(query_fn, ...)` for any `data_layer` function that takes a cursor and
`run_store(fn, ...)` for one that takes the store; both are cached against the store's
signature, so a publish shows up without a restart. Filters are widgets whose key is
their query parameter: the URL seeds them on arrival and is rewritten after every change.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import polars as pl
import streamlit as st

from data_layer.connection import StoreConnection, open_store
from data_layer.filters import MAX_LIMIT
from data_layer.results import Page
from data_layer.settings import Settings
from data_layer.status import dataset_status
from data_layer.store import Store

log = logging.getLogger("app")

CACHE_TTL = 3600
PAGE_SIZE = 50
FACILITY_PAGE = "pages/facilities.py"
REFRESH_HINT = "run `python cli.py refresh --dataset {dataset}`"
APP_DIR = Path(__file__).resolve().parents[1]

#: (file, title, icon, feature flag or None), by section. Flags hide pages and their links.
NAV: dict[str, list[tuple[str, str, str, str | None]]] = {
    "": [("pages/home.py", "Home", ":material/home:", None)],
    "Official records": [
        ("pages/violations.py", "Violations", ":material/report:", "ENABLE_SMARTS_VIOLATIONS"),
        ("pages/enforcement.py", "Enforcement", ":material/gavel:", "ENABLE_ENFORCEMENT_TRACKING"),
        ("pages/inspections.py", "Inspections", ":material/search_check:", "ENABLE_INSPECTIONS"),
    ],
    "Facilities": [
        ("pages/facilities.py", "Facilities", ":material/factory:", None),
        ("pages/map.py", "Map", ":material/map:", None),
    ],
    "Computed screening": [
        ("pages/monitoring.py", "Monitoring", ":material/water_drop:", None),
        ("pages/gaps.py", "Gap finder", ":material/rule:", None),
    ],
    "Data": [
        ("pages/health.py", "Data health", ":material/monitor_heart:", None),
        ("pages/review.py", "Match review", ":material/join:", "ENABLE_FACILITY_MATCHING"),
    ],
}


def page_enabled(path: str, cfg: Settings | None = None) -> bool:
    """A page is listed (and linked to) when its file exists and its flag is on."""
    cfg = cfg or settings()
    flags = {p: f for entries in NAV.values() for p, _t, _i, f in entries}
    flag_name = flags.get(path)
    return (APP_DIR / path).is_file() and (not flag_name or cfg.flags.get(flag_name, True))


def page_title(path: str) -> str:
    return next(t for entries in NAV.values() for p, t, _i, _f in entries if p == path)


class K:
    """Session-state keys (UI state only). Filter keys double as query-parameter names."""

    SETTINGS = "_settings"  # the Settings app.py read this run
    IN_FRAME = "_in_frame"  # True while app.py is drawing the page
    PAGE = "_page"  # url_path of the page drawn now
    PREVIOUS_PAGE = "_previous_page"  # ... and of the run before
    OPEN_FACILITY = "_open_facility"  # {wdid, app_id} asked for by a table's Open button
    ND_RULE = "nd"  # the non-detect rule, shared by every screening page
    PAGE_NUMBER = "page"  # table page, 1-based
    SORT = "sort"
    ASCENDING = "asc"
    REGION = "region"
    COUNTY = "county"
    PERMIT = "permit"
    TYPE = "type"
    STATUS = "status"
    PRIORITY = "priority"
    SERIOUS = "serious"
    DATE_FROM = "from"
    DATE_TO = "to"
    FACILITY_TEXT = "q"
    PURPOSE = "purpose"
    INSPECTOR = "inspector"
    FOLLOW_UP = "follow_up"
    FOUND = "found"
    PARAMETER = "parameter"
    YEAR = "year"
    YEAR_FROM = "year_from"
    YEAR_TO = "year_to"
    COLOUR_BY = "colour"
    EXCEEDING = "exceeding"
    COMPARE = "compare"
    WDID = "wdid"
    APP_ID = "app_id"
    TAB = "tab"
    PAIR = "pair"  # the candidate pair shown on the review page: wdid|app_id|place id
    BAND = "band"
    SHOW = "show"
    BLIND = "blind"
    REVIEWER = "_reviewer"  # the signed-in reviewer's name
    SIGN_IN_REFUSED = "_sign_in_refused"  # the last sign-in attempt failed
    SKIPPED = "_skipped"  # pairs a reviewer skipped this session, shown last
    FLASH = "_flash"  # (kind, message) from the last review action, shown once
    LAST_DECISION = "_last_decision"  # the pair this session's reviewer last decided


def init_state(settings: Settings, page_path: str) -> None:
    """Called by app.py each run: settings for the pages, which page is drawn now."""
    st.session_state[K.SETTINGS] = settings
    st.session_state[K.PREVIOUS_PAGE] = st.session_state.get(K.PAGE)
    st.session_state[K.PAGE] = page_path
    st.session_state.setdefault(K.OPEN_FACILITY, None)


def settings() -> Settings:
    """The settings app.py read this run.

    A page runs outside app.py's frame only in Streamlit's legacy `pages/` folder mode,
    which serves the first visit after a server start that lands on a page's URL (and
    every AppTest run after the first). Declaring the navigation leaves that mode; the
    rerun then goes through app.py to the same page and query string.
    """
    if not st.session_state.get(K.IN_FRAME):
        paths = [p for entries in NAV.values() for p, *_ in entries if (APP_DIR / p).is_file()]
        st.navigation([st.Page(str(APP_DIR / p)) for p in paths], position="hidden")
        st.rerun()
    return st.session_state[K.SETTINGS]


def flag(name: str) -> bool:
    """A feature flag (DESIGN §4) in effect for this run."""
    return settings().flags.get(name, True)


# --- store, cache ---------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _connection(root: str, memory_limit: str) -> StoreConnection:
    return open_store(root, memory_limit)


def connection() -> StoreConnection:
    cfg = settings()
    return _connection(str(cfg.store), cfg.memory_limit)


def store() -> Store:
    return connection().store


@st.cache_resource(show_spinner=False)
def _state_engine(url: str) -> Any:
    from matching.state import open_state

    return open_state(url)


def state_engine() -> Any:
    """The decision store (match runs, pairs, decisions), one engine per URL for all sessions."""
    return _state_engine(settings().state_url)


@st.cache_data(ttl=CACHE_TTL, max_entries=400, show_spinner="Querying the store…")
def _cached(name: str, store_key: str, args: tuple, kwargs: dict, _call: Callable[[], Any]) -> Any:
    return _call()


def _store_key(conn: StoreConnection) -> str:
    """The store's root and signature: a publish anywhere changes it."""
    return f"{conn.store.root}#{conn.signature}"


def _name(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def run(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """`fn(cursor, *args, **kwargs)` through the cache, keyed on the store's signature."""
    conn = connection()
    cur = conn.cursor()
    try:
        return _cached(
            _name(fn), _store_key(conn), args, kwargs, _call=lambda: fn(cur, *args, **kwargs)
        )
    finally:
        cur.close()


def run_store(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """`fn(store, *args, **kwargs)` through the cache (status, run log, change sets)."""
    conn = connection()
    return _cached(
        _name(fn), _store_key(conn), args, kwargs, _call=lambda: fn(conn.store, *args, **kwargs)
    )


def run_all(fn: Callable, **filters: Any) -> pl.DataFrame:
    """Every row a paged query matches (for charts and exports), fetched page by page."""

    def fetch(cur: Any, **kw: Any) -> pl.DataFrame:
        frames, offset = [], 0
        while True:
            page: Page = fn(cur, **kw, limit=MAX_LIMIT, offset=offset)
            frames.append(page.rows)
            offset += MAX_LIMIT
            if offset >= page.total:
                return pl.concat(frames, how="vertical_relaxed")

    fetch.__qualname__ = f"all:{_name(fn)}"
    return run(fetch, **filters)


def status_rows() -> list[dict[str, Any]]:
    return run_store(dataset_status)


def versions() -> dict[str, dict[str, Any]]:
    """Per dataset: version and source date, as exports cite them."""
    return {r["dataset"]: r for r in status_rows()}


def require(*datasets: str) -> None:
    """Stop the page with one line when a dataset it needs was never published."""
    rows = versions()
    for name in datasets:
        if not rows.get(name, {}).get("version"):
            st.info(f"No published version of `{name}` yet — {REFRESH_HINT.format(dataset=name)}.")
            st.stop()


def options() -> dict[str, list]:
    from data_layer.facilities import facility_options

    return run(facility_options)


# --- URL-bound filters ----------------------------------------------------------------


def _fresh() -> bool:
    """True on the first run of a page after arriving from another one (or a new tab)."""
    return st.session_state.get(K.PAGE) != st.session_state.get(K.PREVIOUS_PAGE)


def _seed(
    key: str,
    from_url: Callable[[], Any],
    default: Any,
    valid: Callable[[Any], bool],
    sticky: bool = False,
) -> None:
    """Set a filter's state before its widget: the URL on arrival, else keep, else default."""
    keep = key in st.session_state and (sticky or not _fresh())
    if keep and valid(st.session_state[key]):
        return
    value = default
    if key in st.query_params:
        try:
            parsed = from_url()
            value = parsed if valid(parsed) else default
        except (TypeError, ValueError):
            value = default
    st.session_state[key] = value


def _publish(key: str, value: Any, default: Any) -> None:
    """Write a filter to the URL; its default leaves the URL clean."""
    if value == default or value in (None, "", []):
        if key in st.query_params:
            del st.query_params[key]
        return
    if isinstance(value, list):
        st.query_params[key] = [str(v) for v in value]
    elif isinstance(value, dt.date):
        st.query_params[key] = value.isoformat()
    elif isinstance(value, bool):
        st.query_params[key] = "1" if value else "0"
    else:
        st.query_params[key] = str(value)


def _to_first_page() -> None:
    st.session_state[K.PAGE_NUMBER] = 1


def url_multiselect(label: str, options: Sequence[Any], key: str, **kw: Any) -> list:
    opts = list(options)
    _seed(
        key,
        lambda: [v for v in st.query_params.get_all(key) if v in opts],
        [],
        lambda v: isinstance(v, list) and all(x in opts for x in v),
    )
    value = st.sidebar.multiselect(label, opts, key=key, on_change=_to_first_page, **kw)
    _publish(key, value, [])
    return value


def url_select(
    label: str,
    options: Sequence[Any],
    key: str,
    default: Any = None,
    sticky: bool = False,
    where: Any = None,
    **kw: Any,
) -> Any:
    opts = list(options)
    by_text = {str(o): o for o in opts}
    default = opts[0] if default is None and opts else default
    _seed(key, lambda: by_text[st.query_params[key]], default, lambda v: v in opts, sticky)
    if sticky:  # kept for the session, across pages that do not draw it
        kw["persist_state"] = "session"
    value = (where or st.sidebar).selectbox(label, opts, key=key, on_change=_to_first_page, **kw)
    _publish(key, value, default)
    return value


def url_text(label: str, key: str, where: Any = None, **kw: Any) -> str:
    _seed(key, lambda: st.query_params[key], "", lambda v: isinstance(v, str))
    value = (where or st.sidebar).text_input(label, key=key, on_change=_to_first_page, **kw)
    _publish(key, value.strip(), "")
    return value.strip()


def url_date(label: str, key: str, **kw: Any) -> dt.date | None:
    _seed(
        key,
        lambda: dt.date.fromisoformat(st.query_params[key]),
        None,
        lambda v: v is None or isinstance(v, dt.date),
    )
    value = st.sidebar.date_input(
        label, key=key, on_change=_to_first_page, format="YYYY-MM-DD", **kw
    )
    _publish(key, value, None)
    return value


def url_toggle(label: str, key: str, default: bool = False, where: Any = None) -> bool:
    _seed(key, lambda: st.query_params[key] == "1", default, lambda v: isinstance(v, bool))
    value = (where or st.sidebar).toggle(label, key=key, on_change=_to_first_page)
    _publish(key, value, default)
    return value


def url_tabs(labels: list[str]) -> list[Any]:
    """Tabs that run only the open one; the open tab is kept in the URL as `tab`."""
    _seed(K.TAB, lambda: st.query_params[K.TAB], labels[0], lambda v: v in labels)
    tabs = st.tabs(labels, key=K.TAB, on_change="rerun")
    _publish(K.TAB, st.session_state.get(K.TAB), labels[0])
    return tabs


def sort_controls(columns: dict[str, str], default: str) -> tuple[str, bool]:
    """Sort column (labels as shown) and direction, both in the URL; returns (column, desc)."""
    column = url_select(
        "Sort by", list(columns), K.SORT, default=default, format_func=lambda c: columns[c]
    )
    ascending = url_toggle("Oldest / smallest first", K.ASCENDING)
    return column, not ascending


def nd_rule_control(where: Any = None) -> str:
    """The non-detect rule, one control shared by the screening pages (kept across them)."""
    from data_layer.nal_table import DEFAULT_ND_RULE, ND_RULES

    return url_select(
        "Non-detects in averages",
        ND_RULES,
        K.ND_RULE,
        default=DEFAULT_ND_RULE,
        sticky=True,
        where=where,
        format_func=nd_label,
        help="What a result below the reporting limit counts as in averages. The permit's "
        "own rule (the default) leaves non-detects out of NAL calculations.",
    )


def page_number() -> int:
    _seed(
        K.PAGE_NUMBER,
        lambda: int(st.query_params[K.PAGE_NUMBER]),
        1,
        lambda v: isinstance(v, int) and v >= 1,
    )
    return st.session_state[K.PAGE_NUMBER]


def pager(total: int) -> None:
    """The page picker under a table (kept in the URL as `page`)."""
    pages = max(1, -(-total // PAGE_SIZE))
    if st.session_state.get(K.PAGE_NUMBER, 1) > pages:
        st.session_state[K.PAGE_NUMBER] = pages
    if pages > 1:
        st.pagination(pages, key=K.PAGE_NUMBER)
    _publish(K.PAGE_NUMBER, st.session_state.get(K.PAGE_NUMBER, 1), 1)


def view_url() -> str:
    """The link that reproduces this view: page URL plus every query parameter."""
    base = st.context.url or f"/{st.session_state.get(K.PAGE) or ''}"
    pairs = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    return base + ("?" + urlencode(pairs) if pairs else "")


# --- facility links -------------------------------------------------------------------


def _open_row(key: str, ids: list[tuple[str, str]]) -> None:
    click = st.session_state.get(key)
    if click is not None and 0 <= click["row"] < len(ids):
        wdid, app_id = ids[click["row"]]
        st.session_state[K.OPEN_FACILITY] = {K.WDID: wdid, K.APP_ID: app_id}


def table(
    frame: pl.DataFrame,
    key: str,
    column_config: dict | None = None,
    facility: bool = True,
    height: int | str = "auto",
    every_column: bool = False,
) -> None:
    """A read-only table of the configured columns (`every_column`: the others after them);
    with `facility`, an Open button per row leads to the facility page."""
    config = dict(column_config or {})
    if facility and {"wdid", "app_id"} <= set(frame.columns) and frame.height:
        ids = list(zip(frame["wdid"].to_list(), frame["app_id"].to_list(), strict=True))
        frame = frame.with_columns(pl.lit("Open").alias("_open"))
        button = st.column_config.ButtonColumn(
            "",
            type="tertiary",
            on_click=_open_row,
            args=(f"{key}_open", ids),
            key=f"{key}_open",
            help="Open the facility page",
        )
        config = {"_open": button, **config}
    shown = [c for c in config if c in frame.columns]
    if every_column:
        shown += [c for c in frame.columns if c not in config]
    st.dataframe(
        frame,
        hide_index=True,
        column_config=config,
        column_order=shown,
        height=height,
        placeholder="—",
    )


def open_facility(wdid: str, app_id: str, label: str, where: Any = None) -> None:
    """A link to a facility page (same tab), addressed as ?wdid=...&app_id=..."""
    (where or st).page_link(
        FACILITY_PAGE,
        label=label,
        icon=":material/factory:",
        query_params={K.WDID: wdid, K.APP_ID: app_id},
    )


# --- wording and formatting -----------------------------------------------------------


ND_LABELS = {
    "exclude": "leave out (permit's rule)",
    "zero": "count as 0",
    "half_rl": "count as ½ reporting limit",
    "rl": "count as reporting limit",
}


def nd_label(rule: str) -> str:
    return ND_LABELS.get(rule, rule)


def screening_label(nd_rule: str, nal_version: str | None) -> str:
    """How every computed figure is labelled."""
    return (
        f"computed screening (rule: non-detects {nd_label(nd_rule)}, "
        f"NAL table {nal_version or 'n/a'})"
    )


def nal_version() -> str:
    from data_layer.nal_table import load_nal_table

    return load_nal_table().version


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:&])")


def plain(text: Any) -> str:
    """Text from the data made safe for markdown: every markup character backslash-escaped,
    so a name like `<b>*x*</b>` shows as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def count(n: Any) -> str:
    return "—" if n is None else f"{int(n):,}"


def money(x: Any) -> str:
    return "—" if x is None else f"${x:,.0f}"


def day(d: Any) -> str:
    if d is None:
        return "—"
    if isinstance(d, str):
        try:
            d = dt.datetime.fromisoformat(d)
        except ValueError:
            return d
    return d.strftime("%-d %b %Y")


def share(x: Any) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def reporting_year(y: int) -> str:
    """A July–June reporting year as people write it: 2023–24."""
    return f"{y}–{str(y + 1)[-2:]}"


def badges(label: str = "Badges") -> Any:
    """A table column of coloured labels (a list per row), coloured from the palette."""
    from pages import palette

    return st.column_config.MultiselectColumn(
        label, options=list(palette.BADGE), color=list(palette.BADGE.values())
    )


DATE = st.column_config.DateColumn(format="D MMM YYYY")
USD = st.column_config.NumberColumn(format="dollar")
INT = st.column_config.NumberColumn(format="localized")
