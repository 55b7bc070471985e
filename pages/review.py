"""Match review: confirm or reject candidate links between SMARTS facilities and eSMR places.

The queue comes from the decision store (`python cli.py match` fills it), ordered by what
matters: facilities with official violations or computed exceedances first, then the
highest score. Which pairs, region, score band, blind mode and the pair on screen are in
the URL. Everyone may look; only a signed-in reviewer decides (keys A, X, S, U).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_layer.match_review import (
    SCORE_BANDS,
    esmr_place_evidence,
    filter_queue,
    queue_by_priority,
    smarts_facility_evidence,
)
from matching import decisions as dec
from pages import _decisions as dc
from pages import _evidence as ev
from pages import _reviewer as rv
from pages import _shared as sh
from pages._shared import K

SHOW = {"queued": "Awaiting review", "linked": "Linked", "rejected": "Rejected", "all": "All"}
KEY = ("wdid", "app_id", "facility_place_id")


def band_label(band: str) -> str:
    low, below = SCORE_BANDS.get(band, (None, None))
    if low is None and below is None:
        return "Any score"
    if below is None:
        return f"{low:.2f} and above"
    return f"below {below:.2f}" if low is None else f"{low:.2f} – {below:.2f}"


def pick(keys: list[tuple[str, str, str]]) -> None:
    """A row chosen in the queue table becomes the pair on screen (`?pair=`)."""
    rows = st.session_state["queue"].selection.rows
    if rows and rows[0] < len(keys):
        st.query_params[K.PAIR] = "|".join(keys[rows[0]])


st.title("Match review")
engine = sh.state_engine()
reviewer = rv.reviewer_panel()
pairs = dec.review_queue(engine, include_decided=True)
if pairs.height == 0:
    st.info(
        "No matching run yet, so there is nothing to review. Run `python cli.py match` to "
        "score SMARTS facilities against eSMR places; candidate pairs then appear here."
    )
    st.stop()
dc.flash()

facts = sh.run(smarts_facility_evidence, tuple(sorted(set(pairs.select("wdid", "app_id").rows()))))
ordered = queue_by_priority(pairs, facts, later=st.session_state.setdefault(K.SKIPPED, []))
regions = sorted(r for r in ordered["region"].unique().to_list() if r)
show = sh.url_select("Show", list(SHOW), K.SHOW, format_func=SHOW.get)
region = sh.url_select(
    "Regional Board", ["all", *regions], K.REGION, format_func=lambda r: "All" if r == "all" else r
)
band = sh.url_select("Score", ["all", *SCORE_BANDS], K.BAND, format_func=band_label)
blind = sh.url_toggle("Blind mode: hide scores", K.BLIND)
shown = filter_queue(
    ordered,
    statuses=list(SHOW)[:3] if show == "all" else [show],
    region=None if region == "all" else region,
    band=None if band == "all" else band,
)

total = dec.progress(engine).row(0, named=True)
cols = st.columns(4)
cols[0].metric("Awaiting review", sh.count(total["remaining"]))
cols[1].metric("Reviewed", sh.count(total["reviewed"]))
for col, status in zip(cols[2:], ("linked", "rejected"), strict=True):
    col.metric(SHOW[status], sh.count(pairs.filter(pl.col("status") == status).height))
with st.expander("Progress per reviewer"):
    dc.progress_table(dec.progress(engine))

st.caption(
    "Facilities with official violations or computed NAL exceedances first, then the "
    f"highest score. {sh.count(shown.height)} pairs in this view."
)
keys = [tuple(k) for k in shown.select(KEY).rows()]
st.dataframe(
    shown.with_columns(
        pl.col("needs_attention").alias("priority"),
        pl.col("score").round(3) if not blind else pl.lit(None, pl.Float64).alias("score"),
    ),
    key="queue",
    on_select=lambda: pick(keys),
    selection_mode="single-row",
    hide_index=True,
    height=min(400, 38 + 35 * max(shown.height, 1)),
    column_order=[
        "priority",
        "smarts_name",
        "esmr_name",
        *([] if blind else ["score"]),
        "region",
        "violation_count",
        "computed_exceedances",
        "competitors",
        "status",
        "last_reviewer",
    ],
    column_config={
        "priority": st.column_config.CheckboxColumn(
            "On record", help="Official violations or computed NAL exceedances: reviewed first"
        ),
        "smarts_name": "SMARTS facility",
        "esmr_name": "eSMR place",
        "score": st.column_config.NumberColumn("Score", format="%.3f"),
        "region": "Region",
        "violation_count": sh.INT | {"label": "Violations"},
        "computed_exceedances": sh.INT | {"label": "Exceedances (computed)"},
        "competitors": sh.INT | {"label": "Other candidates"},
        "status": "Status",
        "last_reviewer": "Decided by",
    },
)

wanted = st.query_params.get(K.PAIR, "").split("|")
chosen = ordered.filter(
    pl.concat_str(KEY, separator="|") == "|".join(wanted) if len(wanted) == 3 else pl.lit(False)
)
if K.PAIR in st.query_params and chosen.height == 0:
    st.warning("The pair in the address is not among the candidates; showing the next one.")
current = (chosen if chosen.height else shown).head(1)
if current.height == 0:
    queued = ordered.filter(pl.col("status") == "queued").height
    if show == "queued" and queued == 0:
        st.success("The queue is empty: every candidate pair has been decided.")
    else:
        st.info("No pair in this view: widen the filters in the sidebar.")
    st.stop()

pair = current.row(0, named=True)
key = (pair["wdid"], pair["app_id"], pair["facility_place_id"])
place = sh.run(esmr_place_evidence, (key[2],))
esmr = place.row(0, named=True) if place.height else None
smarts = next(iter(facts.filter(wdid=key[0], app_id=key[1]).iter_rows(named=True)), None)
st.subheader("Evidence")
ev.names(pair["smarts_name"], pair["esmr_name"], f"WDID {key[0]} · app {key[1]}", f"place {key[2]}")
left, right = st.columns(2)
ev.facts_list(ev.smarts_facts(smarts), left)
sh.open_facility(key[0], key[1], "Open the SMARTS facility page", where=left)
ev.facts_list(ev.esmr_facts(esmr), right)
map_col, parts_col = st.columns([2, 3])
with map_col:
    ev.pair_map(pair, smarts, esmr)
with parts_col:
    if blind:
        st.caption("Blind mode: the score and its parts are hidden so they do not lead you.")
    else:
        ev.parts_chart(ev.score_parts(pair["components"]), pair["score"])
dc.pair_status(pair, ordered, blind)
dc.decision_bar(engine, pair, ordered, reviewer, blind)
with st.expander("History of this pair"):
    dc.history_table(dec.history(engine, *key), blind)
with st.expander("Bulk accept, and the check that estimates its precision"):
    dc.bulk_panel(engine, shown, reviewer, blind)
