"""The match review page in a real browser (Playwright and Debian's Chromium).

A visitor who has not signed in finds every decision control disabled, keyboard shortcut
included; a reviewer signs in, accepts a pair with the mouse and rejects another from the
keyboard, both land in the decision store, and the accepted link shows on the facility
page's eSMR tab. Screenshots go to `tests/artifacts/`.

Without /usr/bin/chromium the module is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlencode

import polars as pl
import pytest
from sqlalchemy import Engine

from data_layer.store import Store
from matching.decisions import history, review_queue, save_pairs
from matching.links import links_for_facility
from matching.state import open_state
from tests import test_browser as tb
from tests import test_review_page as rp
from tests.test_browser import App, streamlit_server
from tests.test_review_page import AUTO, HOSTILE_SMARTS, PASSWORDS, REVIEW

#: The browser, its profile and a tab per test, and the pairs and reviewer accounts, as
#: the app's browser test and the review page's AppTest build them.
chromium, browser, context, app = tb.chromium, tb.browser, tb.context, tb.app
pair_frame, reviewers = rp.pair_frame, rp.reviewers

Key = tuple[str, str, str]
KEY = ("wdid", "app_id", "facility_place_id")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, pair_frame: pl.DataFrame) -> Engine:
    url = f"sqlite:///{tmp_path_factory.mktemp('review_state') / 'state.db'}"
    engine = open_state(url)
    save_pairs(engine, pair_frame, AUTO, REVIEW)
    return engine


@pytest.fixture(scope="module")
def server(
    tiny_store: Store,
    tmp_path_factory: pytest.TempPathFactory,
    engine: Engine,
    reviewers: str,
) -> Iterator[str]:
    """The app with the decision store above and two reviewer accounts."""
    with streamlit_server(
        tiny_store.root,
        tmp_path_factory.mktemp("streamlit_review"),
        STORMWATER_STATE_URL=str(engine.url),
        STORMWATER_REVIEWERS=reviewers,
    ) as base:
        yield base


def queued(engine: Engine) -> list[Key]:
    return [tuple(k) for k in review_queue(engine).select(KEY).rows()]


def goto_pair(app: App, key: Key) -> None:
    app.goto("review?" + urlencode({"pair": "|".join(key)}))
    app.assert_no_error()


def shown_pair(app: App) -> Key:
    """The pair on screen, read from its two name blocks."""
    text = " ".join(app.page.locator('[data-testid="stHtml"]').all_inner_texts())
    found = re.search(r"WDID (.+?) · app (\S+).*?place (\S+)", text, re.S)
    assert found, text
    return found.group(1), found.group(2), found.group(3)


def decision_button(app: App, name: str):
    return app.page.get_by_role("button", name=re.compile(f"^{name}"))


def sign_in(app: App, name: str, password: str) -> None:
    sidebar = app.page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("textbox", name="Name").fill(name)
    sidebar.get_by_role("textbox", name="Password").fill(password)
    sidebar.get_by_role("button", name="Sign in").click()
    app.settle()
    assert app.page.locator('[data-testid="stException"]').count() == 0


def test_a_visitor_who_has_not_signed_in_cannot_decide(app: App, engine: Engine) -> None:
    key = queued(engine)[0]
    goto_pair(app, key)
    assert app.title() == "Match review"
    marks = app.page.locator("mark")
    marks.first.wait_for(state="attached")  # the evidence may be drawn after the page settles
    assert marks.count() > 0, "no name differences marked"
    for name in ("Accept", "Reject", "Undo my last decision"):
        assert decision_button(app, name).first.is_disabled(), name
    app.page.locator("h1").first.click()
    app.page.keyboard.press("a")
    app.settle()
    assert history(engine, *key).height == 0
    app.screenshot("review_read_only")


def test_a_reviewer_signs_in_decides_and_sees_the_link(app: App, engine: Engine) -> None:
    first = queued(engine)[0]
    goto_pair(app, first)
    sign_in(app, "bob", "wrong password")
    assert app.page.get_by_text("Wrong name or password").first.is_visible()
    sign_in(app, "alice", PASSWORDS["alice"])
    accept = decision_button(app, "Accept").first
    assert accept.is_enabled()
    app.screenshot("review_signed_in")

    accept.click()
    app.settle()
    app.assert_no_error()
    assert app.page.get_by_text("Accepted:").first.is_visible()
    assert history(engine, *first)["action"].to_list() == ["accept"]
    links = links_for_facility(engine, first[0], first[1])
    assert links.filter(facility_place_id=first[2])["status"].to_list() == ["linked"]

    second = shown_pair(app)  # the next pair in the queue
    assert second != first and second in queued(engine)
    app.page.locator("h1").first.click()  # focus out of any field, then the key
    app.page.keyboard.press("x")
    app.settle()
    app.assert_no_error()
    assert history(engine, *second)["action"].to_list() == ["reject"]

    app.goto("facilities?" + urlencode({"wdid": first[0], "app_id": first[1], "tab": "eSMR link"}))
    app.assert_no_error()
    panel = app.page.locator('[data-testid="stTabPanel"]:visible')
    assert panel.get_by_text(f"place {first[2]}").first.is_visible()
    assert panel.get_by_text("confirmed by alice").first.is_visible()
    app.screenshot("facility_esmr_link")


def test_hostile_names_show_as_typed(app: App, pair_frame: pl.DataFrame) -> None:
    row = pair_frame.filter(pl.col("smarts_name") == HOSTILE_SMARTS).row(0, named=True)
    goto_pair(app, (row["wdid"], row["app_id"], row["facility_place_id"]))
    names = app.page.locator('[data-testid="stHtml"]').first
    assert "<script>alert('s')</script>" in names.inner_text()
    assert app.page.locator('[data-testid="stMain"] script').count() == 0
    assert app.page.locator('[data-testid="stMain"] img[src="x"]').count() == 0
