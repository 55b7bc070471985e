"""Gap finder: facility-years with computed NAL exceedances beside the official response in
the same reporting year, years with no response first. Each row opens the facility page."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from data_layer.exceedances import facility_year_gaps
from pages import _shared as sh
from pages._exports import export_buttons, with_evidence
from pages._shared import K

st.title("Gap finder")
sh.require("industrial_monitoring")
opts = sh.options()
years = ["all", *range(dt.date.today().year, 2014, -1)]
year = sh.url_select(
    "Reporting year (July–June)",
    years,
    K.YEAR,
    default="all",
    format_func=lambda y: "All years" if y == "all" else sh.reporting_year(y),
)
region = sh.url_multiselect("Regional Board", opts["regions"], K.REGION)
nd_rule = sh.nd_rule_control()
st.caption(
    "NAL exceedances this product computes — "
    f"{sh.screening_label(nd_rule, sh.nal_version())} — beside the official SMARTS "
    "violations and enforcement actions dated in the same July–June year. They are counted "
    "apart and never added; a year with exceedances and no official record is a gap worth a look, "
    "not a finding."
)

filters = dict(year=None if year == "all" else year, region=region, nd_rule=nd_rule)
page = sh.run(
    facility_year_gaps,
    **filters,
    limit=sh.PAGE_SIZE,
    offset=(sh.page_number() - 1) * sh.PAGE_SIZE,
)
everything = sh.run_all(facility_year_gaps, **filters)
cols = st.columns(3)
cols[0].metric("Facility-years with computed exceedances", sh.count(page.total))
cols[1].metric(
    "… with no official response",
    sh.count(everything.filter(pl.col("no_official_response")).height),
)
cols[2].metric("Facilities", sh.count(everything.select("wdid", "app_id").unique().height))
if page.total == 0:
    st.info("No computed exceedance for these filters — choose another year or region.")
    st.stop()

rows = page.rows.with_columns(
    pl.concat_list(pl.when(pl.col("no_official_response")).then(pl.lit("no official response")))
    .list.drop_nulls()
    .alias("response"),
    pl.col("reporting_year").map_elements(sh.reporting_year, return_dtype=pl.String).alias("ry"),
)
sh.table(
    rows,
    key="gaps",
    column_config={
        "gap_rank": "Rank",
        "facility_name": "Facility",
        "wdid": "WDID",
        "ry": "Reporting year",
        "response": sh.badges("Official response"),
        "computed_exceedances": sh.INT | {"label": "Exceedances (computed)"},
        "parameters_exceeded": st.column_config.ListColumn("Parameters (computed)"),
        "exceedance_years_to_date": sh.INT | {"label": "Years with exceedances so far"},
        "official_violations": sh.INT | {"label": "Violations (official)"},
        "official_enforcement_actions": sh.INT | {"label": "Enforcement (official)"},
        "region": "Region",
    },
)
sh.pager(page.total)

st.subheader("Export")
export_buttons(
    with_evidence(
        everything,
        "industrial_monitoring",
        pl.concat_str("wdid", "app_id", pl.col("reporting_year").cast(pl.String), separator="|"),
        (nd_rule, sh.nal_version()),
        basis="computed screening beside official counts",
        also=("violations", "enforcement_actions"),
    ),
    "gap_finder",
    "export",
)
