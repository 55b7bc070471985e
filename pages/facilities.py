"""Facilities: search, and one facility's whole story, addressed as ?wdid=...&app_id=...

Tabs (only the open one runs; it is kept in the URL): overview with map pin and data
quality, ERA level trajectory, compliance timeline, monitoring charts, the linked eSMR
facility, and the raw records with export. Official records and computed screening are
labelled apart everywhere.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_layer.exceedances import era_levels, facility_annual_averages
from data_layer.facilities import (
    facility_enforcement,
    facility_inspections,
    facility_monitoring_reports,
    facility_profile,
    facility_search,
    facility_violations,
)
from data_layer.monitoring import facility_parameters, facility_series
from data_layer.quality import facility_quality
from data_layer.timeline import facility_timeline
from pages import _linked_esmr as linked_esmr
from pages import _shared as sh
from pages._charts import era_figure, pin_map, series_figure, timeline_figure
from pages._exports import export_buttons, with_evidence
from pages._shared import K

KIND_FLAGS = {
    "violation": "ENABLE_SMARTS_VIOLATIONS",
    "enforcement": "ENABLE_ENFORCEMENT_TRACKING",
    "inspection": "ENABLE_INSPECTIONS",
}


def overview(profile: dict) -> None:
    left, right = st.columns([3, 2])
    counts = left.columns(4)
    for col, (label, key, flag) in zip(
        counts,
        [
            ("Violations", "violation_count", KIND_FLAGS["violation"]),
            ("Enforcement", "enforcement_count", KIND_FLAGS["enforcement"]),
            ("Inspections", "inspection_count", KIND_FLAGS["inspection"]),
            ("Monitoring reports", "monitoring_reports", None),
        ],
        strict=True,
    ):
        if flag is None or sh.flag(flag):
            col.metric(label, sh.count(profile[key]))
    facts = {
        "Operator": profile["operator"],
        "Address": ", ".join(
            str(p) for p in (profile["address"], profile["city"], profile["zip"]) if p
        ),
        "Permit": f"{profile['permit_family']} — {profile['permit_type'] or '—'}",
        "Status": profile["status"],
        "NOI processed": sh.day(profile["noi_processed_date"]),
        "NOT effective": sh.day(profile["not_effective_date"]),
        "SIC": "; ".join(
            s
            for s in (profile["primary_sic"], profile["secondary_sic"], profile["tertiary_sic"])
            if s
        )
        or "—",
        "Receiving water": profile["receiving_water_name"],
        "Records span": f"{sh.day(profile['first_activity_date'])} – "
        f"{sh.day(profile['last_activity_date'])}",
    }
    left.markdown("\n".join(f"- **{k}:** {v or '—'}" for k, v in facts.items()))
    quality = sh.run(facility_quality, profile["wdid"], profile["app_id"])
    left.markdown("**Data quality of its monitoring results**")
    if quality.height == 0:
        left.caption("No monitoring results to check.")
    else:
        q = quality.row(0, named=True)
        cols = left.columns(3)
        cols[0].metric(
            "Completeness",
            sh.share(q["completeness"]),
            help="Mean of the share of results with no flag and whether the "
            "facility has coordinates inside California.",
        )
        cols[1].metric("Results without a flag", sh.share(q["share_clean"]))
        cols[2].metric("Flagged results", sh.count(q["n_flagged"]))
        raised = {
            k[2:].replace("_", " "): v
            for k, v in q.items()
            if k.startswith("n_") and k not in ("n_samples", "n_flagged") and v
        }
        left.caption(
            "Flags raised: " + (", ".join(f"{k} ({v:,})" for k, v in raised.items()) or "none")
        )
    with right:
        if profile["latitude"] is None or profile["longitude"] is None:
            st.info("No coordinates on record for this facility, so no map pin.")
        else:
            pin_map(profile["latitude"], profile["longitude"], profile["display_name"])
            if not profile["coords_in_california"]:
                st.warning("These coordinates fall outside California — likely a data error.")


def era(wdid: str, app_id: str, nd_rule: str, family: str) -> None:
    if family != "Industrial":
        st.info(
            "Exceedance Response Action levels apply to Industrial General Permit "
            "facilities; this is a construction site."
        )
        return
    levels = sh.run(era_levels, wdid, app_id, nd_rule=nd_rule)
    st.caption(
        sh.screening_label(nd_rule, sh.nal_version()) + ". Level 1 starts on July 1 "
        "after a reporting year with an exceedance; Level 2 after a later exceedance "
        "of the same parameter while in Level 1."
    )
    if levels.height == 0:
        st.success("No computed exceedance under this rule, so every parameter stays at Baseline.")
        return
    st.plotly_chart(era_figure(levels), key="era")
    st.dataframe(
        levels.select("parameter", "level", "effective_date", "reason"),
        hide_index=True,
        column_config={
            "parameter": "Parameter",
            "level": "Level",
            "effective_date": sh.DATE | {"label": "Effective"},
            "reason": st.column_config.TextColumn("Why", width="large"),
        },
    )


def timeline(wdid: str, app_id: str, nd_rule: str) -> None:
    events = sh.run(facility_timeline, wdid, app_id, nd_rule=nd_rule)
    hidden = [kind for kind, flag in KIND_FLAGS.items() if not sh.flag(flag)]
    events = events.filter(~pl.col("kind").is_in(hidden))
    st.caption(
        "Official SMARTS records (filled) and "
        + sh.screening_label(nd_rule, sh.nal_version())
        + " (open diamonds) on one time axis. Hover a point to "
        "see its source record."
    )
    if events.height == 0:
        st.info(
            "No inspections, violations, enforcement actions or computed exceedances "
            "on record for this facility."
        )
        return
    st.plotly_chart(timeline_figure(events), key="timeline")
    shown = events.with_columns(
        pl.when(pl.col("official"))
        .then(pl.lit("official"))
        .otherwise(pl.lit("computed"))
        .alias("basis")
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_order=[
            "event_date",
            "kind",
            "basis",
            "title",
            "detail",
            "source_dataset",
            "source_id",
        ],
        column_config={
            "event_date": sh.DATE | {"label": "Date"},
            "kind": "Kind",
            "basis": "Basis",
            "title": "What",
            "detail": "Detail",
            "source_dataset": "Source",
            "source_id": "Source row id",
        },
    )
    export_buttons(
        with_evidence(events, None, "source_id", (nd_rule, sh.nal_version())),
        f"timeline_{wdid}".replace(" ", "_"),
        "x_timeline",
    )


def monitoring(wdid: str, app_id: str, nd_rule: str) -> None:
    params = sh.run(facility_parameters, wdid, app_id)
    if params.height == 0:
        st.info("No monitoring results on record for this facility.")
        return
    averages = sh.run(facility_annual_averages, wdid, app_id, nd_rule=nd_rule)
    st.caption(
        "Results in the NAL's unit. Annual averages are "
        + sh.screening_label(nd_rule, sh.nal_version())
        + "; non-detects are drawn at their reporting limit."
    )
    cols = st.columns(2)
    for i, row in enumerate(params.iter_rows(named=True)):
        series = sh.run(facility_series, wdid, app_id, row["parameter"], nd_rule=nd_rule)
        avg = averages.filter(pl.col("parameter") == row["parameter"])
        note = f"{row['n_results']:,} results, {row['n_nd']:,} non-detect"
        if row["n_unit_excluded"]:
            note += f", {row['n_unit_excluded']:,} in an unmapped unit (not drawn)"
        with cols[i % 2]:
            st.plotly_chart(
                series_figure(series, avg, row["parameter"], row["units"] or ""),
                key=f"series_{i}",
            )
            st.caption(note + ("" if row["has_nal"] else "; the permit sets no NAL for it"))


wdid, app_id = st.query_params.get(K.WDID), st.query_params.get(K.APP_ID)

if not (wdid and app_id):
    st.title("Facilities")
    st.caption("Industrial and construction stormwater permittees (SMARTS applications).")
    text = sh.url_text(
        "Search by name, WDID, operator or city",
        K.FACILITY_TEXT,
        where=st,
        placeholder="e.g. 4 19I012345, Anadite, Fresno",
    )
    if not text:
        st.info("Type a facility name, a WDID, an operator or a city to search.")
        st.stop()
    found = sh.run(facility_search, text, limit=100)
    st.caption(f"{sh.count(found.height)} facilities match (best first, at most 100).")
    if found.height == 0:
        st.info(f"No facility matches “{text}” — try part of the name or the WDID.")
        st.stop()
    sh.table(
        found,
        key="search",
        column_config={
            "display_name": "Facility",
            "wdid": "WDID",
            "app_id": "App id",
            "permit_family": "Permit",
            "status_group": "Status",
            "city": "City",
            "county": "County",
            "region": "Region",
            "violation_count": sh.INT | {"label": "Violations"},
            "enforcement_count": sh.INT | {"label": "Enforcement"},
            "inspection_count": sh.INT | {"label": "Inspections"},
        },
    )
    st.stop()

profile = sh.run(facility_profile, wdid, app_id)
st.page_link(sh.FACILITY_PAGE, label="Search facilities", icon=":material/arrow_back:")
if profile is None:
    st.warning(
        f"No facility with WDID {wdid} and application id {app_id} in this store — "
        "search for it again; it may have been renumbered or removed."
    )
    st.stop()

st.title(sh.plain(profile["display_name"]))
st.caption(
    sh.plain(
        f"WDID {wdid} · application {app_id} · {profile['permit_family']} "
        f"({profile['permit_type'] or 'type not recorded'}) · "
        f"{profile['status'] or 'status unknown'} · Region {profile['region'] or '—'}, "
        f"{profile['county'] or 'county unknown'}"
    )
)
nd_rule = sh.nd_rule_control()

labels = ["Overview", "ERA levels", "Compliance timeline", "Monitoring"]
if sh.flag("ENABLE_FACILITY_MATCHING"):
    labels.append("eSMR link")
labels.append("Records")
tabs = dict(zip(labels, sh.url_tabs(labels), strict=True))

if tabs["Overview"].open:
    with tabs["Overview"]:
        overview(profile)
if tabs["ERA levels"].open:
    with tabs["ERA levels"]:
        era(wdid, app_id, nd_rule, profile["permit_family"])
if tabs["Compliance timeline"].open:
    with tabs["Compliance timeline"]:
        timeline(wdid, app_id, nd_rule)
if tabs["Monitoring"].open:
    with tabs["Monitoring"]:
        monitoring(wdid, app_id, nd_rule)
if "eSMR link" in tabs and tabs["eSMR link"].open:
    with tabs["eSMR link"]:
        linked_esmr.draw(wdid, app_id)
if tabs["Records"].open:
    with tabs["Records"]:
        sets = [
            (
                "Violations",
                "ENABLE_SMARTS_VIOLATIONS",
                facility_violations,
                "violations",
                "violation_id",
                {
                    "occurrence_date": sh.DATE | {"label": "Occurred"},
                    "violation_type": "Type",
                    "violation_status": "Status",
                    "violation_priority": "Priority",
                    "violation_id": "Violation id",
                },
            ),
            (
                "Enforcement actions",
                "ENABLE_ENFORCEMENT_TRACKING",
                facility_enforcement,
                "enforcement_actions",
                "enforcement_id",
                {
                    "issuance_date": sh.DATE | {"label": "Issued"},
                    "enforcement_type": "Type",
                    "enforcement_status": "Status",
                    "assessed": sh.USD | {"label": "Assessed"},
                    "balance": sh.USD | {"label": "Balance"},
                    "enforcement_id": "Action id",
                },
            ),
            (
                "Inspections",
                "ENABLE_INSPECTIONS",
                facility_inspections,
                "inspections",
                "inspection_id",
                {
                    "inspection_date": sh.DATE | {"label": "Inspected"},
                    "inspection_purpose": "Purpose",
                    "inspector_type": "Inspector",
                    "violations_found": sh.INT | {"label": "Violations found"},
                    "inspection_id": "Inspection id",
                },
            ),
            (
                "Monitoring reports",
                None,
                facility_monitoring_reports,
                None,
                "report_id",
                {
                    "first_sample_date": sh.DATE | {"label": "First sample"},
                    "reporting_year": st.column_config.NumberColumn("Reporting year", format="%d"),
                    "event_type": "Event",
                    "samples": sh.INT | {"label": "Samples"},
                    "results": sh.INT | {"label": "Results"},
                    "report_id": "Report id",
                },
            ),
        ]
        for title, flag, query, dataset, id_col, config in sets:
            if flag and not sh.flag(flag):
                continue
            rows: pl.DataFrame = sh.run(query, wdid, app_id)
            st.subheader(f"{title} ({sh.count(rows.height)})")
            if rows.height == 0:
                st.caption(f"No {title.lower()} on record for this facility.")
                continue
            sh.table(
                rows, key=f"raw_{id_col}", column_config=config, facility=False, every_column=True
            )
            export_buttons(
                with_evidence(rows, dataset, id_col),
                f"{wdid}_{title}".replace(" ", "_").lower(),
                f"x_{id_col}",
            )
