"""Inspections: the official records, each with the violations it found; filtered from the
sidebar (every filter in the URL), counted by purpose and year, listed and exported."""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_layer.inspections import inspection_violations, inspections
from pages import _shared as sh
from pages import palette
from pages._charts import bar
from pages._exports import export_buttons, with_evidence
from pages._shared import K

st.title("Inspections")
st.caption("Official records entered by Water Board staff (SMARTS). Nothing here is computed.")
sh.require("inspections")

opts = sh.options()
yes_no = {"any": "Any", "yes": "Yes", "no": "No"}
as_bool = {"any": None, "yes": True, "no": False}
filters = dict(
    facility=sh.url_text("Facility, WDID or city", K.FACILITY_TEXT) or None,
    region=sh.url_multiselect("Regional Board", opts["regions"], K.REGION),
    county=sh.url_multiselect("County", opts["counties"], K.COUNTY),
    permit_type=sh.url_multiselect("Permit type", opts["permit_types"], K.PERMIT),
    purpose=sh.url_multiselect("Purpose", opts["inspection_purposes"], K.PURPOSE),
    inspector_type=sh.url_multiselect("Inspector", opts["inspector_types"], K.INSPECTOR),
    found_violations=as_bool[
        sh.url_select("Found violations", list(yes_no), K.FOUND, format_func=yes_no.get)
    ],
    follow_up=as_bool[
        sh.url_select("Follow-up required", list(yes_no), K.FOLLOW_UP, format_func=yes_no.get)
    ],
    date_from=sh.url_date("Inspected from", K.DATE_FROM),
    date_to=sh.url_date("Inspected to", K.DATE_TO),
)
sort, descending = sh.sort_controls(
    {
        "inspection_date": "Inspection date",
        "violations_found": "Violations found",
        "inspection_purpose": "Purpose",
        "inspector_type": "Inspector",
        "facility_name": "Facility",
        "region": "Regional Board",
    },
    "inspection_date",
)

page = sh.run(
    inspections,
    **filters,
    sort=sort,
    descending=descending,
    limit=sh.PAGE_SIZE,
    offset=(sh.page_number() - 1) * sh.PAGE_SIZE,
)
st.metric("Inspections matching", sh.count(page.total))
if page.total == 0:
    st.info("No inspections match these filters — widen the dates or clear a filter.")
    st.stop()

everything = sh.run_all(inspections, **filters)
by_purpose, by_year = st.columns(2)
by_purpose.plotly_chart(
    bar(
        everything.group_by("inspection_purpose").len().sort("len"),
        x="len",
        y="inspection_purpose",
        title="By purpose",
        orientation="h",
        colour=palette.KIND["inspection"],
    ),
    key="by_purpose",
)
found = everything.with_columns(
    pl.when(pl.col("found_violations"))
    .then(pl.lit("found violations"))
    .otherwise(pl.lit("no violation"))
    .alias("outcome")
)
by_year.plotly_chart(
    bar(
        found.group_by("inspection_year", "outcome").len().sort("inspection_year"),
        x="inspection_year",
        y="len",
        title="By year",
        stack="outcome",
    ),
    key="by_year",
)

rows = page.rows.with_columns(
    pl.concat_list(
        pl.when(pl.col("violations_found") > 0).then(pl.lit("violations found")),
        pl.when(pl.col("follow_up_required")).then(pl.lit("follow-up")),
    )
    .list.drop_nulls()
    .alias("badges")
)
sh.table(
    rows,
    key="inspections",
    column_config={
        "inspection_date": sh.DATE | {"label": "Inspected"},
        "facility_name": "Facility",
        "wdid": "WDID",
        "inspection_purpose": "Purpose",
        "inspector_type": "Inspector",
        "violations_found": sh.INT | {"label": "Violations found"},
        "badges": sh.badges("Outcome"),
        "virtual_inspection": st.column_config.CheckboxColumn("Virtual"),
        "county": "County",
        "region": "Region",
        "general_notes": st.column_config.TextColumn("Notes", width="large"),
        "inspection_id": "Inspection id",
    },
)
sh.pager(page.total)

with st.expander("Violations found by one inspection"):
    with_found = page.rows.filter(pl.col("violations_found") > 0)["inspection_id"].to_list()
    chosen = st.selectbox(
        "Inspection on this page", with_found, index=None, placeholder="Choose an inspection id"
    )
    if chosen:
        sh.table(
            sh.run(inspection_violations, chosen),
            key="found",
            column_config={
                "occurrence_date": sh.DATE | {"label": "Occurred"},
                "violation_type": "Type",
                "violation_status": "Status",
                "description": "Description",
                "violation_id": "Violation id",
            },
            facility=False,
        )

st.subheader("Export")
export_buttons(with_evidence(everything, "inspections", "inspection_id"), "inspections", "export")
