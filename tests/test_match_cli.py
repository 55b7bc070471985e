"""The `links` command: the current link set as CSV, from the decision store the settings name."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from matching.decisions import decide, save_pairs
from matching.links import EXPORT_COLUMNS
from matching.state import open_state
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
