"""Monitoring: one parameter across the state — distribution, trend, facilities exceeding the
NALs (computed screening), and the exceedance table with export. The non-detect rule is a
visible control, stated beside every average; every filter is in the URL."""

from __future__ import annotations

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from data_layer.exceedances import (
    exceedance_summary,
    exceedances_annual,
    exceedances_instantaneous,
)
from data_layer.monitoring import distribution, statewide_summary
from data_layer.nal_table import load_nal_table
from pages import _shared as sh
from pages import palette
from pages._charts import histogram_figure
from pages._exports import export_buttons, with_evidence
from pages._shared import K

st.title("Monitoring results, statewide")
sh.require("industrial_monitoring")
nal_table = load_nal_table()
nals = {r.parameter: r for r in nal_table.rows}
opts = sh.options()
parameter = sh.url_select(
    "Parameter", list(nals), K.PARAMETER, default="Total Suspended Solids (TSS)"
)
region = sh.url_select(
    "Regional Board",
    ["all", *opts["regions"]],
    K.REGION,
    default="all",
    format_func=lambda r: "Statewide" if r == "all" else f"Region {r}",
)
by_region = sh.run(
    statewide_summary,
    parameter=parameter,
    year_from=2000,
    year_to=dt.date.today().year,
    region=None if region == "all" else region,
)
years = sorted(by_region["reporting_year"].unique().to_list(), reverse=True) or [2020]
first = sh.url_select(
    "Trend from (July–June)", sorted(years), K.YEAR_FROM, format_func=sh.reporting_year
)
complete = [y for y in years if dt.date(y + 1, 7, 1) <= dt.date.today()] or years
year = sh.url_select(
    "… to, and the year shown",
    [y for y in years if y >= first],
    K.YEAR_TO,
    default=max(y for y in complete if y >= first) if max(complete) >= first else None,
    format_func=sh.reporting_year,
)
left, right = st.columns([2, 3], vertical_alignment="bottom")
nd_rule = sh.nd_rule_control(where=left)
label = sh.screening_label(nd_rule, nal_table.version)
right.caption(
    f"Averages, shares and exceedances below are {label}. Results are converted "
    "to the NAL's unit; results in unmapped units are left out and counted."
)
nal = nals[parameter]
units = nal.units

scoped = dict(parameter=parameter, nd_rule=nd_rule)
where = None if region == "all" else region
summary = sh.run(exceedance_summary, year=year, **scoped)
if where:
    summary = summary.filter(pl.col("region") == where)
cols = st.columns(4)
cols[0].metric("Facilities sampled", sh.count(summary["facilities_sampled"].sum()))
cols[1].metric(
    "Exceeding the annual NAL",
    sh.count(summary["facilities_exceeding_annual"].sum()),
    help=f"Annual average above {nal.annual_nal} {units} — {label}",
)
cols[2].metric(
    "Exceeding the instantaneous NAL",
    sh.count(summary["facilities_exceeding_instantaneous"].sum()),
    help="Two or more results beyond the instantaneous limit in the year.",
)
cols[3].metric("Either", sh.count(summary["facilities_exceeding"].sum()))

hist_col, trend_col = st.columns(2)
hist = sh.run(distribution, year=year, region=where, bins=30, **scoped)
if hist.height == 0:
    hist_col.info(f"No {parameter} results in {sh.reporting_year(year)} for this scope.")
else:
    lines = {"annual NAL": nal.annual_nal, "instantaneous NAL": nal.instantaneous_max_nal}
    fig = histogram_figure(
        hist, f"Distribution, {sh.reporting_year(year)} ({nd_rule} rule)", units, lines
    )
    hist_col.plotly_chart(fig, key="hist")

trend = sh.run(
    statewide_summary,
    parameter=parameter,
    year_from=first,
    year_to=year,
    region=where,
    nd_rule=nd_rule,
)
if trend.height:
    fig = px.line(
        trend.sort("reporting_year"),
        x="reporting_year",
        y="median",
        color="region",
        markers=True,
        labels={
            "reporting_year": "Reporting year (start)",
            "median": f"Median ({units})",
            "region": "Region",
        },
        title=f"Median by region and year ({nd_rule} rule)",
        color_discrete_sequence=palette.SEQUENCE,
    )
    if nal.annual_nal is not None:
        fig.add_hline(
            y=nal.annual_nal,
            line={"color": palette.NAL_LINE, "dash": "dash"},
            annotation_text=f"annual NAL {nal.annual_nal:g} {units}",
        )
    fig.update_layout(**palette.plotly_layout(height=340))
    trend_col.plotly_chart(fig, key="trend")

comparisons = {}
if nal.annual_nal is not None:
    comparisons["annual"] = f"Annual average vs annual NAL ({nal.annual_nal:g} {units})"
if nal.instantaneous_max_nal is not None or nal.instantaneous_min_nal is not None:
    comparisons["instantaneous"] = "Single results vs instantaneous NAL"
basis = sh.url_select(
    "Compare", list(comparisons), K.COMPARE, format_func=comparisons.get, where=st
)
only = sh.url_toggle("Only facilities that exceed", K.EXCEEDING, True, where=st)
query = exceedances_annual if basis == "annual" else exceedances_instantaneous
table_filters = dict(year=year, region=where, exceeding_only=only, **scoped)
page = sh.run(
    query, **table_filters, limit=sh.PAGE_SIZE, offset=(sh.page_number() - 1) * sh.PAGE_SIZE
)
st.caption(
    f"{sh.count(page.total)} facilities in {sh.reporting_year(year)} — {label}. Values in {units}."
)
if page.total == 0:
    st.info(
        "No facility matches — switch off “only facilities that exceed” or choose another year."
    )
    st.stop()
sh.table(
    page.rows,
    key="exceedances",
    column_config={
        "wdid": "WDID",
        "region": "Region",
        "average": st.column_config.NumberColumn(f"Average ({units}, computed)", format="%.4g"),
        "annual_nal": st.column_config.NumberColumn(f"Annual NAL ({units})", format="%.4g"),
        "ratio_to_nal": st.column_config.NumberColumn("× NAL", format="%.2f"),
        "n_above": sh.INT | {"label": "Results beyond the limit"},
        "max_value": st.column_config.NumberColumn(f"Highest ({units})", format="%.4g"),
        "min_value": st.column_config.NumberColumn(f"Lowest ({units})", format="%.4g"),
        "exceedance_date": sh.DATE | {"label": "Exceedance on"},
        "exceeds": st.column_config.CheckboxColumn("Exceeds (computed)"),
        "n_samples": sh.INT | {"label": "Results"},
        "n_nd": sh.INT | {"label": "Non-detects"},
        "n_uninformative_nd": sh.INT | {"label": "ND with RL above NAL"},
        "n_unit_excluded": sh.INT | {"label": "Unmapped unit"},
    },
)
sh.pager(page.total)
everything = sh.run_all(query, **table_filters)
export_buttons(
    with_evidence(
        everything,
        "industrial_monitoring",
        pl.concat_str(
            "wdid", "app_id", "parameter", pl.col("reporting_year").cast(pl.String), separator="|"
        ),
        (nd_rule, nal_table.version),
    ),
    f"{basis}_exceedances_{year}",
    "export",
)
