"""Violations: the official SMARTS records, filtered from the sidebar (every filter in the
URL), counted by type and year, listed a page at a time, and exported with evidence."""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_layer.violations import violations
from pages import _shared as sh
from pages import palette
from pages._charts import bar
from pages._exports import export_buttons, with_evidence
from pages._shared import K

st.title("Violations")
st.caption("Official records entered by Water Board staff (SMARTS). Nothing here is computed.")
sh.require("violations")

opts = sh.options()
serious = {"any": "Any", "yes": "Serious only", "no": "Not serious"}
filters = dict(
    facility=sh.url_text("Facility, WDID or city", K.FACILITY_TEXT) or None,
    region=sh.url_multiselect("Regional Board", opts["regions"], K.REGION),
    county=sh.url_multiselect("County", opts["counties"], K.COUNTY),
    permit_type=sh.url_multiselect("Permit type", opts["permit_types"], K.PERMIT),
    violation_type=sh.url_multiselect("Violation type", opts["violation_types"], K.TYPE),
    status=sh.url_multiselect("Status", opts["violation_statuses"], K.STATUS),
    priority=sh.url_multiselect("Priority", opts["violation_priorities"], K.PRIORITY),
    serious={"any": None, "yes": True, "no": False}[
        sh.url_select("Serious", list(serious), K.SERIOUS, format_func=serious.get)
    ],
    date_from=sh.url_date("Occurred from", K.DATE_FROM),
    date_to=sh.url_date("Occurred to", K.DATE_TO),
)
sort, descending = sh.sort_controls(
    {
        "occurrence_date": "Occurrence date",
        "discovery_date": "Discovery date",
        "violation_type": "Type",
        "violation_status": "Status",
        "violation_priority": "Priority",
        "facility_name": "Facility",
        "region": "Regional Board",
    },
    "occurrence_date",
)

page = sh.run(
    violations,
    **filters,
    sort=sort,
    descending=descending,
    limit=sh.PAGE_SIZE,
    offset=(sh.page_number() - 1) * sh.PAGE_SIZE,
)
st.metric("Violations matching", sh.count(page.total))
if page.total == 0:
    st.info("No violations match these filters — widen the dates or clear a filter.")
    st.stop()

everything = sh.run_all(violations, **filters)
by_type, by_year = st.columns(2)
types = everything.group_by("violation_type").len().sort("len")
by_type.plotly_chart(
    bar(
        types,
        x="len",
        y="violation_type",
        title="By type",
        orientation="h",
        colour=palette.KIND["violation"],
    ),
    key="by_type",
)
years = everything.group_by("occurrence_year", "violation_status").len().sort("occurrence_year")
by_year.plotly_chart(
    bar(
        years, x="occurrence_year", y="len", title="By year of occurrence", stack="violation_status"
    ),
    key="by_year",
)


rows = page.rows.with_columns(
    pl.concat_list(
        pl.col("violation_status"),
        pl.when(pl.col("violation_priority").is_in(["1", "2", "3"])).then(
            pl.format("priority {}", pl.col("violation_priority"))
        ),
        pl.when(pl.col("serious_violation")).then(pl.lit("serious")),
    )
    .list.drop_nulls()
    .alias("badges")
)
sh.table(
    rows,
    key="violations",
    column_config={
        "occurrence_date": sh.DATE | {"label": "Occurred"},
        "facility_name": "Facility",
        "wdid": "WDID",
        "violation_type": "Type",
        "badges": sh.badges("Status, priority"),
        "violation_source": "Source",
        "county": "County",
        "region": "Region",
        "description": st.column_config.TextColumn("Description", width="large"),
        "violation_id": "Violation id",
    },
)
sh.pager(page.total)

st.subheader("Export")
export_buttons(with_evidence(everything, "violations", "violation_id"), "violations", "export")
