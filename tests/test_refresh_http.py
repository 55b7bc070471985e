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


def portal(directory: Path, described: bool = True) -> Path:
    """A directory laid out like the portal: two CSVs and a package_show result naming them.

    `described=False` leaves out each resource's size and date, as link resources may.
    """
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
    description = {"size": None, "last_modified": None}
    resources = [
        {"name": name, "url": path.name, "format": "CSV"}
        | (
            {"size": path.stat().st_size, "last_modified": "2025-12-02T06:00:00"}
            if described
            else description
        )
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


def _edit_in_place(path: Path) -> None:
    """Change one digit of the first data row: a re-export of the same length."""
    data = bytearray(path.read_bytes())
    start = data.index(b"\n") + 1
    digit = next(i for i in range(start, len(data)) if chr(data[i]).isdigit())
    data[digit] = ord(str((int(chr(data[digit])) + 1) % 10))
    path.write_bytes(bytes(data))


def test_without_size_or_date_the_servers_etag_tells_unchanged_from_changed(
    tmp_path: Path,
) -> None:
    store = store_at(tmp_path / "store")
    with http_server(portal(tmp_path / "portal", described=False)) as server:
        assert run(store, server.url)["violations"].outcome == PUBLISHED
        again = run(store, server.url)
        assert {o.outcome for o in again.values()} == {UNCHANGED}
        assert "HEAD" in {r.method for r in server.requests_for("violations.csv")}
        write_csv(
            tmp_path / "portal" / "violations.csv",
            "violations",
            rows_for("violations", 3000, start=5001),
        )
        changed = run(store, server.url)
    assert changed["violations"].outcome == PUBLISHED
    assert changed["industrial_monitoring"].outcome == UNCHANGED


def test_a_file_changed_behind_an_unchanged_description_is_reloaded(tmp_path: Path) -> None:
    store = store_at(tmp_path / "store")
    source = portal(tmp_path / "portal")
    with http_server(source) as server:
        run(store, server.url)
        size = (source / "violations.csv").stat().st_size
        _edit_in_place(source / "violations.csv")
        assert (source / "violations.csv").stat().st_size == size
        outs = run(store, server.url)
    assert outs["violations"].outcome == PUBLISHED
    assert sum(outs["violations"].changes.values()) > 0
    assert outs["industrial_monitoring"].outcome == UNCHANGED


def test_with_nothing_to_compare_every_run_loads_the_file(tmp_path: Path) -> None:
    store = store_at(tmp_path / "store")
    with http_server(portal(tmp_path / "portal", described=False)) as server:
        server.refuse_head("violations.csv")
        first = run(store, server.url)["violations"]
        second = run(store, server.url)
    assert first.outcome == second["violations"].outcome == PUBLISHED
    assert second["violations"].changes == {"added": 0, "changed": 0, "removed": 0}
    assert second["industrial_monitoring"].outcome == UNCHANGED
