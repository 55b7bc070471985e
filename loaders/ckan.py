"""Find each dataset's source CSV on a CKAN portal, or in a local directory's `package.json`.

Resources are matched by name against the contract's `resource_pattern`, never by id or
position: the portal re-creates resources (new ids) and reorders them between weeks.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from data_layer.datasets import DATASETS, ESMR_PACKAGE, SMARTS_PACKAGE, Dataset
from data_layer.errors import SourceInvalid, SourceUnavailable
from loaders.download import (
    DEFAULT_TIMEOUT,
    RETRY_STATUSES,
    TRANSIENT_ERRORS,
    attempts_text,
    backoff_delay,
    describe_error,
    redact_url,
)

log = logging.getLogger(__name__)

#: Name of the CKAN-style package description in a local source directory.
PACKAGE_FILE = "package.json"

_URL_SCHEMES = ("http", "https", "ftp", "file")


@dataclass(frozen=True)
class Resource:
    """One downloadable source file for a dataset (one per year for per-year datasets)."""

    dataset: str
    name: str
    url: str
    size: int | None
    last_modified: str | None
    format: str | None
    year: int | None = None
    #: The file server's own version of the file (ETag, else Last-Modified), from `probe`.
    validator: str | None = None


def package_show(
    base_url: str,
    package_id: str,
    session: requests.Session,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    retries: int = 4,
    backoff: float = 1.0,
) -> dict:
    """The portal's `package_show` answer for `package_id`, retried while the portal is flaky."""
    url = f"{base_url.rstrip('/')}/api/3/action/package_show"
    shown = f"{redact_url(url)}?id={package_id}"
    resp = _request_with_retries(
        "GET", url, {"id": package_id}, session, timeout, retries, backoff, shown
    )
    try:
        body = resp.json()
    except ValueError:
        if resp.status_code >= 400:
            raise SourceUnavailable(f"{shown} answered HTTP {resp.status_code}") from None
        raise SourceInvalid(
            f"{shown} did not return JSON (got {_content_kind(resp)}); is this a CKAN portal?"
        ) from None
    if not isinstance(body, dict) or not body.get("success"):
        raise SourceUnavailable(f"{shown} failed: {_ckan_error(body, resp.status_code)}")
    return body


def _request_with_retries(
    method: str,
    url: str,
    params: dict[str, str],
    session: requests.Session,
    timeout: float | tuple[float, float],
    retries: int,
    backoff: float,
    shown: str,
) -> requests.Response:
    """Ask until a non-5xx answer, waiting longer each time; SourceUnavailable when out of tries."""
    last_error = "no attempt made"
    for attempt in range(1, retries + 2):
        try:
            resp = session.request(method, url, params=params, timeout=timeout)
        except TRANSIENT_ERRORS as exc:
            last_error = describe_error(exc, url)
        else:
            if resp.status_code < 500 and resp.status_code not in RETRY_STATUSES:
                return resp
            last_error = f"HTTP {resp.status_code}"
        log.info("%s: attempt %d failed (%s)", shown, attempt, last_error)
        if attempt <= retries:
            time.sleep(backoff_delay(attempt, backoff))
    tries = attempts_text(retries + 1)
    raise SourceUnavailable(f"cannot reach {shown} after {tries}: {last_error}")


def probe(
    res: Resource,
    session: requests.Session,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    retries: int = 2,
    backoff: float = 1.0,
) -> Resource:
    """`res` with its file server's validator (ETag, else Last-Modified) from a HEAD request.

    The portal's size and date describe what was uploaded; a resource that links to
    another server can change behind an unchanged description, and some resources have
    neither. A server that refuses HEAD or cannot be reached leaves `res` as described.
    """
    shown = redact_url(res.url)
    try:
        resp = _request_with_retries("HEAD", res.url, {}, session, timeout, retries, backoff, shown)
    except SourceUnavailable as exc:
        log.info("%s: no answer to HEAD (%s); going by the portal's description", shown, exc)
        return res
    if not resp.ok:
        log.info(
            "%s: HEAD answered HTTP %d; going by the portal's description", shown, resp.status_code
        )
        return res
    validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
    return replace(res, validator=validator) if validator else res


def _content_kind(resp: requests.Response) -> str:
    """What came back instead of JSON, for the error message."""
    content_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
    head = resp.content[:256].lstrip().lower()
    if content_type == "text/html" or head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    return content_type or "a body that is not JSON"


