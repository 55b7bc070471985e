"""The Streamlit app, driven headless with AppTest on the tiny generated store.

Every page renders without an exception; filters change what is shown and travel in the
URL; a facility page opens from its query parameters; feature flags hide pages; a missing
store gives one readable line.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data_layer.connection import StoreConnection, open_store
from data_layer.exceedances import facility_year_gaps
from data_layer.settings import FEATURE_FLAGS
from data_layer.store import Store, store_at
from data_layer.timeline import facility_timeline
from data_layer.violations import violations
from loaders.refresh import RefreshOptions, refresh
from pages._shared import plain

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = (
    "pages/home.py",
    "pages/violations.py",
    "pages/enforcement.py",
    "pages/inspections.py",
    "pages/facilities.py",
    "pages/map.py",
    "pages/monitoring.py",
    "pages/gaps.py",
    "pages/health.py",
)


def start(store_root: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> AppTest:
    """The app on `store_root` with all flags on unless `env` says otherwise; first run done."""
    monkeypatch.setenv("STORMWATER_STORE", str(store_root))
    for flag in FEATURE_FLAGS:
        monkeypatch.delenv(flag, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def visit(at: AppTest, page: str, **params: str | list[str]) -> AppTest:
    at.query_params.clear()
    at.query_params.update(params)
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> int:
    value = next(m.value for m in at.metric if m.label == label)
    return int(value.replace(",", ""))


@pytest.fixture(scope="module")
def conn(tiny_store: Store) -> Iterator[StoreConnection]:
    connection = open_store(tiny_store.root, "1GB")
    yield connection
    connection.close()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_error(
    page: str, tiny_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = visit(start(tiny_store.root, monkeypatch), page)
    assert not at.error, [e.value for e in at.error]
    assert at.title, f"{page} drew no title"


def test_violation_filters_change_the_count_and_live_in_the_url(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch, conn: StoreConnection
) -> None:
    at = visit(start(tiny_store.root, monkeypatch), "pages/violations.py")
    everything = metric(at, "Violations matching")
    kind = at.multiselect(key="type").options[0]
    at.multiselect(key="type").set_value([kind]).run()
    assert not at.exception
    filtered = metric(at, "Violations matching")
    expected = violations(conn.cursor(), violation_type=[kind], limit=1).total
    assert filtered == expected < everything
    assert at.query_params["type"] == kind
    at.multiselect(key="type").set_value([]).run()
    assert metric(at, "Violations matching") == everything
    assert "type" not in at.query_params


def test_a_shared_url_reproduces_the_filtered_view(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch, conn: StoreConnection
) -> None:
    at = start(tiny_store.root, monkeypatch)
    visit(at, "pages/violations.py", region=["2", "4"], serious="yes")
    expected = violations(conn.cursor(), region=["2", "4"], serious=True, limit=1).total
    assert metric(at, "Violations matching") == expected
    assert at.multiselect(key="region").value == ["2", "4"]
    assert at.selectbox(key="serious").value == "yes"


def test_non_detect_rule_follows_the_analyst_across_screening_pages(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = visit(start(tiny_store.root, monkeypatch), "pages/gaps.py")
    at.selectbox(key="nd").set_value("half_rl").run()
    assert at.query_params["nd"] == "half_rl"
    assert any("½ reporting limit" in c.value for c in at.caption)
    visit(at, "pages/violations.py")
    assert "nd" not in at.query_params
    visit(at, "pages/map.py")
    assert at.selectbox(key="nd").value == "half_rl"
    assert at.query_params["nd"] == "half_rl"


def test_inspection_and_enforcement_filters_change_the_results(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = visit(start(tiny_store.root, monkeypatch), "pages/inspections.py")
    before = metric(at, "Inspections matching")
    at.selectbox(key="found").set_value("yes").run()
    assert 0 < metric(at, "Inspections matching") < before
    assert at.query_params["found"] == "yes"

    visit(at, "pages/enforcement.py")
    before = metric(at, "Actions matching")
    status = at.multiselect(key="status").options[0]
    at.multiselect(key="status").set_value([status]).run()
    assert metric(at, "Actions matching") < before
    assert at.query_params["status"] == status


def test_facility_page_opens_from_query_params_with_its_timeline(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch, conn: StoreConnection
) -> None:
    gap = facility_year_gaps(conn.cursor(), limit=1).rows.row(0, named=True)
    wdid, app_id = gap["wdid"], gap["app_id"]
    events = facility_timeline(conn.cursor(), wdid, app_id)
    at = start(tiny_store.root, monkeypatch)
    visit(at, "pages/facilities.py", wdid=wdid, app_id=app_id, tab="Compliance timeline")
    assert at.title[0].value == plain(gap["facility_name"])
    assert at.get("plotly_chart"), "no timeline chart"
    table = at.dataframe[0].value
    assert len(table) == events.height
    assert set(table["kind"]) == set(events["kind"])
    assert any("computed screening" in c.value for c in at.caption)
    assert {b.label for b in at.download_button} == {"CSV", "Parquet"}


def test_facility_tabs_render_and_an_unknown_facility_says_so(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch, conn: StoreConnection
) -> None:
    row = violations(conn.cursor(), limit=1).rows.row(0, named=True)
    at = start(tiny_store.root, monkeypatch)
    for tab in ("Overview", "ERA levels", "Monitoring", "eSMR link", "Records"):
        visit(at, "pages/facilities.py", wdid=row["wdid"], app_id=row["app_id"], tab=tab)
        assert not at.error, (tab, [e.value for e in at.error])
    visit(at, "pages/facilities.py", wdid="9 99X000000", app_id="0")
    assert any("No facility with WDID 9 99X000000" in w.value for w in at.warning)


HOSTILE_NAME = "<b>*Acme*</b> [click](javascript:alert(1)) `x` # _y_"


def test_a_hostile_facility_name_shows_as_typed(
    tiny_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    shutil.copytree(tiny_source, source)
    facilities = pl.read_csv(source / "industrial_facilities.csv", infer_schema=False)
    facilities = facilities.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(HOSTILE_NAME))
        .otherwise(pl.col("FACILITY_NAME"))
        .alias("FACILITY_NAME")
    )
    facilities.write_csv(source / "industrial_facilities.csv")
    store = tmp_path / "store"
    options = RefreshOptions(source=str(source), esmr_years=(2023, 2024), memory_limit="1GB")
    assert all(o.outcome == "published" for o in refresh(store_at(store), options))
    wdid, app_id = facilities.row(0, named=True)["WDID"], facilities.row(0, named=True)["APP_ID"]
    at = start(store, monkeypatch)
    visit(at, "pages/facilities.py", wdid=wdid.strip(), app_id=app_id.strip())
    title = at.title[0].value
    assert title == plain(HOSTILE_NAME)
    for markup in ("<b>", "*Acme*", "](javascript", "`x`"):
        assert markup not in title, markup


def test_facility_search_finds_by_wdid(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch, conn: StoreConnection
) -> None:
    wdid = violations(conn.cursor(), limit=1).rows["wdid"][0]
    at = start(tiny_store.root, monkeypatch)
    visit(at, "pages/facilities.py", q=wdid)
    found = at.dataframe[0].value
    assert found["wdid"][0] == wdid


def test_turned_off_flags_hide_pages_and_links(
    tiny_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = start(tiny_store.root, monkeypatch, ENABLE_INSPECTIONS="0", ENABLE_FACILITY_MATCHING="0")
    labels = " ".join(link.value for link in at.page_link)
    assert "Inspections" not in labels and "Violations" in labels
    with pytest.raises(ValueError):
        at.switch_page("pages/inspections.py")
    visit(at, "pages/violations.py")
    row = at.dataframe[0].value.iloc[0]
    visit(at, "pages/facilities.py", wdid=row["wdid"], app_id="x")
    tabs = [t.label for t in at.tabs]
    assert "eSMR link" not in tabs


def test_missing_store_gives_one_readable_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = start(tmp_path / "empty", monkeypatch)
    assert any("make run" in i.value for i in at.info)
    assert not at.error
    visit(at, "pages/violations.py")
    assert any("make run" in i.value for i in at.info)
    assert not at.dataframe
    visit(at, "pages/health.py")
    assert not at.error


def test_exports_carry_evidence_columns(tiny_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    at = visit(start(tiny_store.root, monkeypatch), "pages/gaps.py")
    assert {b.label for b in at.download_button} == {"CSV", "Parquet"}

    def script() -> None:
        import json

        import polars as pl
        import streamlit as st

        from data_layer.settings import Settings
        from pages import _shared as sh
        from pages._exports import with_evidence

        st.session_state[sh.K.SETTINGS] = Settings.from_env()
        st.session_state[sh.K.IN_FRAME] = True
        st.query_params["year"] = "2022"
        frame = pl.DataFrame({"violation_id": ["11", "12"]})
        out = with_evidence(frame, "violations", "violation_id", ("exclude", "NAL v1"))
        st.code(json.dumps(out.row(0, named=True), default=str))

    at = AppTest.from_function(script, default_timeout=30)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    row = json.loads(at.code[0].value)
    assert row["evidence_source_dataset"] == "violations"
    assert row["evidence_source_id"] == "11"
    assert row["evidence_dataset_version"] == tiny_store.current_version("violations")
    assert row["evidence_source_date"]
    assert row["evidence_basis"] == "computed screening"
    assert (row["evidence_nd_rule"], row["evidence_nal_table"]) == ("exclude", "NAL v1")
    assert row["evidence_view_url"].endswith("?year=2022")
