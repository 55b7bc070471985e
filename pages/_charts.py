"""Charts the pages share, drawn in one palette: counts by category, a facility's
compliance timeline, a monitoring series with its NAL lines, distributions, ERA levels, and
a one-pin map. Each returns a figure for `st.plotly_chart` (the map draws itself)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import pydeck as pdk
import streamlit as st

from pages import palette
from pages._shared import reporting_year


def bar(
    frame: pl.DataFrame,
    x: str,
    y: str,
    title: str,
    orientation: str = "v",
    colour: str | None = None,
    stack: str | None = None,
) -> Any:
    """A count bar chart in the shared palette ("len" columns are labelled Count)."""
    labels = {x: "", y: "", "len": "Count"}
    fig = px.bar(
        frame,
        x=x,
        y=y,
        orientation=orientation,
        color=stack,
        title=title,
        labels=labels,
        color_discrete_sequence=[colour] if colour else palette.SEQUENCE,
        color_discrete_map=palette.BADGE,
    )
    fig.update_layout(**palette.plotly_layout(height=320, legend_title_text=""))
    return fig


def timeline_figure(events: pl.DataFrame) -> Any:
    """Compliance events on one time axis, a row per kind; hover shows the source record."""
    fig = go.Figure()
    for kind in ("exceedance", "inspection", "violation", "enforcement"):
        part = events.filter(pl.col("kind") == kind)
        if part.height == 0:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["event_date"].to_list(),
                y=[palette.KIND_LABEL[kind]] * part.height,
                mode="markers",
                name=palette.KIND_LABEL[kind],
                marker={
                    "color": palette.KIND[kind],
                    "size": 13,
                    "symbol": "diamond-open" if kind == "exceedance" else "circle",
                    "line": {"width": 2, "color": palette.KIND[kind]},
                },
                customdata=part.select("title", "detail", "source_dataset", "source_id").rows(),
                hovertemplate="<b>%{customdata[0]}</b><br>%{x|%-d %b %Y}<br>"
                "%{customdata[1]}<br><i>source: %{customdata[2]} row %{customdata[3]}</i>"
                "<extra></extra>",
            )
        )
    fig.update_layout(**palette.plotly_layout(height=340, showlegend=False))
    fig.update_yaxes(
        title="",
        categoryorder="array",
        categoryarray=[palette.KIND_LABEL[k] for k in palette.KIND_LABEL][::-1],
    )
    return fig


def _result_ids(frame: pl.DataFrame) -> list[tuple]:
    """Where each result came from, for hover text ("—" where a source has no such id)."""
    ids = pl.col("location", "sample_id", "report_id").cast(pl.String).fill_null("—")
    return frame.select(ids).rows()


def series_figure(series: pl.DataFrame, averages: pl.DataFrame, title: str, units: str) -> Any:
    """One parameter's results at one facility: detected results, non-detects at their
    reporting limit (hollow, grey), NAL lines, and the computed annual averages."""
    fig = go.Figure()
    detected = series.filter(~pl.col("is_nd") & pl.col("result").is_not_null())
    nd = series.filter(pl.col("is_nd"))
    hover = (
        "<b>%{y:.4g} " + units + "</b> on %{x|%-d %b %Y}<br>%{customdata[0]}, sample "
        "%{customdata[1]}, report %{customdata[2]}<extra></extra>"
    )
    fig.add_trace(
        go.Scatter(
            x=detected["sample_date"].to_list(),
            y=detected["result"].to_list(),
            mode="markers",
            name="result",
            marker={"color": palette.KIND["monitoring"], "size": 7},
            customdata=_result_ids(detected),
            hovertemplate=hover,
        )
    )
    if nd.height:
        fig.add_trace(
            go.Scatter(
                x=nd["sample_date"].to_list(),
                y=nd["reporting_limit"].to_list(),
                mode="markers",
                name="non-detect (at reporting limit)",
                marker={"color": palette.ND_MARKER, "size": 8, "symbol": "triangle-down-open"},
                customdata=_result_ids(nd),
                hovertemplate="non-detect, RL %{y:.4g} " + units + hover[hover.index("</b>") + 4 :],
            )
        )
    for i, row in enumerate(averages.iter_rows(named=True)):
        if row["average"] is None:
            continue
        start = dt.date(row["reporting_year"], 7, 1)
        fig.add_trace(
            go.Scatter(
                x=[start, dt.date(row["reporting_year"] + 1, 6, 30)],
                y=[row["average"]] * 2,
                mode="lines",
                showlegend=i == 0,
                name="annual average (computed)",
                line={"color": palette.KIND["exceedance"], "width": 3},
                hovertemplate=f"{reporting_year(row['reporting_year'])} average "
                f"{row['average']:.4g} {units} over {row['n_used']} results (computed)"
                "<extra></extra>",
            )
        )
    first = series.row(0, named=True) if series.height else {}
    for field, label, dash, side in (
        ("annual_nal", "annual NAL", "dash", "top left"),
        ("instantaneous_max_nal", "instantaneous NAL", "dot", "top right"),
        ("instantaneous_min_nal", "instantaneous minimum", "dot", "bottom right"),
    ):
        if first.get(field) is not None:
            fig.add_hline(
                y=first[field],
                line={"color": palette.NAL_LINE, "dash": dash},
                annotation_text=f"{label} {first[field]:g} {units}",
                annotation_position=side,
            )
    fig.update_layout(**palette.plotly_layout(height=320, title=title))
    fig.update_yaxes(title=units)
    return fig


def histogram_figure(
    hist: pl.DataFrame, title: str, units: str, lines: dict[str, float | None]
) -> Any:
    """Binned counts as a filled step (log axis when the bins are), with NAL lines."""
    log = hist["scale"][0] == "log"
    x = [*hist["bin_low"], hist["bin_high"][-1]]
    y = [*hist["n"], hist["n"][-1]]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            line_shape="hv",
            fill="tozeroy",
            name="results",
            line={"color": palette.KIND["monitoring"]},
            hovertemplate="from %{x:.4g} " + units + ": %{y} results<extra></extra>",
        )
    )
    for (text, value), side in zip(lines.items(), ("top left", "top right"), strict=False):
        if value is not None and value > 0:
            fig.add_vline(
                x=value,
                line={"color": palette.NAL_LINE, "dash": "dash"},
                annotation_text=f"{text} {value:g} {units}",
                annotation_position=side,
            )
    fig.update_layout(**palette.plotly_layout(height=340, title=title, showlegend=False))
    fig.update_xaxes(type="log" if log else "linear", title=units + (" (log scale)" if log else ""))
    fig.update_yaxes(title="Results")
    return fig


def era_figure(levels: pl.DataFrame) -> Any:
    """ERA level per parameter over time, as steps (computed screening)."""
    fig = go.Figure()
    today = dt.date.today()
    for i, (param,) in enumerate(levels.select("parameter").unique(maintain_order=True).rows()):
        part = levels.filter(pl.col("parameter") == param).sort("effective_date")
        dates = [part["effective_date"][0] - dt.timedelta(days=365), *part["effective_date"], today]
        steps = [0, *part["level"], part["level"][-1]]
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=steps,
                mode="lines+markers",
                line_shape="hv",
                name=param,
                line={"color": palette.SEQUENCE[i % len(palette.SEQUENCE)], "width": 3},
                hovertemplate=param + ": Level %{y} from %{x|%-d %b %Y}<extra></extra>",
            )
        )
    fig.update_layout(**palette.plotly_layout(height=300))
    fig.update_yaxes(
        tickvals=[0, 1, 2], ticktext=["Baseline", "Level 1", "Level 2"], range=[-0.2, 2.3]
    )
    return fig


def pin_map(lat: float, lon: float, label: str) -> None:
    """A small map with one pin."""
    layer = pdk.Layer(
        "ScatterplotLayer",
        data=[{"lat": lat, "lon": lon, "name": label}],
        get_position="[lon, lat]",
        get_radius=120,
        radius_min_pixels=7,
        get_fill_color=[*palette.MAP_SCALE[-1], 230],
        pickable=True,
    )
    view = pdk.ViewState(latitude=lat, longitude=lon, zoom=11)
    st.pydeck_chart(
        pdk.Deck(layers=[layer], initial_view_state=view, tooltip={"text": "{name}"}), height=300
    )
