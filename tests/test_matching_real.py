"""The matcher on real data: the 2019 SMARTS industrial facilities (loaded into a store
the ordinary way) against the 2024 CIWQS wastewater facility export.

Real names are hard (generic plant names, one agency running several plants, renamed
plants); these checks are the sane properties of what it links: the obvious plants are
auto-linked, nothing that disagrees on what the facility is, or that has nothing but a
name to go on, is auto-linked, and it runs in bounded time. Needs ../shared/reference.
"""

from __future__ import annotations

import json
import time

import polars as pl
import pytest

from data_layer import match_sources
from data_layer.connection import open_store
from data_layer.settings import Settings
from data_layer.store import store_at
from loaders.refresh import RefreshOptions, refresh
from matching.contract import DEFAULT_AUTO_THRESHOLD, DEFAULT_REVIEW_THRESHOLD
from matching.normalize import name_tokens
from matching.pairs import score_candidates

REAL = Settings.from_env().reference / "real"
SMARTS_FILE = REAL / "industrial_facilities_2019-03-12.csv"
CIWQS_FILE = REAL / "ciwqs_wastewater_facilities_2024-09-06.csv"

pytestmark = pytest.mark.skipif(
    not (SMARTS_FILE.is_file() and CIWQS_FILE.is_file()),
    reason=f"real reference files not found under {REAL} (../shared/reference/real)",
)

#: Plants whose SMARTS and CIWQS records plainly agree (name, address, city).
OBVIOUS = {
    ("1 49I012060", "272339", "214888"),  # Cloverdale City WWTP, 700 Asti Road
    ("3 42NNA000084", "463496", "213332"),  # Carpinteria Sanitary District, 5351 Sixth St
    ("4 19I005211", "189493", "266940"),  # Tapia WRF, Malibu Canyon Road
    ("4 19I000724", "188678", "212135"),  # Burbank Water Reclamation Plant
    ("4 19I005011", "189468", "232063"),  # Hyperion WWTP
}
#: Seconds the whole real run may take on a busy 2-core machine (it takes about 5).
TIME_LIMIT = 120


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, float]:
    """The SMARTS file refreshed into a store (linked, not copied), scored against CIWQS."""
    source = tmp_path_factory.mktemp("real_source")
    (source / SMARTS_FILE.name).symlink_to(SMARTS_FILE)
    store = store_at(tmp_path_factory.mktemp("real_store"))
    options = RefreshOptions(source=str(source), datasets=["industrial_facilities"])
    outcomes = refresh(store, options)
    assert [o.outcome for o in outcomes] == ["published"], [o.error for o in outcomes]
    conn = open_store(store.root, "1GB")
    cur = conn.cursor()
    try:
        started = time.perf_counter()
        smarts = match_sources.smarts_facilities(cur)
        ciwqs = match_sources.ciwqs_facilities_csv(CIWQS_FILE)
        pairs = score_candidates(smarts, ciwqs, floor=DEFAULT_REVIEW_THRESHOLD)
        return pairs, time.perf_counter() - started
    finally:
        cur.close()
        conn.close()


def _auto(pairs: pl.DataFrame) -> pl.DataFrame:
    return pairs.filter(pl.col("score") >= DEFAULT_AUTO_THRESHOLD)


def _part(row: dict, name: str) -> dict:
    return json.loads(row["components"])[name]


def test_runs_in_bounded_time_with_sane_counts(real_run):
    pairs, seconds = real_run
    assert seconds < TIME_LIMIT
    auto = _auto(pairs)
    assert 30 <= auto.height <= 200, auto.height
    assert auto.height < pairs.height <= 600


def test_obvious_plants_are_auto_linked(real_run):
    auto = _auto(real_run[0])
    linked = {tuple(r) for r in auto.select("wdid", "app_id", "facility_place_id").iter_rows()}
    assert linked >= OBVIOUS


def test_no_auto_link_disagrees_on_what_the_facility_is(real_run):
    for row in _auto(real_run[0]).iter_rows(named=True):
        kind = _part(row, "kind")
        assert kind["similarity"] is not None and kind["similarity"] > 0, row


def test_every_auto_link_has_more_than_a_name_behind_it(real_run):
    """Generic names collide statewide: an auto-link also agrees on where the place is."""
    for row in _auto(real_run[0]).iter_rows(named=True):
        where = [_part(row, p)["similarity"] or 0 for p in ("address", "distance", "place")]
        assert max(where) >= 0.6, row


def test_generic_names_are_never_auto_linked(real_run):
    """SMARTS records named only "Wastewater Treatment Plant" and the like."""
    auto = _auto(real_run[0])
    generic = auto.filter(
        pl.col("smarts_name").map_elements(
            lambda n: set(name_tokens(n)) <= {"wwtp", "city", "county"}, return_dtype=pl.Boolean
        )
    )
    assert generic.is_empty(), generic


def test_each_esmr_facility_auto_links_to_one_place(real_run):
    """Several permits of one plant may link (many-to-many), but never two places."""
    auto = _auto(real_run[0])
    many = auto.group_by("facility_place_id").len().filter(pl.col("len") > 1)
    assert many.is_empty(), many
