"""The app in a real browser: `streamlit run app.py` on the tiny store, driven with
Playwright through Debian's Chromium.

Every page renders with its main content and no exception on screen (a full-page
screenshot of each goes to `tests/artifacts/`); a sidebar filter chosen in the UI changes
the count and lands in the URL, and a reload of that URL shows the same view; an Open
button in a table leads to the facility page, whose compliance timeline draws; the map
draws its points.

Without /usr/bin/chromium the module is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from data_layer.connection import open_store
from data_layer.settings import FEATURE_FLAGS
from data_layer.store import Store
from data_layer.violations import violations

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 900}
SERVER_START_TIMEOUT = 60.0
SETTLE_TIMEOUT = 30.0
#: How long the page must stay quiet (script idle, no DOM change, no request) to count as drawn.
QUIET_MS = 500
#: Streamlit's table rows (and header) are this tall; the Open column is first and narrow.
GRID_ROW_HEIGHT = 35
OPEN_CELL_X = 30
#: Tallest screenshot taken, in CSS pixels.
MAX_SHOT_HEIGHT = 8000

#: Page file stem (URL path) -> (title on the page, what its main content must show).
PAGES: dict[str, tuple[str, list[tuple[str, str | None]]]] = {
    "home": ("Stormwater Watch · SMARTS", [('[data-testid="stDataFrame"]', None)]),
    "violations": (
        "Violations",
        [
            ('[data-testid="stMetric"]', "Violations matching"),
            ('[data-testid="stDataFrame"]', None),
        ],
    ),
    "enforcement": (
        "Enforcement actions",
        [('[data-testid="stMetric"]', "Actions matching"), ('[data-testid="stDataFrame"]', None)],
    ),
    "inspections": (
        "Inspections",
        [
            ('[data-testid="stMetric"]', "Inspections matching"),
            ('[data-testid="stDataFrame"]', None),
        ],
    ),
    "facilities": ("Facilities", [('[data-testid="stTextInput"]', "Search by name")]),
    "map": (
        "Facility map",
        [('[data-testid="stMetric"]', "On the map"), ('[data-testid="stDeckGlJsonChart"]', None)],
    ),
    "monitoring": (
        "Monitoring results, statewide",
        [
            ('[data-testid="stMetric"]', "Facilities sampled"),
            ('[data-testid="stPlotlyChart"]', None),
        ],
    ),
    "gaps": (
        "Gap finder",
        [('[data-testid="stMetric"]', "Facility-years"), ('[data-testid="stDataFrame"]', None)],
    ),
    "health": ("Data health", [('[data-testid="stDataFrame"]', None)]),
}

#: True once the page has been quiet for `quiet` ms: the script is not running, nothing is
#: stale, no status widget, and the DOM has not changed (a MutationObserver resets the clock).
QUIET_JS = """
(quiet) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const busy = !app
    || app.getAttribute('data-test-script-state') !== 'notRunning'
    || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
    || document.querySelector('[data-testid="stStatusWidget"], [data-stale="true"]');
  if (!window.__quiet) {
    window.__quiet = {since: performance.now()};
    new MutationObserver(() => { window.__quiet.since = performance.now(); })
      .observe(document.body, {subtree: true, childList: true, attributes: true,
                               characterData: true});
  }
  if (busy) { window.__quiet.since = performance.now(); return false; }
  return performance.now() - window.__quiet.since >= quiet;
}
"""

NEXT_FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def chromium() -> Path:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser test")
    pytest.skip(reason)


@contextlib.contextmanager
def streamlit_server(store_root: Path, log_dir: Path, **env: str) -> Iterator[str]:
    """`streamlit run app.py` on a free port over `store_root` (all flags on, plus `env`);
    yields its base URL and stops it afterwards."""
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if k not in FEATURE_FLAGS}
    environ.update(
        STORMWATER_STORE=str(store_root),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
        **env,
    )
    log_path = log_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _healthy(f"{base}/_stcore/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"streamlit did not come up on {base}:\n{tail}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tiny_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over the tiny store; yields its base URL."""
    with streamlit_server(tiny_store.root, tmp_path_factory.mktemp("streamlit")) as base:
        yield base


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


class App:
    """One browser tab on the app, with waits that know when Streamlit has finished."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.pending: set[Request] = set()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)
        page.set_default_timeout(SETTLE_TIMEOUT * 1000)

    def _started(self, request: Request) -> None:
        if request.url.startswith(self.base):  # the app's own code and data, not map tiles
            self.pending.add(request)

    def _ended(self, request: Request) -> None:
        self.pending.discard(request)

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base}/{path}")
        self.settle()

    def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until the script run (and a legacy-mode rerun through app.py) is over, the
        DOM has stopped changing and lazily loaded components have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.page.url} still busy after {timeout:.0f} s")
            self.page.wait_for_function(QUIET_JS, arg=QUIET_MS, polling=100, timeout=left * 1000)
            if not self.pending:
                return
            self.page.wait_for_timeout(100)  # a component's code is still loading

    def title(self) -> str:
        return self.page.locator("h1").first.inner_text().strip()

    def params(self) -> dict[str, list[str]]:
        return parse_qs(urlparse(self.page.url).query)

    def metric(self, label: str) -> int:
        box = self.page.locator('[data-testid="stMetric"]').filter(has_text=label).first
        text = box.locator('[data-testid="stMetricValue"]').inner_text()
        return int(text.replace(",", "").strip())

    def assert_no_error(self) -> None:
        page = self.page
        assert page.locator('[data-testid="stException"]').count() == 0, page.url
        errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
        assert not errors, (page.url, errors)
        assert "Traceback" not in page.locator("body").inner_text(), page.url

    def screenshot(self, name: str) -> Path:
        """The whole page: the viewport grows to the scrolled content, then shrinks back."""
        page = self.page
        height = page.evaluate(
            """() => Math.max(...['stMain', 'stSidebarContent'].map(id =>
                 document.querySelector(`[data-testid="${id}"]`)?.scrollHeight || 0))"""
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.set_viewport_size(
            {"width": VIEWPORT["width"], "height": min(max(height, 900), MAX_SHOT_HEIGHT)}
        )
        try:
            page.evaluate(NEXT_FRAME)  # let the resize reach the layout before waiting
            self.settle()
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(VIEWPORT)
        return path


@pytest.fixture(scope="module")
def context(browser: Browser) -> Iterator[BrowserContext]:
    """One browser profile for the module, so the app's code is fetched once."""
    instance = browser.new_context(viewport=VIEWPORT)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def app(context: BrowserContext, server: str) -> Iterator[App]:
    """A new tab, hence a new Streamlit session, for each test."""
    page = context.new_page()
    try:
        yield App(page, server)
    finally:
        page.close()


