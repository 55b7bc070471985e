"""The decision store on real databases: SQLite files, and a throwaway PostgreSQL database.

Decisions survive re-matches, two reviewers on one pair get one winner, undo is audited,
bulk accepts are sampled for a precision check, and what people type is kept verbatim.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, text

from data_layer.errors import StormwaterError
from matching.contract import LINK_SCHEMA, PAIR_SCHEMA
from matching.decisions import (
    DecisionConflict,
    NothingToUndo,
    UnknownPair,
    bulk_accept,
    bulk_precision,
    check_sample,
    decide,
    history,
    progress,
    record_check,
    review_queue,
    save_pairs,
)
from matching.links import current_links, links_for_facility
from matching.state import open_state

AUTO, REVIEW = 0.92, 0.60
PROJECT = Path(__file__).resolve().parent.parent
HOSTILE = "<script>alert('x')</script> O'Brien \"Co\" ; DROP TABLE decisions; -- Ñandú 水 🚰"


def pairs(*rows: tuple[str, str, str, float]) -> pl.DataFrame:
    """Scored pairs as the matcher hands them over (components explain the score)."""
    return pl.DataFrame(
        [
            (
                wdid,
                app,
                place,
                score,
                json.dumps({"name": {"similarity": score, "weight": 1.0, "contribution": score}}),
                f"SMARTS {wdid}",
                f"eSMR {place}",
            )
            for wdid, app, place, score in rows
        ],
        schema=PAIR_SCHEMA,
        orient="row",
    )


FIRST_RUN = pairs(
    ("W1", "1", "P1", 0.97),  # auto
    ("W1", "1", "P2", 0.75),  # review, competes with P1 for W1 and with W2 for P2
    ("W2", "2", "P2", 0.65),  # review
    ("W3", "3", "P3", 0.80),  # review
    ("W4", "4", "P4", 0.40),  # below review: not a candidate
)


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty decision store URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / '_state' / 'state.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(state_url: str) -> Iterator[Engine]:
    eng = open_state(state_url)
    yield eng
    eng.dispose()


def status_of(engine: Engine) -> dict[tuple[str, str, str], tuple[str, str]]:
    links = current_links(engine)
    return {
        (r["wdid"], r["app_id"], r["facility_place_id"]): (r["status"], r["method"])
        for r in links.iter_rows(named=True)
    }


def test_open_state_creates_the_directory_and_is_idempotent(state_url: str):
    first = open_state(state_url)
    second = open_state(state_url)  # tables exist: nothing to do, nothing lost
    save_pairs(first, FIRST_RUN, AUTO, REVIEW)
    assert review_queue(second).height == 3
    first.dispose()
    second.dispose()


def test_first_run_auto_links_queues_and_ignores_low_scores(engine: Engine):
    summary = save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    assert (summary.pairs_scored, summary.new, summary.auto_linked, summary.queued) == (5, 4, 1, 3)
    assert summary.unchanged == 0 and summary.decisions_kept == 0
    assert status_of(engine) == {
        ("W1", "1", "P1"): ("linked", "auto"),
        ("W1", "1", "P2"): ("queued", "auto"),
        ("W2", "2", "P2"): ("queued", "auto"),
        ("W3", "3", "P3"): ("queued", "auto"),
    }
    links = current_links(engine)
    assert links.schema == pl.Schema(LINK_SCHEMA)


def test_rerun_is_idempotent(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    before = current_links(engine)
    again = save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    assert (again.new, again.unchanged, again.auto_linked, again.queued) == (0, 4, 1, 3)
    assert current_links(engine).equals(before)


def test_decisions_survive_rematch_with_changed_and_missing_pairs(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    decide(engine, "W1", "1", "P1", "reject", "alice", note="different plant", score_shown=0.97)
    decide(engine, "W1", "1", "P2", "accept", "bob", score_shown=0.75)
    decide(engine, "W3", "3", "P3", "reject", "alice")
    # A later run: W1-P1 now scores even higher, W1-P2 fell below review, W3-P3 is gone,
    # W2-P2 rose into the auto band, and a new pair appears.
    later = pairs(
        ("W1", "1", "P1", 0.99),
        ("W1", "1", "P2", 0.50),
        ("W2", "2", "P2", 0.95),
        ("W5", "5", "P5", 0.70),
    )
    summary = save_pairs(engine, later, AUTO, REVIEW)
    assert summary.decisions_kept == 3
    assert (summary.new, summary.auto_linked, summary.queued) == (1, 1, 1)
    assert status_of(engine) == {
        ("W1", "1", "P1"): ("rejected", "manual"),  # a human reject beats any score
        ("W1", "1", "P2"): ("linked", "manual"),  # kept though no longer a candidate
        ("W2", "2", "P2"): ("linked", "auto"),
        ("W3", "3", "P3"): ("rejected", "manual"),  # gone from the run, decision kept
        ("W5", "5", "P5"): ("queued", "auto"),
    }
    row = current_links(engine).filter(pl.col("facility_place_id") == "P1").row(0, named=True)
    assert (row["score"], row["reviewer"], row["note"]) == (0.99, "alice", "different plant")
    # Running the first run again changes nothing a human decided, and duplicates nothing.
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    assert status_of(engine)[("W1", "1", "P1")] == ("rejected", "manual")
    assert history(engine, "W1", "1", "P1").height == 1


def test_second_reviewer_is_told_who_decided_first(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    decide(engine, "W2", "2", "P2", "accept", "alice")
    with pytest.raises(DecisionConflict, match=r"^alice accepted W2 / app 2 ↔ eSMR place P2 first"):
        decide(engine, "W2", "2", "P2", "reject", "bob")  # bob saw no decision
    assert history(engine, "W2", "2", "P2").get_column("reviewer").to_list() == ["alice"]


def test_a_stale_view_of_a_decided_pair_is_refused(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    first = decide(engine, "W3", "3", "P3", "accept", "alice")
    decide(engine, "W3", "3", "P3", "reject", "carol", expected_last_id=first)
    with pytest.raises(DecisionConflict, match="carol rejected"):
        decide(engine, "W3", "3", "P3", "accept", "bob", expected_last_id=first)


def test_concurrent_decisions_from_two_engines_have_one_winner(state_url: str):
    setup = open_state(state_url)
    keys = [(f"W{i}", str(i), f"P{i}") for i in range(12)]
    save_pairs(setup, pairs(*(k + (0.8,) for k in keys)), AUTO, REVIEW)
    engines = [open_state(state_url), open_state(state_url)]
    barrier = threading.Barrier(2)
    outcomes: dict[str, list[object]] = {"alice": [], "bob": []}

    def review(engine: Engine, reviewer: str, action: str) -> None:
        for key in keys:
            barrier.wait()
            try:
                outcomes[reviewer].append(decide(engine, *key, action, reviewer))
            except DecisionConflict as exc:
                outcomes[reviewer].append(exc)

    threads = [
        threading.Thread(target=review, args=(engines[0], "alice", "accept")),
        threading.Thread(target=review, args=(engines[1], "bob", "reject")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for i, key in enumerate(keys):
        got = [outcomes["alice"][i], outcomes["bob"][i]]
        winners = [g for g in got if isinstance(g, int)]
        losers = [g for g in got if isinstance(g, DecisionConflict)]
        assert len(winners) == 1 and len(losers) == 1, (key, got)
        past = history(setup, *key)
        assert past.height == 1
        assert past.get_column("reviewer")[0] in str(losers[0])
    for eng in [setup, *engines]:
        eng.dispose()


#: A reviewer in a process of its own: waits for the go file, then decides every pair.
_REVIEWER_PROCESS = """
import json, sys, time
from pathlib import Path
from matching.decisions import DecisionConflict, decide
from matching.state import open_state

