"""Candidate pairs: the few SMARTS × eSMR pairs worth scoring, far below all pairs.

A pair is a candidate when the two share a rare name token (in the facility name or
the operator / agency name; a token one typo away counts), when they are close on the
map, or when their addresses share a house number and street word. Rare-token
candidates in different regions and far apart are dropped.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from matching.prepare import Side, region_family
from matching.settings import Blocking, NameRules

EARTH_KM = 6371.0088
_KM_PER_DEGREE = 111.195


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km (NaN where a coordinate is missing)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _with_typo_keys(postings: pl.DataFrame, typo_min_length: int) -> pl.DataFrame:
    """`postings` (row, key) plus, for long words and whole names without spaces (`~...`),
    each one-letter deletion of the key (SymSpell: spellings one edit apart share a key)."""
    key = pl.col("key")
    long_ = postings.filter(
        (key.str.len_chars() >= typo_min_length)
        & ~key.str.contains(r"^[0-9]+$")
        & ~key.str.starts_with("=")
        & ~key.str.starts_with("^")
    )
    start = key.str.starts_with("~").cast(pl.Int64)
    deletions = (
        long_.with_columns(pos=pl.int_ranges(start, key.str.len_chars()))
        .explode("pos")
        .select(
            "row", (key.str.slice(0, pl.col("pos")) + key.str.slice(pl.col("pos") + 1)).alias("key")
        )
    )
    return pl.concat([postings, deletions]).unique()


def _name_keys(a: tuple[str, ...], b: tuple[str, ...], rules: Blocking) -> set[str]:
    """Blocking tokens of a row's two names, plus each whole name as one token three ways:
    words sorted (`=ca recycling e` for `Recycling of California, E`), spaces removed
    (`~em` for `E M Corp`), and its first two words (`^l g` for `L G Fountains`), so
    reordered names, names of short words and renamed sites still meet."""
    keys = {t for t in (*a, *b) if len(t) >= rules.min_token_length}
    for name in (a, b):
        if name:
            keys.add("=" + " ".join(sorted(name)))
            keys.add("~" + "".join(name))
        if len(name) > 2:
            keys.add("^" + " ".join(name[:2]))
    return keys


def _token_postings(side: Side, rules: Blocking) -> pl.DataFrame:
    """(row, key) for each token of a side's names in at most `max_token_share` of them."""
    rows, keys = [], []
    for i, (a, b) in enumerate(zip(side.name, side.other, strict=True)):
        row_keys = _name_keys(a, b, rules)
        rows.extend([i] * len(row_keys))
        keys.extend(row_keys)
    postings = pl.DataFrame(
        {"row": pl.Series(rows, dtype=pl.UInt32), "key": pl.Series(keys, dtype=pl.String)}
    )
    limit = max(rules.common_floor, rules.max_token_share * max(len(side), 1))
    rare = postings.group_by("key").len().filter(pl.col("len") <= limit).select("key")
    return postings.join(rare, on="key")


#: SMARTS postings expanded into typo keys this many at a time, to bound memory.
_CHUNK_ROWS = 100_000


def token_pairs(smarts: Side, esmr: Side, rules: Blocking, names: NameRules) -> pl.DataFrame:
    """Pairs sharing a token or typo key that makes at most `max_key_pairs` pairs;
    columns s, e (row numbers)."""
    e = _with_typo_keys(_token_postings(esmr, rules), names.typo_min_length)
    e_keys = e.select("key").unique()
    base = _token_postings(smarts, rules)
    chunks = [
        _with_typo_keys(base.slice(start, _CHUNK_ROWS), names.typo_min_length).join(
            e_keys, on="key", how="semi"
        )
        for start in range(0, base.height, _CHUNK_ROWS)
    ]
    s = pl.concat(chunks).unique() if chunks else base
    sizes = (
        s.group_by("key")
        .len("n_s")
        .join(e.group_by("key").len("n_e"), on="key")
        .filter(pl.col("n_s") * pl.col("n_e") <= rules.max_key_pairs)
        .select("key")
    )
    pairs = s.join(sizes, on="key").join(e, on="key", suffix="_e")
    return pairs.select(pl.col("row").alias("s"), pl.col("row_e").alias("e")).unique()


