"""Scored candidate pairs, SMARTS facility × eSMR facility: the matcher's public entry points.

`score_candidates` takes the two sides as frames (data_layer/match_sources.py shapes)
and returns every candidate pair scoring at or above a floor, in `PAIR_SCHEMA`, with
its components. Links are many-to-many: one plant holds several SMARTS permits over the
years, and CIWQS may list two places at one address, so every competing candidate is
kept for a reviewer; nothing is dropped for having a better rival.
"""

from __future__ import annotations

import logging
import time

import duckdb
import numpy as np
import polars as pl

from data_layer import match_sources
from matching.block import candidate_pairs, haversine_km
from matching.contract import DEFAULT_REVIEW_THRESHOLD, PAIR_SCHEMA
from matching.normalize import default_spellings
from matching.prepare import (
    prepare_esmr,
    prepare_smarts,
    token_neighbours,
    token_weights,
    water_weights,
)
from matching.rivals import rival_parts, rivals_part
from matching.score import Part, Scorer, combine, components_json, weighted_score
from matching.settings import MatchSettings, load_settings

log = logging.getLogger(__name__)


def score_candidates(
    smarts: pl.DataFrame,
    esmr: pl.DataFrame,
    floor: float = DEFAULT_REVIEW_THRESHOLD,
    settings: MatchSettings | None = None,
) -> pl.DataFrame:
    """Candidate pairs scoring at least `floor`, best first, in `PAIR_SCHEMA`.

    `smarts` and `esmr` have the columns of `SMARTS_FACILITY_SCHEMA` and
    `ESMR_FACILITY_SCHEMA` (missing optional columns are taken as null). Grain: one row
    per (wdid, app_id, facility_place_id); `components` is the JSON of each part's
    similarity, weight, contribution and detail (contributions add up to `score`).
    """
    settings = settings or load_settings()
    started = time.perf_counter()
    smarts = match_sources.conform(smarts, match_sources.SMARTS_FACILITY_SCHEMA)
    esmr = match_sources.conform(esmr, match_sources.ESMR_FACILITY_SCHEMA)
    spellings = default_spellings()
    s_side = prepare_smarts(smarts, settings.kind, spellings)
    e_side = prepare_esmr(esmr, settings.kind, spellings)
    weights = token_weights(s_side, e_side, spellings.generic_tokens, settings.name.generic_weight)
    neighbours = token_neighbours(s_side, e_side, settings.name, spellings.codes)
    waters = water_weights(s_side, e_side)
    scorer = Scorer(s_side, e_side, weights, waters, neighbours, settings)
    pairs = candidate_pairs(s_side, e_side, settings.blocking, settings.name)
    si, ei = pairs["s"].to_numpy(), pairs["e"].to_numpy()
    km = haversine_km(s_side.lat[si], s_side.lon[si], e_side.lat[ei], e_side.lon[ei])
    parts = [
        scorer.parts(i, j, d) for i, j, d in zip(si.tolist(), ei.tolist(), km.tolist(), strict=True)
    ]
    no_rival = Part(1.0, "")
    base = np.array([weighted_score(p, settings.weights) for p in parts], dtype=np.float64)
    best = np.array([weighted_score({**p, "rivals": no_rival}, settings.weights) for p in parts])
    labels = (
        [f"{w}/{a}" for w, a in zip(smarts["wdid"], smarts["app_id"], strict=True)],
        esmr["facility_place_id"].to_list(),
    )
    wanted = best >= floor
    names = np.array([p["name"].similarity or 0.0 for p in parts], dtype=np.float64)
    rivals = rival_parts(si, ei, base, names, wanted, (s_side, e_side), labels, settings.rivals)
    keep_s, keep_e, scores, components = [], [], [], []
    for k in np.flatnonzero(wanted).tolist():
        score, explained = combine({**parts[k], "rivals": rivals_part(rivals[k])}, settings.weights)
        if score >= floor:
            keep_s.append(int(si[k]))
            keep_e.append(int(ei[k]))
            scores.append(score)
            components.append(components_json(explained))
    log.info(
        "scored %d candidate pairs of %d x %d facilities in %.1f s; %d at or above %.2f",
        len(si),
        smarts.height,
        esmr.height,
        time.perf_counter() - started,
        len(scores),
        floor,
    )
    return _pairs_frame(smarts, esmr, keep_s, keep_e, scores, components)


def _pairs_frame(
    smarts: pl.DataFrame,
    esmr: pl.DataFrame,
    rows_s: list[int],
    rows_e: list[int],
    scores: list[float],
    components: list[str],
) -> pl.DataFrame:
    s = smarts.select("wdid", "app_id", pl.col("name").alias("smarts_name"))[rows_s]
    e = esmr.select("facility_place_id", pl.col("name").alias("esmr_name"))[rows_e]
    frame = pl.concat([s, e], how="horizontal").with_columns(
        pl.Series("score", scores, dtype=pl.Float64),
        pl.Series("components", components, dtype=pl.String),
    )
    frame = frame.select(list(PAIR_SCHEMA)).cast(PAIR_SCHEMA)
    return frame.sort(
        ["score", "wdid", "app_id", "facility_place_id"], descending=[True, False, False, False]
    )


def score_store(
    cur: duckdb.DuckDBPyConnection,
    pg_url: str | None = None,
    floor: float = DEFAULT_REVIEW_THRESHOLD,
    settings: MatchSettings | None = None,
) -> pl.DataFrame:
    """Score the store's SMARTS facilities against eSMR facilities (see `score_candidates`).

    eSMR facilities come from the store's samples, or from PostgreSQL's `esmr_facilities`
    when `pg_url` is given.
    """
    smarts = match_sources.smarts_facilities(cur)
    esmr = (
        match_sources.esmr_facilities_pg(pg_url) if pg_url else match_sources.esmr_facilities(cur)
    )
    return score_candidates(smarts, esmr, floor, settings)
