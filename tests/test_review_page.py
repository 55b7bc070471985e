"""The match review page and the facility page's eSMR tab, driven headless with AppTest.

Each test has its own SQLite decision store (STORMWATER_STATE_URL) holding pairs built
from the tiny store's real facilities and eSMR places, saved with `save_pairs`; reviewers
sign in with scrypt hashes from STORMWATER_REVIEWERS. Everyone can read the page; only a
signed-in reviewer's accept, reject, undo and bulk accept land in the store.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs

import polars as pl
import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from data_layer.connection import open_store
from data_layer.store import Store
from matching.auth import hash_password
from matching.contract import PAIR_SCHEMA
from matching.decisions import (
    bulk_precision,
    check_sample,
    decide,
    history,
    review_queue,
    save_pairs,
)
from matching.links import links_for_facility
from matching.state import open_state
from tests.test_app import start, visit

PAGE = "pages/review.py"
AUTO, REVIEW = 0.92, 0.60
PASSWORDS = {"alice": "correct horse battery", "bob": "staple tuna 42"}
HOSTILE_SMARTS = "<script>alert('s')</script> **Acme** <img src=x onerror=alert(1)> & Co"
HOSTILE_ESMR = '<b>Acme</b> [click](javascript:alert(2)) $x$ :red[WWTP] "Co"'
#: Scores of the generated pairs, in order: one auto link, the rest in the review band.
SCORES = (0.95, 0.88, 0.81, 0.74, 0.66, 0.62)
DECISION_KEYS = ("accept", "reject", "undo", "bulk_accept")


@pytest.fixture(scope="module")
def reviewers() -> str:
    return ",".join(f"{name}:{hash_password(pw)}" for name, pw in PASSWORDS.items())


@pytest.fixture(scope="module")
def pair_frame(tiny_store: Store) -> pl.DataFrame:
    """Candidate pairs over real facilities (busiest first) and real eSMR places, plus one
    pair whose names are hostile markup."""
    conn = open_store(tiny_store.root, "1GB")
    try:
        cur = conn.cursor()
        facilities = cur.sql(
            "select wdid, app_id, display_name from facility_summary"
            " order by violation_count desc, wdid, app_id limit 7"
        ).fetchall()
        places = cur.sql(
            "select facility_place_id, any_value(facility_name) from stg_esmr__samples"
            " group by 1 order by 1"
        ).fetchall()
    finally:
        conn.close()
    rows = []
    for i, ((wdid, app_id, name), score) in enumerate(zip(facilities, SCORES, strict=False)):
        place, place_name = places[i % len(places)]
        rows.append((wdid, app_id, place, score, name, place_name))
    wdid, app_id, _ = facilities[6]
    rows.append((wdid, app_id, places[0][0], 0.77, HOSTILE_SMARTS, HOSTILE_ESMR))
    parts = {
        "name": {"similarity": 0.8, "weight": 0.6, "contribution": 0.48, "detail": "tokens"},
        "distance": {"similarity": 1.0, "weight": 0.4, "contribution": 0.4, "detail": "0.2 km"},
    }
    return pl.DataFrame(
        [(w, a, p, s, json.dumps(parts), n, e) for w, a, p, s, n, e in rows],
        schema=PAIR_SCHEMA,
        orient="row",
    )


@pytest.fixture
def state(tmp_path: Path, pair_frame: pl.DataFrame) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = open_state(url)
    save_pairs(engine, pair_frame, AUTO, REVIEW)
    return url, engine


@pytest.fixture
def app(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch, state: tuple[str, Engine], reviewers: str
) -> AppTest:
    return start(
        tiny_store.root, monkeypatch, STORMWATER_STATE_URL=state[0], STORMWATER_REVIEWERS=reviewers
    )


def key_of(row: dict) -> tuple[str, str, str]:
    return (row["wdid"], row["app_id"], row["facility_place_id"])


def queued(engine: Engine) -> list[tuple[str, str, str]]:
    return [key_of(r) for r in review_queue(engine).iter_rows(named=True)]


def open_pair(at: AppTest, key: tuple[str, str, str], **params: str) -> AppTest:
    return visit(at, PAGE, pair="|".join(key), **params)


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def enabled(at: AppTest, key: str) -> bool:
    return not at.button(key=key).disabled


def markdown_texts(at: AppTest) -> list[str]:
    """Every element whose text Streamlit renders as markdown."""
    kinds = ("markdown", "caption", "title", "subheader", "success", "warning", "info", "error")
    return [e.value for kind in kinds for e in at.get(kind)]


def test_before_any_match_run_the_page_says_how_to_run_it(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = start(tiny_store.root, monkeypatch, STORMWATER_STATE_URL=f"sqlite:///{tmp_path}/s.db")
    visit(at, PAGE)
    assert any("python cli.py match" in i.value for i in at.info)
    assert not at.error


def test_an_unauthenticated_visitor_reads_everything_and_decides_nothing(
    app: AppTest, state: tuple[str, Engine]
) -> None:
    engine = state[1]
    first = queued(engine)[0]
    open_pair(app, first)
    assert app.title[0].value == "Match review"
    assert app.dataframe[0].value.shape[0] == len(queued(engine))
    assert app.get("html"), "no side-by-side names"
    for key in DECISION_KEYS:
        assert not enabled(app, key), key
    assert app.text_input(key=f"note|{'|'.join(first)}").disabled
    assert any("read-only" in c.value for c in app.caption)
    assert history(engine, *first).height == 0


def test_a_wrong_password_is_refused(app: AppTest) -> None:
    visit(app, PAGE)
    sign_in(app, "alice", "not her password")
    assert any("Wrong name or password" in e.value for e in app.error)
    assert not enabled(app, "accept")
    sign_in(app, "mallory", PASSWORDS["alice"])
    assert any("Wrong name or password" in e.value for e in app.error)
    assert not enabled(app, "accept")


def test_a_reviewer_accepts_rejects_and_undoes_and_each_lands_in_the_store(
    app: AppTest, state: tuple[str, Engine]
) -> None:
    engine = state[1]
    first, second = queued(engine)[:2]
    open_pair(app, first)
    sign_in(app, "alice", PASSWORDS["alice"])
    assert all(enabled(app, key) for key in ("accept", "reject", "undo"))
    app.text_input(key=f"note|{'|'.join(first)}").input("same plant, renamed")
    app.button(key="accept").click().run()
    assert any(s.value.startswith("Accepted") for s in app.success)
    accepted = history(engine, *first).row(-1, named=True)
    assert (accepted["action"], accepted["reviewer"], accepted["note"]) == (
        "accept",
        "alice",
        "same plant, renamed",
    )
    assert accepted["score_shown"] == pytest.approx(
        review_queue(engine, include_decided=True).filter(
            wdid=first[0], app_id=first[1], facility_place_id=first[2]
        )["score"][0]
    )
    links = links_for_facility(engine, first[0], first[1])
    assert links.filter(facility_place_id=first[2])["status"].to_list() == ["linked"]
    assert first not in queued(engine)

    open_pair(app, second)
    app.button(key="reject").click().run()
    assert history(engine, *second)["action"].to_list() == ["reject"]
    app.button(key="undo").click().run()
    assert history(engine, *second)["action"].to_list() == ["reject", "undo"]
    assert second in queued(engine)
    assert app.query_params["pair"] == "|".join(second)


def test_a_decision_someone_made_first_is_refused_with_their_name(
    app: AppTest, state: tuple[str, Engine]
) -> None:
    engine = state[1]
    key = queued(engine)[0]
    open_pair(app, key)
    sign_in(app, "alice", PASSWORDS["alice"])
    decide(engine, *key, "accept", "bob")  # while alice looks at the pair
    app.button(key="reject").click().run()
    assert not app.exception
    warning = " ".join(w.value for w in app.warning)
    assert "Not saved" in warning and "bob" in warning and "first" in warning
    assert history(engine, *key)["reviewer"].to_list() == ["bob"]


def test_hostile_names_render_as_text(app: AppTest, state: tuple[str, Engine]) -> None:
    engine = state[1]
    hostile = next(
        key_of(r)
        for r in review_queue(engine).iter_rows(named=True)
        if r["smarts_name"] == HOSTILE_SMARTS
    )
    open_pair(app, hostile)
    sign_in(app, "alice", PASSWORDS["alice"])
    bodies = " ".join(h.proto.body for h in app.get("html"))
    assert "&lt;script&gt;" in bodies and "&lt;b&gt;Acme&lt;/b&gt;" in bodies
    for tag in ("<script", "<img", "<b>", "javascript:alert(2)</a"):
        assert tag not in bodies, tag
    app.button(key="accept").click().run()
    texts = markdown_texts(app)
    assert any("Acme" in t for t in texts), "the decision message names the pair"
    for text in texts:
        assert not re.search(r"(?<!\\)<[a-zA-Z/!]", text), text
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", text), text


def test_the_queue_says_when_it_is_empty(app: AppTest, state: tuple[str, Engine]) -> None:
    engine = state[1]
    for key in queued(engine):
        decide(engine, *key, "reject", "bob")
    visit(app, PAGE)
    assert any("queue is empty" in s.value for s in app.success)
    assert app.metric[0].value == "0"


def test_filters_live_in_the_url_and_narrow_the_queue(
    app: AppTest, state: tuple[str, Engine]
) -> None:
    everything = len(queued(state[1]))
    visit(app, PAGE, band="0.6-0.7")
    assert app.selectbox(key="band").value == "0.6-0.7"
    in_band = app.dataframe[0].value
    assert 0 < len(in_band) < everything
    assert all(0.6 <= s < 0.7 for s in in_band["score"])
    region = app.selectbox(key="region").options[1]
    app.selectbox(key="region").set_value(region).run()
    assert app.query_params["region"] == region and app.query_params["band"] == "0.6-0.7"
    narrowed = app.dataframe[0].value
    assert set(narrowed["region"]) <= {region}
    assert len(narrowed) == (in_band["region"] == region).sum()
    app.selectbox(key="show").set_value("linked").run()
    assert app.query_params["show"] == "linked"
    visit(app, "pages/home.py")
    visit(app, PAGE, show="linked")
    assert app.selectbox(key="show").value == "linked"
    assert set(app.dataframe[0].value["status"]) == {"linked"}


def test_blind_mode_hides_the_score_and_records_none_shown(
    app: AppTest, state: tuple[str, Engine]
) -> None:
    engine = state[1]
    key = queued(engine)[0]
    open_pair(app, key, blind="1")
    sign_in(app, "alice", PASSWORDS["alice"])
    assert app.dataframe[0].value["score"].isna().all()
    assert not app.get("plotly_chart"), "the score's parts are drawn in blind mode"
    assert any("Blind mode" in c.value for c in app.caption)
    assert not _has(app, "bulk_accept"), "bulk accept by score offered in blind mode"
    app.button(key="accept").click().run()
    assert history(engine, *key)["score_shown"].to_list() == [None]


def _has(at: AppTest, key: str) -> bool:
    return any(b.key == key for b in at.button)


def test_bulk_accept_sets_a_sample_aside_whose_check_estimates_precision(
    app: AppTest, state: tuple[str, Engine]
) -> None:
    engine = state[1]
    visit(app, PAGE)
    sign_in(app, "alice", PASSWORDS["alice"])
    app.number_input(key="bulk_score").set_value(0.7).run()
    app.number_input(key="bulk_share").set_value(0.5).run()
    above = [k for k in queued(engine) if _score(engine, k) >= 0.7]
    assert app.button(key="bulk_accept").label == f"Accept {len(above)} pairs"
    app.button(key="bulk_accept").click().run()
    assert not set(above) & set(queued(engine))
    sample = check_sample(engine)
    assert sample.height == -(-len(above) // 2)
    first = key_of(sample.row(0, named=True))
    app.button(key=f"check|True|{'|'.join(first)}").click().run()
    assert bulk_precision(engine).checked == 1
    assert next(m.value for m in app.metric if m.label.startswith("Precision")) == "100.0 %"


def _score(engine: Engine, key: tuple[str, str, str]) -> float:
    frame = review_queue(engine, include_decided=True)
    return frame.filter(wdid=key[0], app_id=key[1], facility_place_id=key[2])["score"][0]


def test_progress_counts_per_reviewer(app: AppTest, state: tuple[str, Engine]) -> None:
    engine = state[1]
    first, second, third = queued(engine)[:3]
    decide(engine, *first, "accept", "alice")
    decide(engine, *second, "reject", "alice")
    decide(engine, *third, "accept", "bob")
    visit(app, PAGE)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Reviewed"] == "3" and metrics["Awaiting review"] == str(len(queued(engine)))
    per = next(d.value for d in app.dataframe if "reviewer" in d.value.columns)
    assert dict(zip(per["reviewer"], per["reviewed"], strict=True)) == {"alice": 2, "bob": 1}


def test_single_sign_on_user_decides_when_auth_is_configured(
    app: AppTest, state: tuple[str, Engine]
) -> None:
    engine = state[1]
    key = queued(engine)[0]
    app.secrets["auth"] = {"redirect_uri": "http://localhost/oauth2callback"}
    app.secrets["reviewer_emails"] = ["carol@example.org"]
    app.user = {"is_logged_in": True, "email": "dave@example.org"}
    open_pair(app, key)
    assert not enabled(app, "accept"), "a signed-on user outside reviewer_emails decided"
    app.user = {"is_logged_in": True, "email": "carol@example.org"}
    open_pair(app, key)
    app.button(key="accept").click().run()
    assert history(engine, *key)["reviewer"].to_list() == ["carol@example.org"]


def test_facility_tab_charts_linked_esmr_places_and_lists_candidates(
    app: AppTest, state: tuple[str, Engine], pair_frame: pl.DataFrame
) -> None:
    auto = pair_frame.filter(pl.col("score") >= AUTO).row(0, named=True)
    visit(app, "pages/facilities.py", wdid=auto["wdid"], app_id=auto["app_id"], tab="eSMR link")
    assert not app.error
    assert any(auto["facility_place_id"] in s.value for s in app.subheader)
    assert app.get("plotly_chart"), "no eSMR chart for the linked place"
    assert any("not compared with the stormwater NALs" in c.value for c in app.caption)

    queued_pair = pair_frame.filter(pl.col("score").is_between(REVIEW, AUTO - 0.001)).row(
        0, named=True
    )
    visit(
        app,
        "pages/facilities.py",
        wdid=queued_pair["wdid"],
        app_id=queued_pair["app_id"],
        tab="eSMR link",
    )
    assert any("No eSMR facility is linked" in i.value for i in app.info)
    links = [link.proto for link in app.get("page_link") if link.proto.page == "review"]
    pair = "|".join(key_of(queued_pair))
    assert any(parse_qs(link.query_string)["pair"] == [pair] for link in links), links


def test_facility_without_candidates_says_so(
    app: AppTest, tiny_store: Store, pair_frame: pl.DataFrame
) -> None:
    conn = open_store(tiny_store.root, "1GB")
    try:
        wdid, app_id = (
            conn.cursor()
            .sql(
                "select wdid, app_id from int_facilities_unified"
                " where wdid not in (select unnest(?::varchar[])) limit 1",
                params=[pair_frame["wdid"].to_list()],
            )
            .fetchall()[0]
        )
    finally:
        conn.close()
    visit(app, "pages/facilities.py", wdid=wdid, app_id=app_id, tab="eSMR link")
    assert any("No eSMR facility is linked" in i.value for i in app.info)
    assert not app.get("plotly_chart")


@pytest.mark.parametrize("pair", ["nope", "a|b", "<b>x</b>|'; DROP TABLE decisions; --|1", "||"])
def test_a_pair_in_the_address_that_is_not_a_candidate_says_so(app: AppTest, pair: str) -> None:
    visit(app, PAGE, pair=pair)
    assert any("not among the candidates" in w.value for w in app.warning)
    assert app.get("html"), "no pair shown instead"