def _ckan_error(body: object, status: int) -> str:
    """CKAN's own error message when it gave one, else the HTTP status."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = body["error"].get("message")
        if message:
            return " ".join(str(message).split())
    return f"HTTP {status}, success is not true"


def discover(
    base_url: str,
    session: requests.Session,
    datasets: Sequence[Dataset] = DATASETS,
    package_ids: Sequence[str] = (SMARTS_PACKAGE, ESMR_PACKAGE),
    esmr_years: Iterable[int] | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    retries: int = 4,
    backoff: float = 1.0,
) -> list[Resource]:
    """The source resource of each dataset found in the portal's packages, by resource name.

    A dataset with no matching CSV is absent from the result; the caller reports it.
    `esmr_years` keeps only those years of per-year datasets (empty or None: every year).
    """
    candidates: list[Resource] = []
    for package_id in package_ids:
        package = package_show(base_url, package_id, session, timeout, retries, backoff)
        candidates += _candidates(_package_resources(package), base_url, datasets)
    found = _select(_dedupe(candidates), datasets, esmr_years)
    log.info("discovered %d resource(s) at %s", len(found), redact_url(base_url))
    return found


def read_package_file(path: Path) -> dict:
    """A local `package.json` (shaped like a package_show answer), for directory sources."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SourceUnavailable(f"no {Path(path).name} at {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SourceInvalid(f"{path} is not a readable JSON package: {exc}") from None
    if not isinstance(body, dict):
        raise SourceInvalid(f"{path} is not a CKAN package (expected a JSON object)")
    return body


def discover_directory(
    directory: Path,
    datasets: Sequence[Dataset] = DATASETS,
    esmr_years: Iterable[int] | None = None,
) -> list[Resource]:
    """Resources listed in `directory/package.json`, with urls as absolute paths."""
    directory = Path(directory).resolve()
    package = read_package_file(directory / PACKAGE_FILE)
    return resources_from_package(package, str(directory), datasets, esmr_years)


def resources_from_package(
    package: dict,
    base: str,
    datasets: Sequence[Dataset] = DATASETS,
    esmr_years: Iterable[int] | None = None,
) -> list[Resource]:
    """Match one package's resources to datasets; `base` (URL or directory) resolves urls."""
    candidates = _candidates(_package_resources(package), base, datasets)
    return _select(_dedupe(candidates), datasets, esmr_years)


def _package_resources(package: dict) -> list[dict]:
    """The resource list of a package_show answer (or of its bare `result`)."""
    if "success" in package and not package.get("success"):
        raise SourceUnavailable(f"package answer is not a success: {_ckan_error(package, 200)}")
    result = package.get("result", package)
    resources = result.get("resources") if isinstance(result, dict) else None
    if not isinstance(resources, list):
        raise SourceInvalid("package has no 'resources' list; is this a CKAN package?")
    return [r for r in resources if isinstance(r, dict)]


def _candidates(resources: list[dict], base: str, datasets: Sequence[Dataset]) -> list[Resource]:
    """Every (dataset, CSV resource) pair whose resource name matches the dataset's pattern."""
    found: list[Resource] = []
    for raw in resources:
        name = str(raw.get("name") or "").strip()
        url = str(raw.get("url") or "").strip()
        if not name or not url or not _is_csv(raw.get("format"), url):
            continue
        for ds in datasets:
            match = re.search(ds.resource_pattern, name)
            if match is None:
                continue
            year = _year(match) if ds.per_year_sources else None
            if ds.per_year_sources and year is None:
                continue
            found.append(_resource(ds.name, name, raw, _resolve(base, url), year))
    return found


def _resource(dataset: str, name: str, raw: dict, url: str, year: int | None) -> Resource:
    return Resource(
        dataset=dataset,
        name=name,
        url=url,
        size=_int_or_none(raw.get("size")),
        last_modified=raw.get("last_modified") or raw.get("metadata_modified"),
        format=raw.get("format"),
        year=year,
    )


def _is_csv(fmt: object, url: str) -> bool:
    """CSV by declared format; by the url's extension only when no format is given."""
    declared = str(fmt or "").strip().lower().lstrip(".")
    if declared:
        return declared == "csv" or declared == "text/csv"
    return urlsplit(url).path.lower().endswith(".csv")


def _year(match: re.Match[str]) -> int | None:
    try:
        return int(match.group("year"))
    except (IndexError, TypeError, ValueError):
        return None


def _int_or_none(value: object) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _resolve(base: str, url: str) -> str:
    """An absolute URL or path for `url`, which may be relative to a portal or a directory."""
    if urlsplit(url).scheme in _URL_SCHEMES:
        return url
    if urlsplit(base).scheme in _URL_SCHEMES:
        return urljoin(base.rstrip("/") + "/", url)
    return str(Path(base) / url)


def _dedupe(candidates: list[Resource]) -> list[Resource]:
    """One entry per (dataset, name): the same resource may be listed by two packages."""
    best: dict[tuple[str, str], Resource] = {}
    for res in candidates:
        key = (res.dataset, res.name)
        if key not in best or _modified(res) > _modified(best[key]):
            best[key] = res
    return list(best.values())


def _select(
    candidates: list[Resource],
    datasets: Sequence[Dataset],
    esmr_years: Iterable[int] | None,
) -> list[Resource]:
    """One resource per dataset (per year where per-year), the most recently modified.

    An empty or missing `esmr_years` means every year.
    """
    wanted_years = set(esmr_years or ())
    chosen: list[Resource] = []
    for ds in datasets:
        mine = [r for r in candidates if r.dataset == ds.name]
        if ds.per_year_sources and wanted_years:
            mine = [r for r in mine if r.year in wanted_years]
        for year in sorted({r.year for r in mine}, key=lambda y: y or 0):
            chosen.append(_newest(ds.name, [r for r in mine if r.year == year]))
    return chosen


def _newest(dataset: str, matches: list[Resource]) -> Resource:
    """The most recently modified of several matches, with a warning naming the others."""
    newest = max(matches, key=_modified)
    if len(matches) > 1:
        others = ", ".join(repr(r.name) for r in matches if r is not newest)
        log.warning(
            "%s: %d CSV resources match; using %r (modified %s), ignoring %s",
            dataset,
            len(matches),
            newest.name,
            newest.last_modified,
            others,
        )
    return newest


def _modified(res: Resource) -> datetime:
    """The resource's modified time for ordering; unknown sorts oldest."""
    oldest = datetime.min.replace(tzinfo=UTC)
    if not res.last_modified:
        return oldest
    try:
        stamp = datetime.fromisoformat(res.last_modified.strip().replace("Z", "+00:00"))
    except ValueError:
        return oldest
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
