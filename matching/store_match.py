"""Matching the store: score every SMARTS facility against eSMR facilities, record the run.

The one entry point `match` and the nightly chain call; scoring is `matching.pairs`,
recording is `matching.runs.save_pairs`, which never touches a human decision.
"""

from __future__ import annotations

import json

import duckdb
from sqlalchemy import Engine

from matching.contract import DEFAULT_AUTO_THRESHOLD, DEFAULT_REVIEW_THRESHOLD
from matching.pairs import score_store
from matching.runs import RunSummary, check_thresholds, save_pairs
from matching.settings import load_settings


def match_store(
    cur: duckdb.DuckDBPyConnection,
    engine: Engine,
    *,
    auto: float = DEFAULT_AUTO_THRESHOLD,
    review: float = DEFAULT_REVIEW_THRESHOLD,
    pg_url: str | None = None,
) -> RunSummary:
    """Score the store's SMARTS facilities against eSMR facilities and record the run.

    eSMR facilities come from the store, or from PostgreSQL's `esmr_facilities` with
    `pg_url`; the matcher's settings are kept with the run as JSON.
    """
    settings = load_settings()
    check_thresholds(auto, review)
    pairs = score_store(cur, pg_url, floor=review, settings=settings)
    return save_pairs(engine, pairs, auto, review, settings=json.dumps(settings.as_dict()))
