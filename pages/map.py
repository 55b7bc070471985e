"""Map: facilities coloured by official violations or by computed NAL exceedances, filtered
from the sidebar (every filter in the URL). Hover for details; click a point to open its
facility page. Facilities without coordinates are counted, never silently dropped."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pydeck as pdk
import streamlit as st

from data_layer.map_points import map_points
from pages import _shared as sh
from pages import palette
from pages._deck import CompactDeck, Rows
from pages._exports import export_buttons, with_evidence
from pages._shared import K

#: Rows of the no-coordinates table sent to the browser; the export holds every one.
NO_COORDS_SHOWN = 500

st.title("Facility map")
opts = sh.options()
colour_by = {
    "violations": "Official violations",
    "exceedances": "Computed NAL exceedances",
}
if not sh.flag("ENABLE_SMARTS_VIOLATIONS"):
    colour_by.pop("violations")
metric = sh.url_select("Colour by", list(colour_by), K.COLOUR_BY, format_func=colour_by.get)
years = ["all", *range(dt.date.today().year, 2002, -1)]
year = sh.url_select(
    "Reporting year (July–June)",
    years,
    K.YEAR,
    default="all",
    format_func=lambda y: "All years" if y == "all" else sh.reporting_year(y),
)
families = sh.url_multiselect("Permit", ["Industrial", "Construction"], K.PERMIT)
region = sh.url_multiselect("Regional Board", opts["regions"], K.REGION)
status = sh.url_multiselect("Status", opts["facility_statuses"], K.STATUS)
nd_rule = sh.nd_rule_control()

points = sh.run(
    map_points,
    region=region,
    permit_family=families,
    status=status,
    year=None if year == "all" else year,
    nd_rule=nd_rule,
)
label = colour_by[metric]
st.caption(
    f"Official violations are SMARTS records; NAL exceedances are "
    f"{sh.screening_label(nd_rule, sh.nal_version())}, for industrial facilities only. "
    f"The two are shown side by side, never added together. Colour: {label}."
)

located = points.filter(pl.col("has_coordinates"))
missing = points.height - located.height
outside = located.filter(~pl.col("coords_in_california")).height
cols = st.columns(4)
cols[0].metric("Facilities matching", sh.count(points.height))
cols[1].metric("On the map", sh.count(located.height))
cols[2].metric("Without coordinates", sh.count(missing), help="Counted here, not drawn.")
cols[3].metric("Coordinates outside California", sh.count(outside))
if located.height == 0:
    st.info("No facility with coordinates matches these filters — clear a filter.")
    st.stop()

top = max(1, int(located[metric].max() or 0))
drawn = located.sort(metric).select(
    "wdid",
    "app_id",
    "display_name",
    pl.col("latitude").round(5),
    pl.col("longitude").round(5),
    *palette.map_colour(pl.col(metric), top),
    (1500 + 6000 * (pl.col(metric) / top).sqrt()).round().cast(pl.Int32).alias("radius"),
    "violations",
    "exceedances",
    "status_group",
    "permit_family",
)
layer = pdk.Layer(
    "ScatterplotLayer",
    data=Rows(drawn),
    id="facilities",
    get_position="[longitude, latitude]",
    get_fill_color="[r, g, b, a]",
    get_radius="radius",
    radius_min_pixels=3,
    radius_max_pixels=16,
    pickable=True,
    auto_highlight=True,
)
tooltip = {
    "html": "<b>{display_name}</b><br/>WDID {wdid} · {permit_family} · {status_group}<br/>"
    "Official violations: {violations}<br/>Computed exceedances: {exceedances}<br/>"
    "<i>click to select</i>",
}
view = pdk.ViewState(latitude=37.2, longitude=-119.5, zoom=5.2)
state = st.pydeck_chart(
    CompactDeck(layers=[layer], initial_view_state=view, tooltip=tooltip),
    height=620,
    on_select="rerun",
    selection_mode="single-object",
    key="map",
)
picked = (state.selection.objects or {}).get("facilities") if state else None
if picked:
    chosen = picked[0]
    sh.open_facility(
        chosen["wdid"], chosen["app_id"], f"Open {chosen['display_name']} ({chosen['wdid']})"
    )
else:
    st.caption("Click a point to select a facility, then open its page.")

st.caption(f"Colour scale: grey = none, blue → red = 1 to {top:,} per facility ({label}).")
with st.expander(f"Facilities without coordinates ({missing:,})"):
    unplaced = points.filter(~pl.col("has_coordinates")).sort(
        "violations", "exceedances", descending=True
    )
    if unplaced.height > NO_COORDS_SHOWN:
        st.caption(
            f"The {NO_COORDS_SHOWN:,} with the most violations and exceedances; "
            f"the export below lists all {unplaced.height:,}."
        )
    sh.table(
        unplaced.head(NO_COORDS_SHOWN),
        key="no_coordinates",
        column_config={
            "display_name": "Facility",
            "wdid": "WDID",
            "permit_family": "Permit",
            "city": "City",
            "county": "County",
            "violations": sh.INT | {"label": "Violations"},
            "exceedances": sh.INT | {"label": "Exceedances (computed)"},
        },
    )
export_buttons(
    with_evidence(
        points.with_columns(
            pl.when(pl.col("permit_family") == "Industrial")
            .then(pl.lit("industrial_facilities"))
            .otherwise(pl.lit("construction_facilities"))
            .alias("source_dataset")
        ),
        None,
        pl.concat_str("wdid", "app_id", separator="|"),
        (nd_rule, sh.nal_version()),
        basis="official counts and computed screening",
        also=("violations", "industrial_monitoring"),
    ),
    "facility_map",
    "export",
)
