"""Competing candidates: when another pair of either facility is about as good.

A SMARTS facility with two eSMR candidates of about the same score or the same name (a
chain's two sites, an agency's two plants, CIWQS listing two places at one address), or
an eSMR facility with two such SMARTS candidates (a plant re-permitted under a new WDID),
is not auto-linked to any of them: a reviewer sees them side by side and may accept one
or several (links are many-to-many). An equally good name (a good one: common words
alone do not count) makes a rival whatever the other parts say, because what tells such
candidates apart (a missing coordinate, a receiving water) is weak evidence. The
`rivals` part is 1 without a rival and 0 with one, which keeps the pair below the
auto-link threshold (its weight, 0.10 beside parts weighing 1.0 together, caps the score
at 1 / 1.1 = 0.909); its detail names the rivals and says which are at the same place.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from matching.block import haversine_km
from matching.prepare import Side
from matching.score import Part
from matching.settings import RivalRules

#: Rivals named in a part's detail, at most.
SHOWN = 3


def _same_place(side: Side, mine: np.ndarray, rival: np.ndarray, rules: RivalRules) -> np.ndarray:
    """Whether rows `mine[k]` and `rival[k]` of one side are at one place (close, same address)."""
    km = haversine_km(side.lat[mine], side.lon[mine], side.lat[rival], side.lon[rival])
    address = [
        bool(side.address[a]) and side.address[a] == side.address[b]
        for a, b in zip(mine, rival, strict=True)
    ]
    return (np.nan_to_num(km, nan=np.inf) <= rules.same_place_km) | np.array(address, dtype=bool)


def _contenders(
    pairs: pl.DataFrame, wanted: pl.Series, key: str, other: str, rules: RivalRules
) -> pl.DataFrame:
    """For each wanted pair, the other pairs sharing its `key` facility whose score, or
    name similarity (when at least `rules.good_name`), is at most `rules.margin` lower:
    columns pair, mine (its `other` row), rival (the rival's `other` row)."""
    margin = rules.margin
    left = pairs.filter(wanted).select("pair", key, pl.col(other).alias("mine"), "base", "name")
    right = pairs.select(
        pl.col("pair").alias("rival_pair"),
        key,
        pl.col(other).alias("rival"),
        pl.col("base").alias("rival_base"),
        pl.col("name").alias("rival_name"),
    )
    as_good = (pl.col("rival_base") >= pl.col("base") - margin) | (
        (pl.col("rival_name") >= pl.col("name") - margin)
        & (pl.col("rival_name") >= rules.good_name)
    )
    return (
        left.join(right, on=key)
        .filter((pl.col("pair") != pl.col("rival_pair")) & as_good)
        .select("pair", "mine", "rival")
    )


def rival_parts(
    s_rows: np.ndarray,
    e_rows: np.ndarray,
    base: np.ndarray,
    name: np.ndarray,
    wanted: np.ndarray,
    sides: tuple[Side, Side],
    labels: tuple[list[str], list[str]],
    rules: RivalRules,
) -> dict[int, list[str]]:
    """The rivals of each wanted pair (their labels, and whether at the same place), by
    pair number.

    Pairs are given by their rows on each side (`sides`: SMARTS, eSMR), score before this
    part (`base`) and name similarity (`name`, 0 when missing); every pair can be a
    rival, only `wanted` ones get a part.
    `labels` name each side's rows in details (SMARTS `wdid/app_id`, eSMR place id).
    """
    pairs = pl.DataFrame(
        {"pair": np.arange(len(base)), "s": s_rows, "e": e_rows, "base": base, "name": name}
    )
    keep = pl.Series(wanted, dtype=pl.Boolean)
    found: dict[int, list[str]] = {int(p): [] for p in np.flatnonzero(wanted)}
    smarts, esmr = sides
    for key, other, side, label in (("s", "e", esmr, labels[1]), ("e", "s", smarts, labels[0])):
        rows = _contenders(pairs, keep, key, other, rules)
        mine, rival = rows["mine"].to_numpy(), rows["rival"].to_numpy()
        same = _same_place(side, mine, rival, rules)
        for pair, r, at_same in zip(
            rows["pair"].to_list(), rival.tolist(), same.tolist(), strict=True
        ):
            found[pair].append(f"{label[r]} ({'same place' if at_same else 'elsewhere'})")
    return found


def rivals_part(rivals: list[str]) -> Part:
    """The `rivals` part: 1 without rivals, 0 with; the detail names them."""
    if not rivals:
        return Part(1.0, "no other candidate is as good")
    shown = ", ".join(sorted(rivals)[:SHOWN]) + (" ..." if len(rivals) > SHOWN else "")
    return Part(0.0, f"{len(rivals)} other candidate(s) as good by score or name: {shown}")
