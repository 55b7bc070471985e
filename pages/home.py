"""Home: what the data is, how fresh each dataset is, what the last refresh changed,
headline figures, and a way into every page the feature flags allow."""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_layer.changes import changes_summary
from data_layer.enforcement import enforcement_totals
from data_layer.health import facilities_with_coordinates
from data_layer.inspections import inspections
from data_layer.violations import violations
from pages import _shared as sh

st.title("Stormwater Watch · SMARTS")
st.caption(
    "California's SMARTS stormwater exports (facilities, violations, enforcement, inspections, "
    "monitoring) and CIWQS eSMR effluent samples, loaded into a versioned Parquet store. "
    "Official records are kept apart from the exceedances this product computes."
)

status = sh.status_rows()
published = {r["dataset"] for r in status if r["version"]}

if published:
    st.subheader("Headline figures")
    cols = st.columns(5)
    located = sh.run(facilities_with_coordinates)
    cols[0].metric(
        "Facilities",
        sh.count(located["facilities"]),
        help="Industrial and construction applications (WDID + app id).",
    )
    if sh.flag("ENABLE_SMARTS_VIOLATIONS"):
        cols[1].metric("Violations (official)", sh.count(sh.run(violations, limit=1).total))
    if sh.flag("ENABLE_ENFORCEMENT_TRACKING"):
        totals = sh.run(enforcement_totals)
        cols[2].metric(
            "Enforcement actions",
            sh.count(totals["count"]),
            help=f"{sh.money(totals['assessed'])} assessed in penalties.",
        )
        cols[3].metric(
            "Penalties assessed",
            sh.money(totals["assessed"]),
            help=f"{sh.money(totals['received'])} received so far.",
        )
    if sh.flag("ENABLE_INSPECTIONS"):
        cols[4].metric("Inspections", sh.count(sh.run(inspections, limit=1).total))

st.subheader("Datasets")
st.dataframe(
    pl.DataFrame(status).select(
        "dataset", "health", "rows", "version", "source_modified", "published_at", "last_outcome"
    ),
    hide_index=True,
    column_config={
        "dataset": "Dataset",
        "health": "Health",
        "rows": sh.INT | {"label": "Rows"},
        "version": "Version",
        "source_modified": st.column_config.DatetimeColumn("Source date", format="D MMM YYYY"),
        "published_at": st.column_config.DatetimeColumn("Published", format="D MMM YYYY, HH:mm"),
        "last_outcome": "Last refresh",
    },
)

if published:
    st.subheader("What the last refresh changed")
    changes = sh.run_store(changes_summary).filter(pl.col("version").is_not_null())
    added = dict(zip(changes["dataset"], changes["added"], strict=True))
    news = [
        ("violations", "New violations", "pages/violations.py"),
        ("enforcement_actions", "New enforcement actions", "pages/enforcement.py"),
        ("inspections", "New inspections", "pages/inspections.py"),
    ]
    cols = st.columns(len(news))
    for col, (dataset, label, path) in zip(cols, news, strict=True):
        if sh.page_enabled(path) and dataset in added:
            col.metric(label, sh.count(added[dataset]))
            col.page_link(path, label=f"See {sh.page_title(path).lower()}", icon=":material/east:")
    st.dataframe(
        changes.select("dataset", "published_at", "rows", "added", "changed", "removed"),
        hide_index=True,
        column_config={
            "dataset": "Dataset",
            "published_at": st.column_config.DatetimeColumn("Published", format="D MMM YYYY"),
            "rows": sh.INT | {"label": "Rows now"},
            "added": sh.INT | {"label": "Added"},
            "changed": sh.INT | {"label": "Changed"},
            "removed": sh.INT | {"label": "Removed"},
        },
    )
    st.caption("Counted by key against the version each publish replaced.")

st.subheader("Pages")
blurbs = {
    "pages/violations.py": "official violations, filtered, charted and exported",
    "pages/enforcement.py": "enforcement actions with penalties",
    "pages/inspections.py": "inspections and the violations they found",
    "pages/facilities.py": "search a facility; its whole compliance story on one page",
    "pages/map.py": "facilities on a map, coloured by violations or computed exceedances",
    "pages/monitoring.py": "statewide monitoring results against the NALs (computed)",
    "pages/gaps.py": "years with computed exceedances and no official response",
    "pages/health.py": "refresh runs, data quality, feature flags",
}
left, right = st.columns(2)
links = [p for p in blurbs if sh.page_enabled(p)]
for i, path in enumerate(links):
    (left if i % 2 == 0 else right).page_link(
        path, label=f"**{sh.page_title(path)}** — {blurbs[path]}"
    )
