"""`match` and `links` end to end: the tiny store matched, decisions kept through a refresh."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from data_layer.settings import Settings
from data_layer.store import Store
from matching.contract import DEFAULT_AUTO_THRESHOLD, DEFAULT_REVIEW_THRESHOLD
from matching.decisions import decide, save_pairs
from matching.links import EXPORT_COLUMNS
from matching.state import open_state
from tests.conftest import ESMR_YEARS
from tests.test_decisions import AUTO, FIRST_RUN, REVIEW


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'state' / 'state.db'}"
    monkeypatch.setenv("STORMWATER_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("STORMWATER_STATE_URL", url)
    return url


def test_links_on_an_empty_state_is_a_header(state_env: str):
    result = CliRunner().invoke(cli, ["links"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ",".join(EXPORT_COLUMNS) + "\n"


def test_links_writes_statuses_and_methods(state_env: str, tmp_path: Path):
    engine = open_state(state_env)
    save_pairs(engine, FIRST_RUN, AUTO, REVIEW)
    decide(engine, "W1", "1", "P2", "accept", "alice")
    decide(engine, "W3", "3", "P3", "reject", "bob")
    result = CliRunner().invoke(cli, ["links"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    got = {(r["wdid"], r["facility_place_id"]): (r["method"], r["status"]) for r in rows}
    assert got == {
        ("W1", "P1"): ("auto", "linked"),
        ("W1", "P2"): ("manual", "linked"),
        ("W2", "P2"): ("auto", "queued"),
        ("W3", "P3"): ("manual", "rejected"),
    }
    out = tmp_path / "links.csv"
    result = CliRunner().invoke(cli, ["links", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"4 links written to {out}"
    assert list(csv.DictReader(out.open(encoding="utf-8"))) == rows


def _truth(source: Path) -> set[tuple[str, str, str]]:
    with (source / "_truth" / "facility_matches.csv").open(encoding="utf-8") as fh:
        return {(r["wdid"], r["app_id"], r["facility_place_id"]) for r in csv.DictReader(fh)}


def _links(runner: CliRunner) -> dict[tuple[str, str, str], dict[str, str]]:
    result = runner.invoke(cli, ["links"])
    assert result.exit_code == 0, result.output
    rows = csv.DictReader(io.StringIO(result.stdout))
    return {(r["wdid"], r["app_id"], r["facility_place_id"]): r for r in rows}


@pytest.fixture
def own_store(tiny_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the tiny store (a refresh may be run on it) and its own decision store."""
    root = tmp_path / "store"
    shutil.copytree(tiny_store.root, root)
    monkeypatch.setenv("STORMWATER_STORE", str(root))
    monkeypatch.delenv("STORMWATER_STATE_URL", raising=False)  # default: <store>/_state/state.db
    monkeypatch.delenv("STORMWATER_PG_URL", raising=False)
    monkeypatch.setenv("STORMWATER_ESMR_YEARS", ",".join(map(str, ESMR_YEARS)))
    return root


def test_match_and_links_on_the_tiny_store_meet_the_answer_key(own_store: Path, tiny_source: Path):
    runner = CliRunner()
    result = runner.invoke(cli, ["match"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("match run 1: ")
    assert (own_store / "_state" / "state.db").is_file()
    links = _links(runner)
    truth = _truth(tiny_source)
    auto = {k for k, r in links.items() if r["status"] == "linked"}
    found = {k for k, r in links.items() if r["status"] in ("linked", "queued")}
    # The tiny sample holds only a couple of true pairs: auto-links must all be right and
    # some true pair found; recall is measured on bigger samples (docs/BENCHMARKS.md).
    assert auto and len(auto & truth) / len(auto) >= 0.98
    assert found & truth
    assert {r["method"] for r in links.values()} == {"auto"}
    again = runner.invoke(cli, ["match"])
    assert again.exit_code == 0, again.output
    assert f"0 new, {len(auto):,} auto-linked" in again.stdout
    assert _links(runner) == links


def test_decisions_survive_a_refresh_and_a_rematch(own_store: Path, tiny_source: Path):
    runner = CliRunner()
    # A low review threshold, so the tiny sample has pairs to queue.
    assert runner.invoke(cli, ["match", "--threshold-review", "0.25"]).exit_code == 0
    links = _links(runner)
    auto = sorted(k for k, r in links.items() if r["status"] == "linked")
    # Queued pairs, lowest score first: the first falls out of the default review band.
    queued = sorted(
        (k for k, r in links.items() if r["status"] == "queued"),
        key=lambda k: float(links[k]["score"]),
    )
    assert auto and queued
    assert float(links[queued[0]]["score"]) < DEFAULT_REVIEW_THRESHOLD
    engine = open_state(Settings.from_env().state_url)
    decide(engine, *auto[0], "reject", "alice", note="two plants, one street")
    decide(engine, *queued[0], "accept", "bob")
    engine.dispose()
    refreshed = runner.invoke(cli, ["refresh", "--source", str(tiny_source), "--force"])
    assert refreshed.exit_code == 0, refreshed.output
    # Default thresholds now: the accepted pair falls below review, and keeps its decision.
    rematch = runner.invoke(cli, ["match"])
    assert rematch.exit_code == 0, rematch.output
    assert "2 human decisions kept" in rematch.stdout
    after = _links(runner)
    retired = {k for k in queued[1:] if float(links[k]["score"]) < DEFAULT_REVIEW_THRESHOLD}
    assert not retired & set(after)  # undecided former candidates leave the link set
    assert (after[auto[0]]["method"], after[auto[0]]["status"]) == ("manual", "rejected")
    assert (after[queued[0]]["method"], after[queued[0]]["status"]) == ("manual", "linked")


def test_match_refuses_thresholds_out_of_order(own_store: Path):
    result = CliRunner().invoke(
        cli, ["match", "--threshold-auto", "0.5", "--threshold-review", "0.8"]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: thresholds must satisfy 0 ≤ review (0.8) ≤ auto (0.5) ≤ 1"
    ]


def test_match_help_states_the_contract_defaults():
    result = CliRunner().invoke(cli, ["match", "--help"])
    assert f"default {DEFAULT_AUTO_THRESHOLD:.2f}" in result.output
    assert f"default {DEFAULT_REVIEW_THRESHOLD:.2f}" in result.output