url, reviewer, keys, ready, go = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), *sys.argv[4:]
engine = open_state(url)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.005)
got = []
for key in keys:
    try:
        decide(engine, *key, "accept", reviewer)
        got.append("won")
    except DecisionConflict:
        got.append("conflict")
print(json.dumps(got))
"""


def test_concurrent_decisions_from_two_processes_have_one_winner(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    keys = [(f"W{i}", str(i), f"P{i}") for i in range(40)]
    save_pairs(open_state(url), pairs(*(k + (0.8,) for k in keys)), AUTO, REVIEW)
    go = tmp_path / "go"
    procs = []
    for reviewer in ("alice", "bob"):
        ready = tmp_path / f"{reviewer}.ready"
        args = [url, reviewer, json.dumps(keys), str(ready), str(go)]
        procs.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", _REVIEWER_PROCESS, *args],
                    cwd=PROJECT,
                    stdout=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready, _ in procs) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # both processes start deciding at the same moment
    runs = [json.loads(proc.communicate(timeout=120)[0]) for _, proc in procs]
    for i in range(len(keys)):
        assert sorted([runs[0][i], runs[1][i]]) == ["conflict", "won"]
    engine = open_state(url)
    assert current_links(engine).get_column("status").to_list() == ["linked"] * len(keys)
    assert sum(history(engine, *k).height for k in keys) == len(keys)


def test_undo_reverts_only_that_reviewers_last_decision_and_is_audited(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    key = ("W1", "1", "P2")
    a = decide(engine, *key, "accept", "alice")
    b = decide(engine, *key, "reject", "bob", expected_last_id=a)
    u = decide(engine, *key, "undo", "alice", note="misclick", expected_last_id=b)
    assert status_of(engine)[key] == ("rejected", "manual")  # bob's reject stands
    u2 = decide(engine, *key, "undo", "bob", expected_last_id=u)
    assert status_of(engine)[key] == ("queued", "auto")  # back in the queue
    past = history(engine, *key)
    assert past.get_column("action").to_list() == ["accept", "reject", "undo", "undo"]
    assert past.get_column("reverts_id").to_list() == [None, None, a, b]
    assert past.get_column("id").to_list() == [a, b, u, u2]
    assert past.get_column("decided_at").dtype == pl.Datetime("us", "UTC")
    with pytest.raises(NothingToUndo, match="alice has no standing decision"):
        decide(engine, *key, "undo", "alice", expected_last_id=u2)
    queued = review_queue(engine).filter(pl.col("facility_place_id") == "P2")
    mine = queued.filter(pl.col("wdid") == "W1").row(0, named=True)
    assert (mine["last_decision_id"], mine["last_action"], mine["last_reviewer"]) == (
        u2,
        "undo",
        "bob",
    )


def test_undo_of_an_auto_link_rejection_restores_the_auto_link(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    r = decide(engine, "W1", "1", "P1", "reject", "alice")
    assert status_of(engine)[("W1", "1", "P1")] == ("rejected", "manual")
    decide(engine, "W1", "1", "P1", "undo", "alice", expected_last_id=r)
    assert status_of(engine)[("W1", "1", "P1")] == ("linked", "auto")


def test_bad_decisions_are_refused_with_one_line(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    with pytest.raises(UnknownPair, match="no scored pair W9 / app 9"):
        decide(engine, "W9", "9", "P9", "accept", "alice")
    with pytest.raises(StormwaterError, match="unknown decision 'maybe'"):
        decide(engine, "W1", "1", "P1", "maybe", "alice")
    with pytest.raises(StormwaterError, match="signed-in reviewer"):
        decide(engine, "W1", "1", "P1", "accept", "  ")
    assert history(engine, "W1", "1", "P1").is_empty()


def test_queue_lists_competitors_and_hides_decided_pairs(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    queue = review_queue(engine)
    assert queue.get_column("score").to_list() == [0.80, 0.75, 0.65]
    competitors = {r["wdid"] + r["facility_place_id"]: r["competitors"] for r in queue.to_dicts()}
    # W1-P2 shares W1 with the W1-P1 auto-link and P2 with W2-P2.
    assert competitors == {"W3P3": 0, "W1P2": 2, "W2P2": 1}
    decide(engine, "W1", "1", "P1", "reject", "alice")
    queue = review_queue(engine)
    assert len(queue) == 3
    assert queue.filter(pl.col("wdid") == "W1").get_column("competitors").to_list() == [1]
    everything = review_queue(engine, include_decided=True)
    assert sorted(everything.get_column("status").to_list()) == ["queued"] * 3 + ["rejected"]
    assert json.loads(everything.get_column("components")[0])["name"]["weight"] == 1.0


def test_links_for_one_facility(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    mine = links_for_facility(engine, "W1", "1")
    assert mine.schema == pl.Schema(LINK_SCHEMA)
    assert mine.get_column("facility_place_id").to_list() == ["P1", "P2"]
    assert links_for_facility(engine, "W4", "4").is_empty()  # scored below review


def test_bulk_accept_samples_a_check_and_estimates_precision(engine: Engine):
    keys = [(f"W{i}", str(i), f"P{i}") for i in range(20)]
    save_pairs(engine, pairs(*(k + (0.85,) for k in keys)), AUTO, REVIEW)
    decide(engine, *keys[0], "reject", "alice")  # decided already: bulk must not override
    result = bulk_accept(engine, [*keys, ("W99", "99", "P99")], "bob", check_fraction=0.25, seed=3)
    assert len(result.accepted) == 19 and len(result.decision_ids) == 19
    assert result.skipped[keys[0]] == "already decided"
    assert "no scored pair" in result.skipped[("W99", "99", "P99")]
    assert len(result.check_keys) == 5  # ceil(19 * 0.25)
    assert set(result.check_keys) <= set(result.accepted)
    assert status_of(engine)[keys[0]] == ("rejected", "manual")
    assert status_of(engine)[keys[1]] == ("linked", "manual")
    sample = check_sample(engine)
    assert sorted(sample.select("wdid", "app_id", "facility_place_id").rows()) == sorted(
        result.check_keys
    )
    assert set(sample.get_column("accepted_by")) == {"bob"}
    assert bulk_precision(engine) == (0, 0, None)
    wrong = result.check_keys[0]
    record_check(engine, wrong, False, "carol")
    for key in result.check_keys[1:]:
        record_check(engine, key, True, "carol")
    assert bulk_precision(engine) == (5, 4, 0.8)
    assert check_sample(engine).is_empty()
    assert status_of(engine)[wrong] == ("rejected", "manual")  # the wrong link is rejected
    with pytest.raises(DecisionConflict, match="carol already checked"):
        record_check(engine, wrong, True, "dave")
    not_sampled = next(k for k in result.accepted if k not in result.check_keys)
    with pytest.raises(StormwaterError, match="not in a bulk-accept check sample"):
        record_check(engine, not_sampled, True, "carol")
    # Bulk accepts are ordinary decisions: audited, and undoable.
    past = history(engine, *keys[1])
    assert past.get_column("bulk_id").to_list() == [result.bulk_id]
    decide(engine, *keys[1], "undo", "bob", expected_last_id=past.get_column("id")[0])
    assert status_of(engine)[keys[1]] == ("queued", "auto")


def test_same_seed_same_sample(engine: Engine):
    keys = [(f"W{i}", str(i), f"P{i}") for i in range(30)]
    save_pairs(engine, pairs(*(k + (0.85,) for k in keys)), AUTO, REVIEW)
    first = bulk_accept(engine, keys[:15], "bob", check_fraction=0.2, seed=11)
    second = bulk_accept(engine, keys[15:], "bob", check_fraction=0.2, seed=11)
    offset = [keys.index(k) for k in first.check_keys]
    assert [keys.index(k) - 15 for k in second.check_keys] == offset
    with pytest.raises(StormwaterError, match="check fraction"):
        bulk_accept(engine, keys[:1], "bob", check_fraction=1.5)


def test_progress_counts_reviewed_and_remaining(engine: Engine):
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    a = decide(engine, "W1", "1", "P2", "accept", "alice")
    decide(engine, "W1", "1", "P2", "undo", "alice", expected_last_id=a)
    decide(engine, "W2", "2", "P2", "accept", "alice")
    decide(engine, "W3", "3", "P3", "reject", "bob")
    table = {r["reviewer"]: r for r in progress(engine).to_dicts()}
    assert table[None] | {} == {
        "reviewer": None,
        "reviewed": 2,
        "accepted": 1,
        "rejected": 1,
        "undone": 1,
        "decisions": 4,
        "remaining": 1,
    }
    assert (table["alice"]["reviewed"], table["alice"]["decisions"]) == (1, 3)
    assert (table["bob"]["rejected"], table["bob"]["remaining"]) == (1, 1)


def test_hostile_text_is_stored_verbatim(engine: Engine):
    hostile = pairs(("W'1", "1", "P<1>", 0.8)).with_columns(
        smarts_name=pl.lit(HOSTILE), esmr_name=pl.lit("<img src=x onerror=alert(1)>")
    )
    save_pairs(engine, hostile, AUTO, REVIEW)
    decide(engine, "W'1", "1", "P<1>", "accept", "O'Hara <b>", note=HOSTILE, score_shown=0.8)
    row = review_queue(engine, include_decided=True).row(0, named=True)
    assert row["smarts_name"] == HOSTILE
    assert row["esmr_name"] == "<img src=x onerror=alert(1)>"
    assert (row["last_note"], row["last_reviewer"]) == (HOSTILE, "O'Hara <b>")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM decisions")).all() == [(1,)]


def test_bad_pair_frames_are_refused(engine: Engine):
    with pytest.raises(StormwaterError, match="thresholds"):
        save_pairs(engine, FIRST_RUN, 0.5, 0.9)
    with pytest.raises(StormwaterError, match="lack column"):
        save_pairs(engine, FIRST_RUN.drop("components"), AUTO, REVIEW)
    with pytest.raises(StormwaterError, match="twice"):
        save_pairs(engine, pl.concat([FIRST_RUN, FIRST_RUN.head(1)]), AUTO, REVIEW)
    with pytest.raises(
        StormwaterError, match=r"1 scored pairs with a score outside 0..1 \(e.g. 1.5"
    ):
        save_pairs(engine, pairs(("W1", "1", "P1", 1.5), ("W2", "2", "P2", 0.7)), AUTO, REVIEW)
    assert current_links(engine).is_empty()


def test_scores_off_by_rounding_are_clipped(engine: Engine):
    save_pairs(engine, pairs(("W1", "1", "P1", 1.000001), ("W2", "2", "P2", 0.65)), AUTO, REVIEW)
    assert current_links(engine).get_column("score").to_list() == [1.0, 0.65]
