"""One candidate pair drawn for a reviewer: both names with their differences marked, each
side's facts and record counts, the score's parts, and both points on a small map.

Names come from public records and may hold anything, markup included: every value is
HTML-escaped before it is wrapped in a tag, and none reaches st.markdown unescaped.
"""

from __future__ import annotations

import difflib
import html
import json
import math
import re
from typing import Any

import numpy as np
import polars as pl
import streamlit as st

from matching.block import haversine_km
from pages import _shared as sh
from pages import palette

#: Each side's colour on the pair map and in the name panels (RGB).
SIDE_COLOUR = {"SMARTS": (0, 114, 178), "eSMR": (213, 94, 0)}
_WORD_KEY = re.compile(r"[^\w]+")


def marked_names(left: str, right: str) -> tuple[str, str]:
    """Both names as safe HTML: words the other name lacks are wrapped in <mark>.

    Words are compared case- and punctuation-blind, in order (difflib's matching blocks).
    """
    words = (left or "").split(), (right or "").split()
    keys = [[_WORD_KEY.sub("", w.lower()) for w in side] for side in words]
    matcher = difflib.SequenceMatcher(a=keys[0], b=keys[1], autojunk=False)
    same: tuple[set[int], set[int]] = (set(), set())
    for block in matcher.get_matching_blocks():
        same[0].update(range(block.a, block.a + block.size))
        same[1].update(range(block.b, block.b + block.size))
    marked = [
        " ".join(
            html.escape(w) if i in kept else f"<mark>{html.escape(w)}</mark>"
            for i, w in enumerate(side)
        )
        for side, kept in zip(words, same, strict=True)
    ]
    return marked[0], marked[1]


def _name_block(side: str, marked: str, ident: str) -> str:
    r, g, b = SIDE_COLOUR[side]
    return (
        f'<div style="border-left:4px solid rgb({r},{g},{b});padding:2px 10px">'
        f'<div style="font-size:0.8em;color:{palette.MUTED}">{side} · {html.escape(ident)}</div>'
        f'<div style="font-size:1.25em;font-weight:600">{marked}</div></div>'
    )


def names(smarts_name: str, esmr_name: str, smarts_id: str, esmr_id: str) -> None:
    """The two names side by side, differences marked (escaped HTML, never markdown)."""
    left, right = marked_names(smarts_name, esmr_name)
    cols = st.columns(2)
    cols[0].html(_name_block("SMARTS", left, smarts_id))
    cols[1].html(_name_block("eSMR", right, esmr_id))


def facts_list(rows: dict[str, Any], where: Any) -> None:
    """Label → value pairs as a list; values are escaped, so they show as typed."""
    where.markdown(
        "\n".join(
            f"- **{label}:** {'—' if value in (None, '') else sh.plain(value)}"
            for label, value in rows.items()
        )
    )


def smarts_facts(f: dict[str, Any] | None) -> dict[str, Any]:
    if f is None:
        return {"In the store": "not found (removed since the match run?)"}
    address = ", ".join(str(p) for p in (f["address"], f["city"], f["zip"]) if p)
    return {
        "Operator": f["operator"],
        "Address": address,
        "County · region": f"{f['county'] or '—'} · Region {f['region'] or '—'}",
        "Permit": f"{f['permit_family']}, {f['status'] or 'status unknown'}",
        "SIC": f["primary_sic"],
        "Coordinates": "outside California (left out)" if f["coords_outside_california"] else None,
        "Violations (official)": sh.count(f["violation_count"]),
        "Enforcement actions": sh.count(f["enforcement_count"]),
        "Inspections": sh.count(f["inspection_count"]),
        "Monitoring results": sh.count(f["monitoring_results"]),
        "NAL exceedances (computed)": sh.count(f["computed_exceedances"]),
    }


def esmr_facts(p: dict[str, Any] | None) -> dict[str, Any]:
    if p is None:
        return {"In the store": "no eSMR results for this place in the loaded years"}
    return {
        "Region": p["region"],
        "Receiving water": p["receiving_water"],
        "Results": sh.count(p["n_results"]),
        "Parameters": sh.count(p["n_parameters"]),
        "Monitoring locations": sh.count(p["n_locations"]),
        "Reports": sh.count(p["n_reports"]),
        "Sampled": f"{sh.day(p['first_sampling_date'])} – {sh.day(p['last_sampling_date'])}",
    }


