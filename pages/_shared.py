"""What every page shares: the cached store connection and queries, URL-bound filters,
exports with their evidence, facility links and formatting.

Pages call `run(query_fn, ...)` for any `data_layer` function that takes a cursor and
`run_store(fn, ...)` for one that takes the store; both are cached against the store's
signature, so a publish shows up without a restart. Filters are widgets whose key is
their query parameter: the URL seeds them on arrival and is rewritten after every change.
"""

from __future__ import annotations

import datetime as dt
import io
import json
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


# --- exports and their evidence -------------------------------------------------------


def with_evidence(
    frame: pl.DataFrame,
    dataset: str | None,
    source_id: str | pl.Expr,
    computed: tuple[str, str] | None = None,
    basis: str | None = None,
    also: Sequence[str] = (),
) -> pl.DataFrame:
    """The frame plus the same `evidence_*` columns on every export.

    evidence_source_dataset and evidence_source_id (the row id in that dataset),
    evidence_dataset_version and evidence_source_date (from the store's status),
    evidence_basis ('official record' or 'computed screening'), evidence_nd_rule and
    evidence_nal_table (for computed rows, when `computed` = (nd_rule, nal_version)),
    and evidence_view_url, the link that reproduces the view. `dataset` None reads
    each row's `source_dataset` column; a frame with an `official` column mixes both
    bases row by row; `basis` names it for rows that carry both kinds of figure.
    `also` lists other datasets the figures were computed from: their versions and
    source dates go in evidence_also_versions.
    """
    rows = versions()
    ds = pl.lit(dataset, pl.String) if dataset else pl.col("source_dataset")
    ident = pl.col(source_id) if isinstance(source_id, str) else source_id

    def lookup(field: str) -> pl.Expr:
        mapping = {k: str(v.get(field)) if v.get(field) else None for k, v in rows.items()}
        return ds.replace_strict(mapping, default=None, return_dtype=pl.String)

    if "official" in frame.columns:
        is_computed = ~pl.col("official").fill_null(False)
    else:
        is_computed = pl.lit(computed is not None)
    nd_rule, nal = computed or (None, None)
    return frame.with_columns(
        ds.alias("evidence_source_dataset"),
        ident.cast(pl.String).alias("evidence_source_id"),
        lookup("version").alias("evidence_dataset_version"),
        lookup("source_modified").alias("evidence_source_date"),
        (
            pl.lit(basis)
            if basis
            else pl.when(is_computed)
            .then(pl.lit("computed screening"))
            .otherwise(pl.lit("official record"))
        ).alias("evidence_basis"),
        pl.when(is_computed).then(pl.lit(nd_rule, pl.String)).alias("evidence_nd_rule"),
        pl.when(is_computed).then(pl.lit(nal, pl.String)).alias("evidence_nal_table"),
        pl.lit(
            "; ".join(
                f"{name} {rows.get(name, {}).get('version')} "
                f"(source {rows.get(name, {}).get('source_modified')})"
                for name in also
            )
            or None,
            pl.String,
        ).alias("evidence_also_versions"),
        pl.lit(view_url()).alias("evidence_view_url"),
    )


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become '; '-joined text so the CSV holds every value."""
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(pl.col(c).cast(pl.List(pl.String)).list.join("; ") for c in lists)


def export_buttons(frame: pl.DataFrame, name: str, key: str) -> None:
    """CSV and Parquet downloads of `frame` (already carrying its evidence columns)."""
    stamp = dt.date.today().isoformat()

    def csv() -> bytes:
        return _flat(frame).write_csv().encode("utf-8")

    def parquet() -> bytes:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return buffer.getvalue()

    left, right, note = st.columns([1, 1, 4], vertical_alignment="center")
    left.download_button(
        "CSV",
        csv,
        f"{name}_{stamp}.csv",
        "text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "Parquet",
        parquet,
        f"{name}_{stamp}.parquet",
        "application/vnd.apache.parquet",
        key=f"{key}_parquet",
        icon=":material/download:",
        on_click="ignore",
    )
    note.caption(
        f"{count(frame.height)} rows, with `evidence_*` columns: source row ids, "
        "dataset versions and source dates, basis (official or computed, with its ND rule "
        "and NAL table), and the link to this view."
    )


def evidence_json(extra: dict[str, Any]) -> str:
    """A small evidence record (for figures that are not rows)."""
    record = {
        "view_url": view_url(),
        "datasets": {
            k: {"version": v.get("version"), "source_date": v.get("source_modified")}
            for k, v in versions().items()
        },
        **extra,
    }
    return json.dumps(record, indent=2, default=str)


# --- charts -----------------------------------------------------------------------------


def bar(
    frame: pl.DataFrame,
    x: str,
    y: str,
    title: str,
    orientation: str = "v",
    colour: str | None = None,
    stack: str | None = None,
) -> Any:
    """A count bar chart in the shared palette ("len" columns are labelled Count)."""
    import plotly.express as px

    from pages import palette

    labels = {x: "", y: "", "len": "Count"}
    fig = px.bar(
        frame,
        x=x,
        y=y,
        orientation=orientation,
        color=stack,
        title=title,
        labels=labels,
        color_discrete_sequence=[colour] if colour else palette.SEQUENCE,
        color_discrete_map=palette.BADGE,
    )
    fig.update_layout(**palette.plotly_layout(height=320, legend_title_text=""))
    return fig


def timeline_figure(events: pl.DataFrame) -> Any:
    """Compliance events on one time axis, a row per kind; hover shows the source record."""
    import plotly.graph_objects as go

    from pages import palette

    fig = go.Figure()
    for kind in ("exceedance", "inspection", "violation", "enforcement"):
        part = events.filter(pl.col("kind") == kind)
        if part.height == 0:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["event_date"].to_list(),
                y=[palette.KIND_LABEL[kind]] * part.height,
                mode="markers",
                name=palette.KIND_LABEL[kind],
                marker={
                    "color": palette.KIND[kind],
                    "size": 13,
                    "symbol": "diamond-open" if kind == "exceedance" else "circle",
                    "line": {"width": 2, "color": palette.KIND[kind]},
                },
                customdata=part.select("title", "detail", "source_dataset", "source_id").rows(),
                hovertemplate="<b>%{customdata[0]}</b><br>%{x|%-d %b %Y}<br>"
                "%{customdata[1]}<br><i>source: %{customdata[2]} row %{customdata[3]}</i>"
                "<extra></extra>",
            )
        )
    fig.update_layout(**palette.plotly_layout(height=340, showlegend=False))
    fig.update_yaxes(
        title="",
        categoryorder="array",
        categoryarray=[palette.KIND_LABEL[k] for k in palette.KIND_LABEL][::-1],
    )
    return fig


def _result_ids(frame: pl.DataFrame) -> list[tuple]:
    """Where each result came from, for hover text ("—" where a source has no such id)."""
    ids = pl.col("location", "sample_id", "report_id").cast(pl.String).fill_null("—")
    return frame.select(ids).rows()


def series_figure(series: pl.DataFrame, averages: pl.DataFrame, title: str, units: str) -> Any:
    """One parameter's results at one facility: detected results, non-detects at their
    reporting limit (hollow, grey), NAL lines, and the computed annual averages."""
    import datetime as _dt

    import plotly.graph_objects as go

    from pages import palette

    fig = go.Figure()
    detected = series.filter(~pl.col("is_nd") & pl.col("result").is_not_null())
    nd = series.filter(pl.col("is_nd"))
    hover = (
        "<b>%{y:.4g} " + units + "</b> on %{x|%-d %b %Y}<br>%{customdata[0]}, sample "
        "%{customdata[1]}, report %{customdata[2]}<extra></extra>"
    )
    fig.add_trace(
        go.Scatter(
            x=detected["sample_date"].to_list(),
            y=detected["result"].to_list(),
            mode="markers",
            name="result",
            marker={"color": palette.KIND["monitoring"], "size": 7},
            customdata=_result_ids(detected),
            hovertemplate=hover,
        )
    )
    if nd.height:
        fig.add_trace(
            go.Scatter(
                x=nd["sample_date"].to_list(),
                y=nd["reporting_limit"].to_list(),
                mode="markers",
                name="non-detect (at reporting limit)",
                marker={"color": palette.ND_MARKER, "size": 8, "symbol": "triangle-down-open"},
                customdata=_result_ids(nd),
                hovertemplate="non-detect, RL %{y:.4g} " + units + hover[hover.index("</b>") + 4 :],
            )
        )
    for i, row in enumerate(averages.iter_rows(named=True)):
        if row["average"] is None:
            continue
        start = _dt.date(row["reporting_year"], 7, 1)
        fig.add_trace(
            go.Scatter(
                x=[start, _dt.date(row["reporting_year"] + 1, 6, 30)],
                y=[row["average"]] * 2,
                mode="lines",
                showlegend=i == 0,
                name="annual average (computed)",
                line={"color": palette.KIND["exceedance"], "width": 3},
                hovertemplate=f"{reporting_year(row['reporting_year'])} average "
                f"{row['average']:.4g} {units} over {row['n_used']} results (computed)"
                "<extra></extra>",
            )
        )
    first = series.row(0, named=True) if series.height else {}
    for field, label, dash, side in (
        ("annual_nal", "annual NAL", "dash", "top left"),
        ("instantaneous_max_nal", "instantaneous NAL", "dot", "top right"),
        ("instantaneous_min_nal", "instantaneous minimum", "dot", "bottom right"),
    ):
        if first.get(field) is not None:
            fig.add_hline(
                y=first[field],
                line={"color": palette.NAL_LINE, "dash": dash},
                annotation_text=f"{label} {first[field]:g} {units}",
                annotation_position=side,
            )
    fig.update_layout(**palette.plotly_layout(height=320, title=title))
    fig.update_yaxes(title=units)
    return fig


def histogram_figure(
    hist: pl.DataFrame, title: str, units: str, lines: dict[str, float | None]
) -> Any:
    """Binned counts as a filled step (log axis when the bins are), with NAL lines."""
    import plotly.graph_objects as go

    from pages import palette

    log = hist["scale"][0] == "log"
    x = [*hist["bin_low"], hist["bin_high"][-1]]
    y = [*hist["n"], hist["n"][-1]]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            line_shape="hv",
            fill="tozeroy",
            name="results",
            line={"color": palette.KIND["monitoring"]},
            hovertemplate="from %{x:.4g} " + units + ": %{y} results<extra></extra>",
        )
    )
    for (text, value), side in zip(lines.items(), ("top left", "top right"), strict=False):
        if value is not None and value > 0:
            fig.add_vline(
                x=value,
                line={"color": palette.NAL_LINE, "dash": "dash"},
                annotation_text=f"{text} {value:g} {units}",
                annotation_position=side,
            )
    fig.update_layout(**palette.plotly_layout(height=340, title=title, showlegend=False))
    fig.update_xaxes(type="log" if log else "linear", title=units + (" (log scale)" if log else ""))
    fig.update_yaxes(title="Results")
    return fig


def era_figure(levels: pl.DataFrame) -> Any:
    """ERA level per parameter over time, as steps (computed screening)."""
    import plotly.graph_objects as go

    from pages import palette

    fig = go.Figure()
    today = dt.date.today()
    for i, (param,) in enumerate(levels.select("parameter").unique(maintain_order=True).rows()):
        part = levels.filter(pl.col("parameter") == param).sort("effective_date")
        dates = [part["effective_date"][0] - dt.timedelta(days=365), *part["effective_date"], today]
        steps = [0, *part["level"], part["level"][-1]]
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=steps,
                mode="lines+markers",
                line_shape="hv",
                name=param,
                line={"color": palette.SEQUENCE[i % len(palette.SEQUENCE)], "width": 3},
                hovertemplate=param + ": Level %{y} from %{x|%-d %b %Y}<extra></extra>",
            )
        )
    fig.update_layout(**palette.plotly_layout(height=300))
    fig.update_yaxes(
        tickvals=[0, 1, 2], ticktext=["Baseline", "Level 1", "Level 2"], range=[-0.2, 2.3]
    )
    return fig


def pin_map(lat: float, lon: float, label: str) -> None:
    """A small map with one pin."""
    import pydeck as pdk

    from pages import palette

    layer = pdk.Layer(
        "ScatterplotLayer",
        data=[{"lat": lat, "lon": lon, "name": label}],
        get_position="[lon, lat]",
        get_radius=120,
        radius_min_pixels=7,
        get_fill_color=[*palette.MAP_SCALE[-1], 230],
        pickable=True,
    )
    view = pdk.ViewState(latitude=lat, longitude=lon, zoom=11)
    st.pydeck_chart(
        pdk.Deck(layers=[layer], initial_view_state=view, tooltip={"text": "{name}"}), height=300
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
