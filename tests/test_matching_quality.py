"""Matching quality on the generated sample's answer key (DESIGN §7, issue 5).

Auto-links (score >= 0.92) must be right at least 98 % of the time and auto-links plus
the review queue (score >= 0.60) must find at least 95 % of the true pairs. The weights
were tuned on other seeds (1 and 2); these are seeds the tuning never saw: the shared
tiny sample (seed 7) and a larger one (seed 11) built here from the facility and eSMR
files only.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from data_layer.connection import open_store
from data_layer.store import Store, store_at
from loaders.demo_source import TRUTH_FILE, write_demo_source
from loaders.refresh import RefreshOptions, refresh
from matching.contract import DEFAULT_AUTO_THRESHOLD, DEFAULT_REVIEW_THRESHOLD
from matching.pairs import score_store
from tests.conftest import ESMR_YEARS, _reference

#: DESIGN §7 / issue 5 targets.
AUTO_PRECISION = 0.98
QUEUE_RECALL = 0.95
KEY = ["wdid", "app_id", "facility_place_id"]


def quality(pairs: pl.DataFrame, truth: pl.DataFrame, threshold: float) -> tuple[float, float]:
    """(precision, recall) of the pairs at or above `threshold` against the answer key."""
    chosen = pairs.filter(pl.col("score") >= threshold).select(KEY).unique()
    hits = chosen.join(truth.select(KEY), on=KEY).height
    return (hits / chosen.height if chosen.height else 1.0), hits / truth.height


def scored(store: Store) -> pl.DataFrame:
    conn = open_store(store.root, "1GB")
    cur = conn.cursor()
    try:
        return score_store(cur, floor=DEFAULT_REVIEW_THRESHOLD)
    finally:
        cur.close()
        conn.close()


def _check(store: Store, source: Path) -> None:
    truth = pl.read_csv(source / TRUTH_FILE, infer_schema=False)
    pairs = scored(store)
    precision, _ = quality(pairs, truth, DEFAULT_AUTO_THRESHOLD)
    _, recall = quality(pairs, truth, DEFAULT_REVIEW_THRESHOLD)
    assert precision >= AUTO_PRECISION, f"auto-link precision {precision:.3f}"
    assert recall >= QUEUE_RECALL, f"auto + review recall {recall:.3f}"
    # auto-linking is worth having: most true pairs need no reviewer
    _, auto_recall = quality(pairs, truth, DEFAULT_AUTO_THRESHOLD)
    assert auto_recall >= 0.4, f"auto-link recall {auto_recall:.3f}"


def test_tiny_sample_meets_the_targets(tiny_store: Store, tiny_source: Path):
    _check(tiny_store, tiny_source)


@pytest.fixture(scope="module")
def second_seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path]:
    """Seed 11 at scale 0.05 (about 60 true pairs): facilities and eSMR loaded only."""
    source = tmp_path_factory.mktemp("match_source")
    write_demo_source(source, scale=0.05, seed=11, reference=_reference(), esmr_years=ESMR_YEARS)
    store = store_at(tmp_path_factory.mktemp("match_store"))
    options = RefreshOptions(
        source=str(source),
        datasets=["industrial_facilities", "construction_facilities", "esmr_samples"],
        esmr_years=ESMR_YEARS,
        memory_limit="1GB",
    )
    failed = [(o.dataset, o.error) for o in refresh(store, options) if o.outcome != "published"]
    assert not failed, failed
    return store, source


def test_second_seed_meets_the_targets(second_seed: tuple[Store, Path]):
    if _reference() is None:
        pytest.skip(
            "real reference files (../shared/reference) are absent: the targets are stated for "
            "the sample drawn from real names, and the built-in vocabulary repeats too few"
        )
    _check(*second_seed)


def test_rematching_gives_the_same_pairs(tiny_store: Store):
    first, second = scored(tiny_store), scored(tiny_store)
    assert first.equals(second)


def test_every_true_pair_scores_above_the_pairs_it_competes_with_or_is_queued(
    second_seed: tuple[Store, Path],
):
    """A true pair never hides behind an auto-link: where it is below the auto threshold,
    no other pair of its SMARTS facility or its eSMR facility is auto-linked."""
    store, source = second_seed
    truth = pl.read_csv(source / TRUTH_FILE, infer_schema=False)
    pairs = scored(store)
    auto = pairs.filter(pl.col("score") >= DEFAULT_AUTO_THRESHOLD)
    wrong_auto = auto.join(truth.select(KEY), on=KEY, how="anti")
    shadowed = (
        truth.join(wrong_auto, on=["wdid", "app_id"]).height
        + truth.join(wrong_auto, on="facility_place_id").height
    )
    assert shadowed <= max(1, round(0.02 * truth.height))