def score_parts(components: str | None) -> pl.DataFrame:
    """The score's parts from the pair's components JSON: part, similarity, weight,
    contribution, detail (one row per part, biggest contribution first)."""
    try:
        parts = json.loads(components or "{}")
    except json.JSONDecodeError:
        parts = {}
    rows = [
        {
            "part": str(name),
            "similarity": _number(p.get("similarity")),
            "weight": _number(p.get("weight")),
            "contribution": _number(p.get("contribution")),
            "detail": None if p.get("detail") is None else str(p.get("detail")),
        }
        for name, p in parts.items()
        if isinstance(p, dict)
    ]
    schema = {
        "part": pl.String,
        "similarity": pl.Float64,
        "weight": pl.Float64,
        "contribution": pl.Float64,
        "detail": pl.String,
    }
    return pl.DataFrame(rows, schema=schema).sort("contribution", descending=True, nulls_last=True)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def parts_chart(parts: pl.DataFrame, score: float) -> None:
    """The parts as bars that add up to the score, and their table."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=parts["contribution"].to_list(),
            y=parts["part"].to_list(),
            orientation="h",
            marker={"color": palette.KIND["inspection"]},
            customdata=parts.select("similarity", "weight").rows(),
            hovertemplate="%{y}: similarity %{customdata[0]:.2f} × weight %{customdata[1]:.2f}"
            " = %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        **palette.plotly_layout(height=60 + 32 * max(parts.height, 1), title=f"Score {score:.3f}")
    )
    fig.update_yaxes(autorange="reversed")
    st.plotly_chart(fig, key="score_parts")
    st.dataframe(
        parts,
        hide_index=True,
        column_config={
            "part": "Part",
            "similarity": st.column_config.NumberColumn("Similarity", format="%.2f"),
            "weight": st.column_config.NumberColumn("Weight", format="%.2f"),
            "contribution": st.column_config.NumberColumn("Adds", format="%.3f"),
            "detail": st.column_config.TextColumn("Why", width="large"),
        },
    )


def pair_map(
    pair: dict[str, Any], smarts: dict[str, Any] | None, esmr: dict[str, Any] | None
) -> None:
    """Both points (SMARTS blue, eSMR vermillion), the line between them and its length."""
    import pydeck as pdk

    points = [
        {"side": side, "name": pair[name], "lat": row.get("latitude"), "lon": row.get("longitude")}
        for side, name, row in (
            ("SMARTS", "smarts_name", smarts or {}),
            ("eSMR", "esmr_name", esmr or {}),
        )
    ]
    placed = [p for p in points if p["lat"] is not None and p["lon"] is not None]
    km = None
    if len(placed) == 2:
        coords = [np.array([p[axis]]) for p in placed for axis in ("lat", "lon")]
        km = float(haversine_km(*coords)[0])
    if not placed:
        st.caption("Neither side has coordinates on record, so there is no map.")
        return
    for p in placed:
        p["colour"] = [*SIDE_COLOUR[p["side"]], 230]
    layers = [
        pdk.Layer(
            "ScatterplotLayer",
            data=placed,
            get_position="[lon, lat]",
            get_fill_color="colour",
            get_radius=60,
            radius_min_pixels=7,
            pickable=True,
        )
    ]
    if len(placed) == 2:
        layers.append(
            pdk.Layer(
                "LineLayer",
                data=[
                    {
                        "from": [placed[0]["lon"], placed[0]["lat"]],
                        "to": [placed[1]["lon"], placed[1]["lat"]],
                    }
                ],
                get_source_position="from",
                get_target_position="to",
                get_color=[*palette.MAP_NONE, 200],
                get_width=2,
            )
        )
    lat = sum(p["lat"] for p in placed) / len(placed)
    lon = sum(p["lon"] for p in placed) / len(placed)
    zoom = 12 if km is None else min(14, max(5, 13 - math.log2(max(km, 0.25) + 1)))
    view = pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom)
    st.pydeck_chart(
        pdk.Deck(layers=layers, initial_view_state=view, tooltip={"text": "{side}: {name}"}),
        height=260,
    )
    if km is not None:
        st.caption(f"{km:,.2f} km apart (straight line).")
    else:
        missing = {"SMARTS", "eSMR"} - {p["side"] for p in placed}
        st.caption(f"No coordinates on record for the {', '.join(sorted(missing))} side.")
