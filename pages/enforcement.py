"""Enforcement: the official actions with their penalties, filtered from the sidebar (every
filter in the URL), totalled, counted by type and year, listed and exported with evidence."""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_layer.enforcement import enforcement_actions, enforcement_totals
from pages import _shared as sh
from pages import palette
from pages._charts import bar
from pages._exports import export_buttons, with_evidence
from pages._shared import K

st.title("Enforcement actions")
st.caption(
    "Official records entered by Water Board staff (SMARTS). Penalty amounts in US dollars; "
    "where an amount was worked out from the others (e.g. received = assessed − balance) the "
    "row is marked *derived*."
)
sh.require("enforcement_actions")

opts = sh.options()
filters = dict(
    facility=sh.url_text("Facility, WDID or city", K.FACILITY_TEXT) or None,
    region=sh.url_multiselect("Regional Board", opts["regions"], K.REGION),
    county=sh.url_multiselect("County", opts["counties"], K.COUNTY),
    permit_type=sh.url_multiselect("Permit type", opts["permit_types"], K.PERMIT),
    enforcement_type=sh.url_multiselect("Action type", opts["enforcement_types"], K.TYPE),
    status=sh.url_multiselect("Status", opts["enforcement_statuses"], K.STATUS),
    date_from=sh.url_date("Issued from", K.DATE_FROM),
    date_to=sh.url_date("Issued to", K.DATE_TO),
)
sort, descending = sh.sort_controls(
    {
        "issuance_date": "Issuance date",
        "due_date": "Due date",
        "assessed": "Penalty assessed",
        "balance": "Balance due",
        "enforcement_type": "Type",
        "enforcement_status": "Status",
        "facility_name": "Facility",
        "region": "Regional Board",
    },
    "issuance_date",
)

totals = sh.run(enforcement_totals, **filters)
cols = st.columns(4)
cols[0].metric("Actions matching", sh.count(totals["count"]))
cols[1].metric("With a penalty", sh.count(totals["with_penalty"]))
cols[2].metric("Assessed", sh.money(totals["assessed"]))
cols[3].metric(
    "Received", sh.money(totals["received"]), help=f"Balance due {sh.money(totals['balance'])}"
)
if totals["count"] == 0:
    st.info("No enforcement actions match these filters — widen the dates or clear a filter.")
    st.stop()

page = sh.run(
    enforcement_actions,
    **filters,
    sort=sort,
    descending=descending,
    limit=sh.PAGE_SIZE,
    offset=(sh.page_number() - 1) * sh.PAGE_SIZE,
)
everything = sh.run_all(enforcement_actions, **filters)
by_type, by_year = st.columns(2)
by_type.plotly_chart(
    bar(
        everything.group_by("enforcement_type").len().sort("len"),
        x="len",
        y="enforcement_type",
        title="By type",
        orientation="h",
        colour=palette.KIND["enforcement"],
    ),
    key="by_type",
)
by_year.plotly_chart(
    bar(
        everything.group_by("issuance_year", "enforcement_status").len().sort("issuance_year"),
        x="issuance_year",
        y="len",
        title="By year of issuance",
        stack="enforcement_status",
    ),
    key="by_year",
)

rows = page.rows.with_columns(
    pl.concat_list(
        pl.col("enforcement_status"),
        pl.when(pl.col("penalty_derived")).then(pl.lit("penalty derived")),
    )
    .list.drop_nulls()
    .alias("badges")
)
sh.table(
    rows,
    key="enforcement",
    column_config={
        "issuance_date": sh.DATE | {"label": "Issued"},
        "facility_name": "Facility",
        "wdid": "WDID",
        "enforcement_type": "Type",
        "badges": sh.badges("Status"),
        "assessed": sh.USD | {"label": "Assessed"},
        "received": sh.USD | {"label": "Received"},
        "balance": sh.USD | {"label": "Balance"},
        "due_date": sh.DATE | {"label": "Due"},
        "county": "County",
        "region": "Region",
        "description": st.column_config.TextColumn("Description", width="large"),
        "enforcement_id": "Action id",
    },
)
sh.pager(page.total)

st.subheader("Export")
export_buttons(
    with_evidence(everything, "enforcement_actions", "enforcement_id"), "enforcement", "export"
)
