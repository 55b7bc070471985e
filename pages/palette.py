"""One palette for every page: record kinds, official vs computed, statuses, maps and charts.

Colours are chosen to stay distinguishable for the common colour-vision deficiencies
(Okabe–Ito hues); official records are solid, computed screening is drawn hatched or
dashed wherever it appears beside them.
"""

from __future__ import annotations

import polars as pl

#: One colour per compliance-record kind (timeline, charts, badges).
KIND = {
    "inspection": "#0072B2",  # blue
    "violation": "#D55E00",  # vermillion
    "enforcement": "#CC79A7",  # reddish purple
    "exceedance": "#E69F00",  # orange: computed screening
    "monitoring": "#009E73",  # bluish green
}

#: Labels for the kinds, as people read them.
KIND_LABEL = {
    "inspection": "Inspection",
    "violation": "Violation (official)",
    "enforcement": "Enforcement action (official)",
    "exceedance": "NAL exceedance (computed screening)",
}

#: Neutral tones.
INK = "#1F2933"
MUTED = "#7B8794"
GRID = "#E4E7EB"
NAL_LINE = "#B91C1C"
ND_MARKER = "#7B8794"

#: Sequential scale for counts on the map (low → high), RGB.
MAP_SCALE: tuple[tuple[int, int, int], ...] = (
    (0, 114, 178),
    (86, 180, 233),
    (240, 228, 66),
    (230, 159, 0),
    (213, 94, 0),
)
#: Map points with nothing to show (no violations / no exceedances), RGB.
MAP_NONE = (160, 170, 180)

#: Badge labels in the record tables and their colours (status, priority, seriousness).
BADGE = {
    "Violation": "#D55E00",
    "Potential": "#E69F00",
    "Dismissed": "#9AA5B1",
    "Active": "#CC79A7",
    "Historical": "#9AA5B1",
    "Withdrawn": "#CBD2D9",
    "serious": "#B91C1C",
    "priority 1": "#D55E00",
    "priority 2": "#E69F00",
    "priority 3": "#56B4E9",
    "violations found": "#D55E00",
    "follow-up": "#E69F00",
    "penalty derived": "#9AA5B1",
    "no official response": "#E69F00",
}

#: ERA level colours (computed screening).
ERA_LEVEL = {0: "#B0BEC5", 1: "#E69F00", 2: "#D55E00"}

#: Colour order for categorical charts (types, regions, parameters).
SEQUENCE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#7B8794"]


def plotly_layout(**overrides: object) -> dict[str, object]:
    """Shared Plotly layout: quiet grid, readable font, legend on top."""
    layout: dict[str, object] = {
        "font": {"color": INK, "size": 13},
        "colorway": SEQUENCE,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        "xaxis": {"gridcolor": GRID},
        "yaxis": {"gridcolor": GRID},
        "plot_bgcolor": "white",
    }
    layout.update(overrides)
    return layout


def map_colour(count: pl.Expr, top: int) -> list[pl.Expr]:
    """RGBA channels (`r`, `g`, `b`, `a`) for counts on the map scale: 0 → grey, `top` → the
    darkest step. Expressions, so 45,000 points colour in one vectorised pass."""
    steps, top = len(MAP_SCALE) - 1, max(top, 1)
    step = (count.clip(0, top) * steps / top).floor().cast(pl.Int64).clip(0, steps)
    none = count.fill_null(0) <= 0
    channels = []
    for i, name in enumerate("rgb"):
        lookup = {n: rgb[i] for n, rgb in enumerate(MAP_SCALE)}
        value = step.replace_strict(lookup, return_dtype=pl.Int64)
        channels.append(pl.when(none).then(MAP_NONE[i]).otherwise(value).alias(name))
    return [*channels, pl.when(none).then(140).otherwise(210).alias("a")]