def near_pairs(smarts: Side, esmr: Side, rules: Blocking) -> pl.DataFrame:
    """Pairs within `near_km` of each other (grid cells, then the exact distance)."""
    cell_lat = rules.near_km / _KM_PER_DEGREE
    cell_lon = rules.near_km / (_KM_PER_DEGREE * math.cos(math.radians(42.1)))

    def cells(side: Side) -> pl.DataFrame:
        ok = ~(np.isnan(side.lat) | np.isnan(side.lon))
        idx = np.flatnonzero(ok).astype(np.uint32)
        return pl.DataFrame(
            {
                "row": pl.Series(idx, dtype=pl.UInt32),
                "cy": np.floor(side.lat[ok] / cell_lat).astype(np.int64),
                "cx": np.floor(side.lon[ok] / cell_lon).astype(np.int64),
            }
        )

    s, e = cells(smarts), cells(esmr)
    shifts = pl.DataFrame({"dy": [-1, -1, -1, 0, 0, 0, 1, 1, 1], "dx": [-1, 0, 1] * 3})
    e = e.join(shifts, how="cross").select(
        "row", (pl.col("cy") + pl.col("dy")).alias("cy"), (pl.col("cx") + pl.col("dx")).alias("cx")
    )
    pairs = s.join(e, on=["cy", "cx"], suffix="_e").select(
        pl.col("row").alias("s"), pl.col("row_e").alias("e")
    )
    si, ei = pairs["s"].to_numpy(), pairs["e"].to_numpy()
    km = haversine_km(smarts.lat[si], smarts.lon[si], esmr.lat[ei], esmr.lon[ei])
    return pairs.filter(pl.Series(km <= rules.near_km))


def address_pairs(smarts: Side, esmr: Side) -> pl.DataFrame:
    """Pairs whose addresses share the house number and the first street word after it."""

    def keys(side: Side) -> pl.DataFrame:
        rows, out = [], []
        for i, (num, tokens) in enumerate(zip(side.number, side.address, strict=True)):
            words = [t for t in tokens if not t.isdigit()]
            if num and words:
                rows.append(i)
                out.append(f"{num} {words[0]}")
        return pl.DataFrame(
            {"row": pl.Series(rows, dtype=pl.UInt32), "key": pl.Series(out, dtype=pl.String)}
        )

    return (
        keys(smarts)
        .join(keys(esmr), on="key", suffix="_e")
        .select(pl.col("row").alias("s"), pl.col("row_e").alias("e"))
    )


def _keep_plausible(pairs: pl.DataFrame, smarts: Side, esmr: Side, rules: Blocking) -> pl.DataFrame:
    """Drop token pairs in different region families that are also far apart (or unlocated)."""
    si, ei = pairs["s"].to_numpy(), pairs["e"].to_numpy()
    km = haversine_km(smarts.lat[si], smarts.lon[si], esmr.lat[ei], esmr.lon[ei])
    fam_s = [region_family(smarts.region[i]) for i in si]
    fam_e = [region_family(esmr.region[i]) for i in ei]
    same = np.array(
        [a is None or b is None or a == b for a, b in zip(fam_s, fam_e, strict=True)], dtype=bool
    )
    close = np.nan_to_num(km, nan=np.inf) <= rules.token_max_km
    return pairs.filter(pl.Series(same | close, dtype=pl.Boolean))


def candidate_pairs(smarts: Side, esmr: Side, rules: Blocking, names: NameRules) -> pl.DataFrame:
    """Every candidate pair once: columns s, e (row numbers into each side)."""
    by_token = _keep_plausible(token_pairs(smarts, esmr, rules, names), smarts, esmr, rules)
    found = pl.concat([by_token, near_pairs(smarts, esmr, rules), address_pairs(smarts, esmr)])
    return found.unique().sort("s", "e")
