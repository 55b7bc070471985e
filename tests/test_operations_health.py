"""Figures a rollout watches on the Data health page: query times recorded in process, the match
rate from the real decision store, and the nightly runs' steps."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import polars as pl
import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.health import MATCH_RATE_UNAVAILABLE, match_rate, nightly_history, null_shares
from data_layer.query_times import QUERY_TIMES, SUMMARY_SCHEMA, QueryTimes, query_time_summary
from data_layer.store import Store, store_at
from loaders.refresh import RefreshOptions
from matching.contract import PAIR_SCHEMA
from matching.links import current_links
from matching.runs import save_pairs
from matching.state import open_state
from ops.nightly import NightlyPlan, run_nightly
from tests.factories import rows_for, write_csv
from tests.test_app import start, visit


@pytest.fixture(scope="module")
def conn(tiny_store: Store) -> StoreConnection:
    return open_store(tiny_store.root)


def test_run_query_records_real_query_times(conn: StoreConnection) -> None:
    before = QUERY_TIMES.summary().filter(pl.col("query") == "null_shares")
    null_shares(conn.cursor())
    null_shares(conn.cursor())
    row = query_time_summary().filter(pl.col("query") == "null_shares").row(0, named=True)
    assert row["calls"] == (before["calls"].sum() or 0) + 2
    assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["max_ms"]


def test_percentiles_over_a_bounded_window() -> None:
    times = QueryTimes(window=100)
    for ms in range(1, 201):  # only the last 100 (101..200 ms) stay
        times.record("q", ms / 1000)
    row = times.summary().row(0, named=True)
    assert row["calls"] == 200
    assert row["p50_ms"] == pytest.approx(150.5) and row["p95_ms"] == pytest.approx(195.05)
    assert row["max_ms"] == pytest.approx(200.0)


def test_names_are_bounded_and_the_oldest_goes_first() -> None:
    times = QueryTimes(max_names=2)
    for name in ("a", "b", "c"):
        times.record(name, 0.001)
    assert sorted(times.summary()["query"]) == ["b", "c"]


def test_empty_summary_has_its_columns() -> None:
    summary = QueryTimes().summary()
    assert summary.is_empty() and summary.schema == pl.Schema(SUMMARY_SCHEMA)


def test_recording_from_many_threads_loses_nothing() -> None:
    times = QueryTimes(window=10)

    def work() -> None:
        for _ in range(2000):
            times.record("q", 0.001)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert times.summary()["calls"].to_list() == [16000]


def _industrial(store: Store) -> list[tuple[str, str]]:
    glob = store.data_glob("industrial_facilities")
    sql = f"SELECT DISTINCT wdid, app_id FROM read_parquet('{glob}') ORDER BY 1, 2"
    return duckdb.connect().execute(sql).fetchall()


def _pairs(keys: list[tuple[str, str]], score: float) -> list[dict]:
    return [
        {"wdid": w, "app_id": a, "facility_place_id": f"P{i}", "score": score, "components": "{}"}
        for i, (w, a) in enumerate(keys)
    ]


def _decision_store(store: Store, url: str) -> list[tuple[str, str]]:
    """A decision store at `url` with 3 industrial facilities linked, 2 queued, 1 other linked."""
    industrial = _industrial(store)
    rows = _pairs(industrial[:3], 0.97) + _pairs(industrial[3:5], 0.7)
    rows += _pairs([("9 99C999999", "1")], 0.99)  # not an industrial facility: not counted
    pairs = pl.DataFrame(rows).with_columns(smarts_name=pl.lit("x"), esmr_name=pl.lit("y"))
    save_pairs(open_state(url), pairs.select(list(PAIR_SCHEMA)).cast(PAIR_SCHEMA), 0.92, 0.6)
    return industrial


def test_match_rate_from_the_decision_store(
    conn: StoreConnection, tiny_store: Store, tmp_path: Path
) -> None:
    assert match_rate(conn.cursor(), None)["note"] == MATCH_RATE_UNAVAILABLE
    url = f"sqlite:///{tmp_path / 'state.db'}"
    industrial = _decision_store(tiny_store, url)
    figure = match_rate(conn.cursor(), current_links(open_state(url)))
    assert figure["facilities"] == len(industrial)
    assert figure["matched"] == 3 and figure["rate"] == pytest.approx(3 / len(industrial))
    assert figure["queued"] == 2 and figure["queued_facilities"] == 2 and figure["note"] is None


def test_nightly_history_shows_each_step_newest_first(tmp_path: Path) -> None:
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    store = store_at(tmp_path / "store")
    options = RefreshOptions(source=str(tmp_path / "src"), datasets=["violations"])
    plan = NightlyPlan(refresh=options, match=False)
    first, second = run_nightly(store, plan), run_nightly(store, plan)
    history = nightly_history(store)
    assert history["run_id"].unique(maintain_order=True).to_list() == [second.run_id, first.run_id]
    refresh = history.filter(pl.col("step") == "refresh")
    assert refresh["outcome"].to_list() == ["nothing_changed", "updated"]
    assert refresh["code"].to_list() == [4, 0]
    assert nightly_history(store_at(tmp_path / "none")).is_empty()


def test_health_page_shows_nightly_runs_and_query_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    store = store_at(tmp_path / "store")
    options = RefreshOptions(source=str(tmp_path / "src"), datasets=["violations"])
    run_nightly(store, NightlyPlan(refresh=options, match=False))
    at = visit(start(store.root, monkeypatch), "pages/health.py")
    assert not at.error, [e.value for e in at.error]
    assert {"Nightly runs", "Query times"} <= {h.value for h in at.subheader}
    frames = [d.value for d in at.dataframe]
    nightly = next(f for f in frames if "step" in f.columns)
    assert dict(zip(nightly["step"], nightly["outcome"], strict=True))["refresh"] == "updated"
    times = next(f for f in frames if "p95_ms" in f.columns)
    assert len(times) > 0 and (times["calls"] > 0).all()


def test_health_page_shows_the_match_rate_and_backlog(
    tiny_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    industrial = _decision_store(tiny_store, url)
    at = visit(start(tiny_store.root, monkeypatch, STORMWATER_STATE_URL=url), "pages/health.py")
    assert not at.error, [e.value for e in at.error]
    rate = next(m for m in at.metric if m.label == "Linked to an eSMR facility")
    assert rate.value == f"{100 * 3 / len(industrial):.1f} %"
    assert any("2 candidate pairs (2 facilities) await review" in c.value for c in at.caption)
