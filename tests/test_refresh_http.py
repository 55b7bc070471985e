"""Refresh from a CKAN portal: a real HTTP server on 127.0.0.1 serving files and package_show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_layer.errors import SourceUnavailable
from data_layer.store import store_at
from loaders.refresh import FAILED, PUBLISHED, UNCHANGED, RefreshOptions, refresh
from tests.factories import rows_for, write_csv
from tests.http_server import http_server


def portal(directory: Path) -> Path:
    """A directory laid out like the portal: two CSVs and a package_show result naming them."""
    files = {
        "Violations": write_csv(
            directory / "violations.csv", "violations", rows_for("violations", 3000)
        ),
        "Industrial Ad Hoc Reports - Parameter Data": write_csv(
            directory / "monitoring.csv",
            "industrial_monitoring",
            rows_for("industrial_monitoring", 3000),
        ),
    }
    resources = [
        {
            "name": name,
            "url": path.name,
            "format": "CSV",
            "size": path.stat().st_size,
            "last_modified": "2025-12-02T06:00:00",
        }
        for name, path in files.items()
    ]
    (directory / "package.json").write_text(
        json.dumps({"success": True, "result": {"name": "smarts", "resources": resources}})
    )
    return directory


def run(store, url: str, force: bool = False):
    options = RefreshOptions(
        source=url,
        datasets=["violations", "industrial_monitoring"],
        force=force,
        memory_limit="500MB",
    )
    return {o.dataset: o for o in refresh(store, options)}


def test_refresh_downloads_and_publishes_from_portal(tmp_path: Path) -> None:
    store = store_at(tmp_path / "store")
    with http_server(portal(tmp_path / "portal")) as server:
        outs = run(store, server.url)
        assert outs["violations"].outcome == PUBLISHED
        assert outs["industrial_monitoring"].rows_out == 3000
        again = run(store, server.url)
        assert {o.outcome for o in again.values()} == {UNCHANGED}
    assert not list(store.downloads_dir.rglob("*.csv"))


def test_dropped_connection_is_resumed_during_refresh(tmp_path: Path) -> None:
    store = store_at(tmp_path / "store")
    with http_server(portal(tmp_path / "portal")) as server:
        server.drop_after("monitoring.csv", 100_000, times=2)
        outs = run(store, server.url)
        assert outs["industrial_monitoring"].outcome == PUBLISHED
        ranges = [r.range for r in server.requests_for("monitoring.csv")]
        assert ranges[0] is None and any(r and r.startswith("bytes=") for r in ranges[1:])


def test_html_error_page_keeps_previous_version(tmp_path: Path) -> None:
    store = store_at(tmp_path / "store")
    with http_server(portal(tmp_path / "portal")) as server:
        first = run(store, server.url)["violations"].version
        server.serve_html("violations.csv")
        out = run(store, server.url, force=True)["violations"]
        assert out.outcome == FAILED and "HTML" in out.error
        assert store.current_version("violations") == first


def test_portal_down_fails_every_dataset_cleanly(tmp_path: Path) -> None:
    store = store_at(tmp_path / "store")
    with http_server(portal(tmp_path / "portal")) as server:
        url = server.url
    with pytest.raises(SourceUnavailable) as caught:
        run(store, url)
    assert "\n" not in str(caught.value)