@pytest.mark.parametrize("stem", list(PAGES))
def test_every_page_renders_in_the_browser(app: App, stem: str) -> None:
    title, content = PAGES[stem]
    app.goto("" if stem == "home" else stem)
    app.assert_no_error()
    assert app.title() == title
    for selector, text in content:
        found = app.page.locator(selector)
        if text:
            found = found.filter(has_text=text)
        with contextlib.suppress(PlaywrightTimeout):  # drawn late: the assertion below says so
            found.first.wait_for(state="visible")
        assert found.first.is_visible(), (stem, selector, text)
    path = app.screenshot(stem)
    assert path.stat().st_size > 10_000, f"{path} looks blank"


def test_a_sidebar_filter_changes_the_count_and_the_url(app: App, tiny_store: Store) -> None:
    app.goto("violations")
    everything = app.metric("Violations matching")
    select = app.page.locator('[data-testid="stMultiSelect"]').filter(has_text="Violation type")
    select.locator("input").click()
    select.locator("input").press("ArrowDown")  # opens the list (a click alone may not)
    options = app.page.locator('[role="option"]').filter(has_not_text="Select all")
    kind = options.first.inner_text().strip()
    options.first.click()
    app.page.keyboard.press("Escape")
    app.page.wait_for_url(re.compile(r"[?&]type="))
    app.settle()
    app.assert_no_error()

    assert app.params()["type"] == [kind]
    filtered = app.metric("Violations matching")
    conn = open_store(tiny_store.root, "1GB")
    try:
        expected = violations(conn.cursor(), violation_type=[kind], limit=1).total
    finally:
        conn.close()
    assert filtered == expected < everything

    app.page.reload()  # the URL alone reproduces the view
    app.settle()
    assert app.params()["type"] == [kind]
    assert app.metric("Violations matching") == filtered
    assert select.get_by_text(kind).first.is_visible()


def test_an_open_button_leads_to_the_facility_and_its_timeline(app: App) -> None:
    app.goto("violations")
    grid = app.page.locator('[data-testid="stDataFrame"]').first
    headers = [h.strip() for h in grid.locator('[role="columnheader"]').all_inner_texts()]
    first_row = grid.locator('[role="row"]').nth(1).locator('[role="gridcell"]')
    cells = [c.strip() for c in first_row.all_inner_texts()]
    assert cells[0] == "Open", cells
    wdid, facility = cells[headers.index("WDID")], cells[headers.index("Facility")]

    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # The grid is drawn on a canvas: click where the first row's Open cell is.
    app.page.mouse.click(box["x"] + OPEN_CELL_X, box["y"] + 1.5 * GRID_ROW_HEIGHT)
    app.page.wait_for_url(re.compile(r"/facilities\?"))
    app.settle()
    app.assert_no_error()
    assert app.params()["wdid"] == [wdid]
    assert app.params().get("app_id"), app.page.url
    assert app.title() == facility
    assert app.page.get_by_text(f"WDID {wdid} · application").first.is_visible()

    app.page.get_by_role("tab", name="Compliance timeline").click()
    app.page.wait_for_url(re.compile(r"[?&]tab=Compliance"))
    app.settle()
    app.assert_no_error()
    panel = app.page.locator('[data-testid="stTabPanel"]:visible')
    assert panel.locator('[data-testid="stPlotlyChart"]').first.is_visible()
    assert panel.locator(".js-plotly-plot .scatterlayer .point").count() > 0
    assert panel.locator('[data-testid="stDataFrame"]').first.is_visible()
    app.screenshot("facility_timeline")


def _coloured_pixels(png: bytes) -> int:
    """Pixels with a clear hue: the map's points (the empty map, offline, is grey)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if max(r, g, b) - min(r, g, b) > 60)


def test_the_map_draws_its_points(app: App) -> None:
    app.goto("map")
    app.assert_no_error()
    assert app.metric("On the map") > 0
    chart = app.page.locator('[data-testid="stDeckGlJsonChart"]').first
    chart.locator("canvas").first.wait_for(state="visible")  # WebGL starts after the run
    chart.scroll_into_view_if_needed()
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (coloured := _coloured_pixels(chart.screenshot())) <= 50:
        assert time.monotonic() < deadline, f"no facility points drawn ({coloured} pixels)"
        app.page.wait_for_timeout(250)
