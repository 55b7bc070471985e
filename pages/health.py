"""Data health: refresh and nightly runs (status, duration, rows, rejects), query times,
data-quality figures, the match rate, and the feature flags in effect — what a rollout watches
(docs/OPERATIONS.md)."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from data_layer.health import (
    facilities_with_coordinates,
    match_rate,
    nightly_history,
    null_shares,
    refresh_history,
    refresh_success_rate,
    rejects_by_refresh,
)
from data_layer.quality import quality_flags_summary
from data_layer.query_times import query_time_summary
from data_layer.settings import FEATURE_FLAGS
from matching.links import current_links
from pages import _shared as sh
from pages import palette

st.title("Data health")

rate = sh.run_store(refresh_success_rate, 90)
cols = st.columns(4)
cols[0].metric(
    "Refreshes succeeded (90 days)",
    sh.share(rate["rate"]),
    help=f"{rate['succeeded']:,} of {rate['attempts']:,} dataset refreshes published "
    "or found their source unchanged.",
)
cols[1].metric("Refresh runs", sh.count(rate["runs"]))
cols[2].metric("Runs with a failure", sh.count(rate["runs_with_failure"]))
status = pl.DataFrame(sh.status_rows())
cols[3].metric(
    "Datasets failing",
    sh.count(status.filter(pl.col("health") != "ok").height),
    help="Never published, or an older version serving after a failed refresh.",
)
failing = status.filter(pl.col("last_error").is_not_null())
for row in failing.iter_rows(named=True):
    st.warning(f"`{row['dataset']}`: last refresh failed — {row['last_error']}")

st.subheader("Refresh runs")
history = sh.run_store(refresh_history, 200)
if history.height == 0:
    st.info("No refresh has run yet — run `python cli.py refresh` (or `make run` for the demo).")
else:
    st.dataframe(
        history,
        hide_index=True,
        column_order=[
            "finished_at",
            "dataset",
            "outcome",
            "version",
            "duration_s",
            "rows_in",
            "rows_out",
            "rejects",
            "bytes",
            "error",
        ],
        column_config={
            "finished_at": st.column_config.DatetimeColumn("Finished", format="D MMM YYYY, HH:mm"),
            "dataset": "Dataset",
            "outcome": "Outcome",
            "version": "Version",
            "duration_s": st.column_config.NumberColumn("Duration (s)", format="%.1f"),
            "rows_in": sh.INT | {"label": "Rows read"},
            "rows_out": sh.INT | {"label": "Rows kept"},
            "rejects": sh.INT | {"label": "Rejected"},
            "bytes": st.column_config.NumberColumn("Size", format="compact"),
            "error": "Error",
        },
    )
    rejects = sh.run_store(rejects_by_refresh).drop_nulls("reject_share")
    if rejects.height and not rejects["rejects"].sum():
        st.caption("No refresh has rejected a row.")
    elif rejects.height:
        fig = px.line(
            rejects,
            x="finished_at",
            y="reject_share",
            color="dataset",
            markers=True,
            labels={"finished_at": "", "reject_share": "Rows rejected", "dataset": "Dataset"},
            title="Share of rows rejected per refresh",
            color_discrete_sequence=palette.SEQUENCE,
        )
        fig.update_yaxes(tickformat=".1%", rangemode="tozero")
        fig.update_layout(**palette.plotly_layout(height=300))
        st.plotly_chart(fig, key="rejects")

st.subheader("Nightly runs")
nightly = nightly_history(sh.store(), 60)
if nightly.height == 0:
    st.caption("No nightly run yet — schedule `python cli.py nightly` (see deploy/README.md).")
else:
    st.dataframe(
        nightly,
        hide_index=True,
        column_order=["started", "step", "outcome", "code", "seconds", "summary", "error"],
        column_config={
            "started": st.column_config.DatetimeColumn("Run started", format="D MMM YYYY, HH:mm"),
            "step": "Step",
            "outcome": "Outcome",
            "code": st.column_config.NumberColumn("Exit code", format="%d"),
            "seconds": st.column_config.NumberColumn("Duration (s)", format="%.1f"),
            "summary": "Summary",
            "error": "Error",
        },
    )

st.subheader("Data quality")
left, right = st.columns(2)
coords = sh.run(facilities_with_coordinates)
left.metric(
    "Facilities with coordinates",
    sh.share(coords["share"]),
    help=f"{coords['with_coordinates']:,} of {coords['facilities']:,}; "
    f"{coords['outside_california']:,} fall outside California.",
)
links = current_links(sh.state_engine()) if sh.flag("ENABLE_FACILITY_MATCHING") else None
matched = sh.run(match_rate, links)
right.metric(
    "Linked to an eSMR facility",
    sh.share(matched["rate"]),
    help="Share of SMARTS industrial facilities with a linked eSMR place"
    + (f": {matched['matched']:,} of {matched['facilities']:,}." if matched["facilities"] else "."),
)
if matched.get("note"):
    right.caption(f"eSMR links: {matched['note']}.")
else:
    right.caption(
        f"{matched['queued']:,} candidate pairs ({matched['queued_facilities']:,} facilities) "
        "await review on the Match review page."
    )
nulls = sh.run(null_shares)
left.markdown("**Empty critical fields**")
left.dataframe(
    nulls.filter(pl.col("rows") > 0),
    hide_index=True,
    column_config={
        "dataset": "Dataset",
        "field": "Field",
        "rows": sh.INT | {"label": "Rows"},
        "nulls": sh.INT | {"label": "Empty"},
        "null_share": st.column_config.ProgressColumn(
            "Share empty", format="percent", min_value=0, max_value=1
        ),
    },
    height=400,
)
flags = sh.run(quality_flags_summary)
right.markdown("**Monitoring results flagged**")
right.dataframe(
    flags,
    hide_index=True,
    column_config={
        "source_dataset": "Dataset",
        "flag": "Flag",
        "n_flagged": sh.INT | {"label": "Flagged"},
        "n_samples": sh.INT | {"label": "Results"},
        "share": st.column_config.NumberColumn("Share", format="percent"),
    },
    height=400,
)

st.subheader("Query times")
times = query_time_summary()
if times.height == 0:
    st.caption("No query has run in this app process yet.")
else:
    st.dataframe(
        times,
        hide_index=True,
        column_config={
            "query": "Query",
            "calls": sh.INT | {"label": "Calls"},
            "p50_ms": st.column_config.NumberColumn("p50 (ms)", format="%.1f"),
            "p95_ms": st.column_config.NumberColumn("p95 (ms)", format="%.1f"),
            "max_ms": st.column_config.NumberColumn("Max (ms)", format="%.1f"),
        },
    )
st.caption(
    "Data-layer queries run by this app process since it started (the last 500 of each); "
    "answers Streamlit already holds in its cache are not counted again. Target: p95 under "
    "100 ms."
)

st.subheader("Feature flags in effect")
st.dataframe(
    [{"flag": f, "state": "on" if sh.flag(f) else "off"} for f in FEATURE_FLAGS],
    hide_index=True,
    column_config={"flag": "Flag", "state": "State"},
)
st.caption(
    "Set in the environment (`ENABLE_...=0` turns one off); pages and links of a "
    "flag that is off are hidden."
)
