"""Discovery and resumable download against a real HTTP server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import json
import logging
import random
import socket
import time
from pathlib import Path

import pytest
import requests

from data_layer.datasets import DATASETS, ESMR_PACKAGE, SMARTS_PACKAGE
from data_layer.errors import SourceInvalid, SourceUnavailable
from loaders.ckan import (
    Resource,
    discover,
    discover_directory,
    package_show,
    resources_from_package,
)
from loaders.download import download, redact_url
from loaders.progress import Progress
from tests.http_server import FileServer, http_server

pytestmark = pytest.mark.timeout(30)

FILE = "violations.csv"
SIZE = 300_000
FAST = {"backoff": 0.001, "chunk_size": 16 * 1024, "timeout": (2.0, 5.0)}


def _csv_bytes(size: int, seed: int = 7) -> bytes:
    """A CSV of exactly `size` bytes with varied content, so misplaced bytes show."""
    rng = random.Random(seed)
    lines = [b"WDID,VIOLATION_ID,DESCRIPTION\n"]
    total = len(lines[0])
    i = 0
    while total < size:
        line = f"4 19I{i:06d},{rng.randrange(10**9)},late report {rng.random():.6f}\n".encode()
        lines.append(line)
        total += len(line)
        i += 1
    return b"".join(lines)[:size]


@pytest.fixture
def www(tmp_path: Path) -> Path:
    """A served directory holding one CSV of SIZE bytes."""
    root = tmp_path / "www"
    root.mkdir()
    (root / FILE).write_bytes(_csv_bytes(SIZE))
    return root


@pytest.fixture
def server(www: Path):
    with http_server(www) as srv:
        yield srv


@pytest.fixture
def session():
    with requests.Session() as sess:
        yield sess


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "out" / FILE


def _part(dest: Path) -> Path:
    return dest.with_suffix(dest.suffix + ".part")


# -- download -------------------------------------------------------------------------------


def test_full_download_matches_file_bytes(server: FileServer, session, dest, www):
    progress = Progress("violations", None, interval=0.0)
    result = download(server.url_for(FILE), dest, session, progress=progress, **FAST)
    assert dest.read_bytes() == (www / FILE).read_bytes()
    assert result.size == SIZE and result.path == dest
    assert result.etag and result.last_modified
    assert not result.resumed and result.attempts == 1
    assert not _part(dest).exists()
    assert progress.total == SIZE and progress.done == SIZE


def test_dropped_connection_resumes_with_range(server: FileServer, session, dest, www):
    server.drop_after(FILE, 100_000, times=1)
    result = download(server.url_for(FILE), dest, session, **FAST)
    assert dest.read_bytes() == (www / FILE).read_bytes()
    assert result.resumed and result.attempts == 2
    first, second = server.requests_for(FILE)
    kept = SIZE - second.sent  # bytes of the first response that reached the part
    assert first.range is None and 0 < kept <= 100_000
    assert second.range == f"bytes={kept}-" and second.status == 206
    assert second.if_range == result.etag
    assert server.bytes_sent(FILE) < 2 * SIZE


def test_part_from_previous_run_is_resumed(server: FileServer, session, dest, www):
    data = (www / FILE).read_bytes()
    dest.parent.mkdir(parents=True)
    _part(dest).write_bytes(data[:123_456])
    result = download(server.url_for(FILE), dest, session, **FAST)
    assert dest.read_bytes() == data
    assert result.resumed
    (only,) = server.requests_for(FILE)
    assert only.range == "bytes=123456-" and only.sent == SIZE - 123_456


def test_complete_part_answered_416_is_finished(server: FileServer, session, dest, www):
    data = (www / FILE).read_bytes()
    dest.parent.mkdir(parents=True)
    _part(dest).write_bytes(data)
    result = download(server.url_for(FILE), dest, session, **FAST)
    assert dest.read_bytes() == data and result.size == SIZE
    assert [r.status for r in server.requests_for(FILE)] == [416]


def test_server_ignoring_range_restarts_and_is_correct(server: FileServer, session, dest, www):
    server.ignore_range(FILE)
    server.drop_after(FILE, 50_000, times=1)
    result = download(server.url_for(FILE), dest, session, **FAST)
    assert dest.read_bytes() == (www / FILE).read_bytes()
    assert not result.resumed
    assert [r.status for r in server.requests_for(FILE)] == [200, 200]


def test_changed_file_is_fetched_again_not_spliced(server: FileServer, session, dest, www):
    server.drop_after(FILE, 100_000, times=1)
    with pytest.raises(SourceUnavailable):
        download(server.url_for(FILE), dest, session, retries=0, **FAST)
    assert 0 < _part(dest).stat().st_size <= 100_000
    new = _csv_bytes(SIZE + 5_000, seed=99)
    (www / FILE).write_bytes(new)
    result = download(server.url_for(FILE), dest, session, **FAST)
    assert dest.read_bytes() == new and not result.resumed
    assert server.requests_for(FILE)[-1].if_range is not None


def test_503_twice_then_success(server: FileServer, session, dest, www):
    server.fail(FILE, 503, times=2)
    result = download(server.url_for(FILE), dest, session, **FAST)
    assert dest.read_bytes() == (www / FILE).read_bytes()
    assert result.attempts == 3
    assert [r.status for r in server.requests_for(FILE)] == [503, 503, 200]


def test_persistent_500_gives_one_line_source_unavailable(server: FileServer, session, dest):
    server.fail(FILE, 500, times=None)
    with pytest.raises(SourceUnavailable) as err:
        download(server.url_for(FILE), dest, session, retries=3, **FAST)
    message = str(err.value)
    assert "\n" not in message
    assert FILE in message and "HTTP 500" in message and "4 attempts" in message
    assert len(server.requests_for(FILE)) == 4
    assert not dest.exists()


def test_404_fails_at_once(server: FileServer, session, dest):
    with pytest.raises(SourceUnavailable, match="HTTP 404"):
        download(server.url_for("missing.csv"), dest, session, **FAST)
    assert server.counts()["/missing.csv"] == 1


def test_html_page_is_refused_and_nothing_left(server: FileServer, session, dest):
    server.serve_html(FILE)
    with pytest.raises(SourceInvalid, match="returned an HTML page, not a CSV"):
        download(server.url_for(FILE), dest, session, **FAST)
    assert not dest.exists() and not _part(dest).exists()


def test_html_body_with_csv_content_type_is_refused(server: FileServer, session, dest, www):
    (www / "page.csv").write_bytes(b"\xef\xbb\xbf  \n<!DOCTYPE html><html><body>oops</body></html>")
    with pytest.raises(SourceInvalid, match="HTML page"):
        download(server.url_for("page.csv"), dest, session, **FAST)
    assert not dest.exists() and not _part(dest).exists()


def test_size_mismatch_against_expected_size(server: FileServer, session, dest):
    with pytest.raises(SourceInvalid, match=f"{SIZE} bytes but expected {SIZE + 10}"):
        download(server.url_for(FILE), dest, session, expected_size=SIZE + 10, **FAST)
    assert not dest.exists()
    assert _part(dest).stat().st_size == SIZE  # smaller than expected: kept for a resume
    with pytest.raises(SourceInvalid, match="expected 1000"):
        download(server.url_for(FILE), dest, session, expected_size=1000, **FAST)
    assert not dest.exists() and not _part(dest).exists()


def test_unreachable_server_fails_quickly(session, dest):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="after 2 attempts") as err:
        download(f"http://127.0.0.1:{port}/{FILE}", dest, session, retries=1, **FAST)
    assert time.monotonic() - started < 5
    assert "\n" not in str(err.value) and "object at 0x" not in str(err.value)


def test_credentials_never_in_messages(session, dest, caplog):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://alice:s3cret-pw@127.0.0.1:{port}/{FILE}"
    with pytest.raises(SourceUnavailable) as err:
        download(url, dest, session, retries=1, **FAST)
    with pytest.raises(SourceUnavailable) as err2:
        package_show(
            f"http://alice:s3cret-pw@127.0.0.1:{port}",
            SMARTS_PACKAGE,
            session,
            timeout=(2.0, 5.0),
            retries=0,
        )
    for text in (str(err.value), str(err2.value), caplog.text):
        assert "s3cret-pw" not in text and "alice" not in text
    assert redact_url(url) == f"http://***@127.0.0.1:{port}/{FILE}"


def test_credentials_redacted_in_http_errors(server: FileServer, session, dest):
    host = server.url.removeprefix("http://")
    with pytest.raises(SourceUnavailable) as err:
        download(f"http://bob:hunter22@{host}/missing.csv", dest, session, **FAST)
    assert "hunter22" not in str(err.value) and "***@" in str(err.value)


# -- discovery ------------------------------------------------------------------------------


def _package(resources: list[dict]) -> dict:
    return {"success": True, "result": {"name": SMARTS_PACKAGE, "resources": resources}}


def _contract_resources() -> list[dict]:
    """One CSV per SMARTS dataset named like its title, two eSMR years, and a zip to ignore."""
    resources = [
        {
            "id": f"id-{i}",
            "name": ds.title,
            "url": f"{ds.name}.csv",
            "format": "CSV",
            "size": 10 + i,
            "last_modified": "2025-12-02T10:00:00",
        }
        for i, ds in enumerate(DATASETS)
        if not ds.per_year_sources
    ]
    for year in (2023, 2024):
        resources.append(
            {
                "name": f"esmr-analytical-export_year-{year}",
                "format": "CSV",
                "url": f"https://data.example.org/esmr_{year}.csv",
                "size": None,
                "last_modified": None,
            }
        )
    resources.append(
        {
            "name": "esmr-analytical-export_years-2006-2025 zip",
            "format": "ZIP",
            "url": "esmr_all.zip",
            "size": 99,
            "last_modified": None,
        }
    )
    return resources


def test_discover_finds_every_dataset_by_name(www: Path, session):
    (www / "package.json").write_text(json.dumps(_package(_contract_resources())))
    with http_server(www) as srv:
        found = discover(srv.url, session, backoff=0.001)
        assert srv.counts()["/api/3/action/package_show"] == 2
    by_key = {(r.dataset, r.year): r for r in found}
    assert len(found) == len(by_key) == len(DATASETS) + 1
    for ds in DATASETS:
        if not ds.per_year_sources:
            res = by_key[(ds.name, None)]
            assert res.name == ds.title and res.url == f"{srv.url}/{ds.name}.csv"
            assert res.format == "CSV" and res.last_modified == "2025-12-02T10:00:00"
    esmr = [r for r in found if r.year is not None]
    assert [(r.year, r.url) for r in esmr] == [
        (2023, "https://data.example.org/esmr_2023.csv"),
        (2024, "https://data.example.org/esmr_2024.csv"),
    ]
    assert not any(r.url.endswith(".zip") for r in found)


def test_discover_filters_esmr_years_and_prefers_newest(www: Path, session, caplog):
    resources = _contract_resources() + [
        {
            "name": "Violations (previous layout)",
            "url": "old.csv",
            "format": "csv",
            "last_modified": "2025-11-25T10:00:00",
        },
        {
            "name": "Violations",
            "url": "new.csv",
            "format": "CSV",
            "last_modified": "2025-12-09T10:00:00",
        },
    ]
    (www / "package.json").write_text(json.dumps(_package(resources)))
    with http_server(www) as srv:
        found = discover(srv.url, session, package_ids=(SMARTS_PACKAGE,), esmr_years=[2024])
    violations = [r for r in found if r.dataset == "violations"]
    assert len(violations) == 1 and violations[0].url.endswith("/new.csv")
    assert "violations: 2 CSV resources match" in caplog.text
    assert [r.year for r in found if r.dataset == "esmr_samples"] == [2024]


def test_discover_two_packages_and_missing_dataset(www: Path, session):
    smarts = [r for r in _contract_resources() if r["url"] != "inspections.csv"]
    smarts = [r for r in smarts if not r["name"].startswith("esmr")]
    esmr = [r for r in _contract_resources() if r["name"].startswith("esmr")]
    (www / f"{SMARTS_PACKAGE}.json").write_text(json.dumps(_package(smarts)))
    (www / f"{ESMR_PACKAGE}.json").write_text(json.dumps(_package(esmr)))
    with http_server(www, known_packages={SMARTS_PACKAGE, ESMR_PACKAGE}) as srv:
        found = discover(srv.url, session)
        with pytest.raises(SourceUnavailable, match="Not found"):
            package_show(srv.url, "no-such-package", session, retries=0)
    names = {r.dataset for r in found}
    assert "inspections" not in names
    assert names == {ds.name for ds in DATASETS} - {"inspections"}


def test_package_show_html_page_is_source_invalid(server: FileServer, session):
    server.serve_html("/api/3/action/package_show")
    with pytest.raises(SourceInvalid, match="HTML page"):
        package_show(server.url, SMARTS_PACKAGE, session, retries=0)


def test_package_show_retries_5xx(www: Path, session):
    (www / "package.json").write_text(json.dumps(_package(_contract_resources())))
    with http_server(www) as srv:
        srv.fail("/api/3/action/package_show", 502, times=2)
        body = package_show(srv.url, SMARTS_PACKAGE, session, retries=2, backoff=0.001)
    assert body["success"] is True


def test_unreachable_portal_is_source_unavailable(session):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="cannot reach"):
        discover(f"http://127.0.0.1:{port}", session, retries=1, backoff=0.001)
    assert time.monotonic() - started < 5


def test_directory_package_resolves_paths(tmp_path: Path):
    (tmp_path / "package.json").write_text(json.dumps(_package(_contract_resources())))
    found = discover_directory(tmp_path)
    violations = next(r for r in found if r.dataset == "violations")
    assert violations == Resource(
        dataset="violations",
        name="Violations",
        url=str(tmp_path / "violations.csv"),
        size=violations.size,
        last_modified="2025-12-02T10:00:00",
        format="CSV",
    )
    same = resources_from_package(_package(_contract_resources()), str(tmp_path))
    assert same == found
    assert {r.year for r in found if r.dataset == "esmr_samples"} == {2023, 2024}


def test_directory_given_relative_yields_absolute_paths(tmp_path: Path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "package.json").write_text(json.dumps(_package(_contract_resources())))
    monkeypatch.chdir(tmp_path)
    found = discover_directory(Path("src"), esmr_years=())
    local = [r for r in found if not r.url.startswith("https://")]
    assert local and all(Path(r.url).is_absolute() for r in local)
    assert len(found) == len(DATASETS) + 1


def test_download_of_discovered_resource(www: Path, session, tmp_path: Path):
    (www / "package.json").write_text(
        json.dumps(
            _package(
                [
                    {"name": "Violations", "url": FILE, "format": "CSV", "size": SIZE},
                ]
            )
        )
    )
    with http_server(www) as srv:
        (res,) = discover(srv.url, session, package_ids=(SMARTS_PACKAGE,))
        result = download(res.url, tmp_path / "got.csv", session, expected_size=res.size, **FAST)
    assert result.path.read_bytes() == (www / FILE).read_bytes()
