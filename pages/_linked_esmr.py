"""A SMARTS facility's eSMR side, for the facility page: the eSMR places linked to it
(automatically or by a reviewer), each place's effluent results charted the way SMARTS
monitoring is, and the candidates still awaiting review, with a link to the review page.

eSMR results are NPDES effluent data: they are drawn as reported, never against the
stormwater NALs.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from data_layer.match_review import esmr_place_evidence, esmr_place_parameters, esmr_place_series
from matching.links import links_for_facility
from pages import _shared as sh
from pages._charts import series_figure
from pages._shared import K

REVIEW_PAGE = "pages/review.py"
#: Parameters charted per place before the reviewer picks others.
CHARTED = 6
#: eSMR results have no computed annual averages: the chart's average layer stays empty.
NO_AVERAGES = pl.DataFrame(
    schema={"reporting_year": pl.Int64, "average": pl.Float64, "n_used": pl.Int64}
)


def _how(link: dict[str, Any]) -> str:
    if link["method"] == "manual":
        who = sh.plain(link["reviewer"] or "a reviewer")
        return f"confirmed by {who} on {sh.day(link['decided_at'])}"
    return f"linked automatically (score {link['score']:.2f})"


def _place_charts(place_id: str, key: str) -> None:
    params = sh.run(esmr_place_parameters, place_id)
    if params.height == 0:
        st.info("No eSMR results for this place in the loaded years.")
        return
    labels = [f"{r['parameter']} ({r['units'] or 'no unit'})" for r in params.iter_rows(named=True)]
    chosen = st.multiselect("Parameters", labels, default=labels[:CHARTED], key=f"esmr_{key}")
    st.caption(
        "NPDES effluent results as reported (eSMR), one unit per chart; non-detects are drawn "
        "at their reporting limit. They are not compared with the stormwater NALs."
    )
    rows = [
        r for r, label in zip(params.iter_rows(named=True), labels, strict=True) if label in chosen
    ]
    cols = st.columns(2)
    for i, row in enumerate(rows):
        series = sh.run(esmr_place_series, place_id, row["parameter"], row["units"])
        units = row["units"] or ""
        with cols[i % 2]:
            st.plotly_chart(
                series_figure(series, NO_AVERAGES, row["parameter"], units), key=f"{key}_{i}"
            )
            st.caption(f"{row['n_results']:,} results, {row['n_nd']:,} non-detect")


def draw(wdid: str, app_id: str) -> None:
    """The facility page's eSMR link tab."""
    links = links_for_facility(sh.state_engine(), wdid, app_id)
    linked = links.filter(pl.col("status") == "linked")
    queued = links.filter(pl.col("status") == "queued").sort("score", descending=True)
    places = sh.run(esmr_place_evidence, tuple(links["facility_place_id"].to_list()))
    names = dict(zip(places["facility_place_id"], places["facility_name"], strict=True))
    if linked.height == 0:
        st.info(
            "No eSMR facility is linked to this facility."
            + (" Candidates await review below." if queued.height else "")
            + ("" if links.height else " Matching (`python cli.py match`) found no candidate.")
        )
    for link in linked.iter_rows(named=True):
        place = link["facility_place_id"]
        st.subheader(f"{sh.plain(names.get(place) or 'eSMR place')} · place {sh.plain(place)}")
        st.caption(f"eSMR facility place {sh.plain(place)}, {_how(link)}.")
        _place_charts(place, f"place_{place}")
    if queued.height:
        st.markdown(f"**Candidates awaiting review** ({queued.height})")
        for link in queued.iter_rows(named=True):
            place = link["facility_place_id"]
            label = (
                f"{names.get(place) or 'eSMR place'} · place {place} · score {link['score']:.2f}"
            )
            if sh.page_enabled(REVIEW_PAGE):
                st.page_link(
                    REVIEW_PAGE,
                    label=sh.plain(label),
                    icon=":material/join:",
                    query_params={K.PAIR: f"{wdid}|{app_id}|{place}"},
                )
            else:
                st.text(label)
