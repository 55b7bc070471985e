"""The matching benchmark of DESIGN §9: all SMARTS against all eSMR facilities, < 60 s, < 2 GB.

Each run is a fresh process that opens the benchmark store, reads both sides of the
match (`data_layer.match_sources`) and scores them (`matching.pairs.score_candidates`);
wall time and peak memory are of that whole process, imports excluded. The pairs of
the last run are checked against the generated source's answer key
(`_truth/facility_matches.csv`, which the product never reads): precision and recall of
the pairs at or above each threshold. Candidate pairs are reported beside all pairs.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from bench.measure import measure_code
from bench.queries import ensure_store
from data_layer.settings import Settings

#: Thresholds at which precision and recall are reported (DESIGN §7 defaults among them).
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.92, 0.95)
#: Lowest score kept, so every threshold above can be read off one run.
FLOOR = min(THRESHOLDS)
TRUTH_FILE = "_truth/facility_matches.csv"

_OPEN = """
from data_layer.connection import open_store
from data_layer import match_sources
cur = open_store({store!r}, {memory!r}).cursor()
smarts = match_sources.smarts_facilities(cur)
esmr = match_sources.esmr_facilities(cur)
"""
#: The measured work: both sides read from the store and scored.
SCORE = (
    _OPEN
    + """
from matching.pairs import score_candidates
score_candidates(smarts, esmr, floor={floor!r}).write_parquet({pairs_out!r})
"""
)
#: Not measured: how many candidate pairs blocking makes.
COUNT = (
    _OPEN
    + """
import json
from matching.block import candidate_pairs
from matching.normalize import default_spellings
from matching.prepare import prepare_esmr, prepare_smarts
from matching.settings import load_settings
s = load_settings()
sides = (prepare_smarts(smarts, s.kind, default_spellings()),
         prepare_esmr(esmr, s.kind, default_spellings()))
found = candidate_pairs(*sides, s.blocking, s.name).height
with open({stats_out!r}, "w") as fh:
    json.dump({{"smarts": smarts.height, "esmr": esmr.height, "candidates": found}}, fh)
"""
)


def quality(pairs: pl.DataFrame, truth: pl.DataFrame, threshold: float) -> tuple[float, float]:
    """(precision, recall) of the pairs scoring at least `threshold` against the answer key."""
    keys = ["wdid", "app_id", "facility_place_id"]
    chosen = pairs.filter(pl.col("score") >= threshold).select(keys).unique()
    hits = chosen.join(truth.select(keys).unique(), on=keys).height
    precision = hits / chosen.height if chosen.height else 1.0
    recall = hits / truth.height if truth.height else 1.0
    return precision, recall


def matching_benchmarks(
    workdir: Path, scale: float, repeat: int, settings: Settings
) -> Iterator[dict[str, Any]]:
    """Score all facilities `repeat` times in fresh processes; then quality on the answer key."""
    from bench.runner import _row, ensure_source

    store = ensure_store(workdir, scale, settings)
    source, _ = ensure_source(workdir, scale, settings)
    pairs_out, stats_out = workdir / "matching_pairs.parquet", workdir / "matching_stats.json"
    where = {"store": str(store.root), "memory": settings.memory_limit}
    code = SCORE.format(**where, floor=FLOOR, pairs_out=str(pairs_out))
    runs = [measure_code(code) for _ in range(repeat)]
    measure_code(COUNT.format(**where, stats_out=str(stats_out)))
    yield _row("matching_all_s", statistics.median(r["seconds"] for r in runs), "s", scale)
    peak = statistics.median(r["peak_mb"] for r in runs)
    yield _row("matching_peak_memory_mb", peak, "MB", scale)
    stats = json.loads(stats_out.read_text())
    all_pairs = stats["smarts"] * stats["esmr"]
    yield _row("matching_candidate_pairs", stats["candidates"], "pairs", scale, all_pairs)
    pairs = pl.read_parquet(pairs_out)
    truth = pl.read_csv(source / TRUTH_FILE, infer_schema=False)
    yield _row("matching_answer_key_pairs", truth.height, "pairs", scale)
    for threshold in THRESHOLDS:
        precision, recall = quality(pairs, truth, threshold)
        yield _row(f"matching_precision_at_{threshold:.2f}", precision, "ratio", scale)
        yield _row(f"matching_recall_at_{threshold:.2f}", recall, "ratio", scale)
