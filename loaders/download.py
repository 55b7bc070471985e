"""Resumable, verified downloads of source CSVs over HTTP.

A download streams into `<dest>.part` and only becomes `<dest>` (by `os.replace`) once it is
complete, the right size and not an HTML page, so a refresh never reads half a file. A dropped
connection or an earlier interrupted run resumes with a `Range` request; the validators of the
partial file sit beside it in `<dest>.part.json` so a file that changed in the meantime is
fetched again instead of being spliced onto old bytes.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3

from data_layer.errors import SourceInvalid, SourceUnavailable
from loaders.progress import Progress

log = logging.getLogger(__name__)

#: (connect, read) seconds: a stalled portal fails an attempt instead of hanging the refresh.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)

#: Longest single wait between attempts, whatever the backoff.
MAX_DELAY = 60.0

#: Errors that mean "the network failed, try again" (including a body cut off mid-stream).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    ConnectionError,
)

#: Statuses worth retrying: server errors, plus request timeout and rate limiting.
RETRY_STATUSES = frozenset({408, 429})

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")
_USERINFO = re.compile(r"(//)[^/@\s]+@")
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>:?\s*")
_HTML_STARTS = (b"<!doctype html", b"<html")


@dataclass(frozen=True)
class DownloadResult:
    """Where a finished download is and what the server said about it (for change checks)."""

    path: Path
    size: int
    etag: str | None
    last_modified: str | None
    resumed: bool
    attempts: int


class _Retry(Exception):
    """An attempt failed in a way another attempt may fix."""


@dataclass
class _Transfer:
    """What one download has learnt so far, carried across its attempts."""

    url: str
    dest: Path
    expected_size: int | None
    etag: str | None = None
    last_modified: str | None = None
    total: int | None = None
    resumed: bool = False

    @property
    def part(self) -> Path:
        return self.dest.with_suffix(self.dest.suffix + ".part")

    @property
    def meta(self) -> Path:
        return self.dest.with_suffix(self.dest.suffix + ".part.json")


def redact_url(url: str) -> str:
    """The URL without user:password, so it can go into messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def redact_text(text: str, url: str | None = None) -> str:
    """`text` with any userinfo (and `url`'s password) blanked, on one line."""
    text = _USERINFO.sub(r"\1***@", text)
    password = urlsplit(url).password if url else None
    if password and len(password) >= 4:
        text = text.replace(password, "***")
    return " ".join(text.split())


def describe_error(exc: BaseException, url: str | None = None) -> str:
    """A short one-line reason for a network error, without object reprs or credentials."""
    text = _OBJECT_REPR.sub("", str(exc))
    errno = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if errno:
        text = errno.group(0)
    elif isinstance(exc, requests.Timeout):
        text = "timed out"
    reason = redact_text(f"{type(exc).__name__}: {text}", url)
    return reason if len(reason) <= 200 else reason[:197] + "..."


def attempts_text(n: int) -> str:
    """'1 attempt' / 'n attempts', for messages."""
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def backoff_delay(failures: int, backoff: float) -> float:
    """Seconds to wait after the n-th consecutive failure: doubling, capped."""
    return min(backoff * 2 ** max(failures - 1, 0), MAX_DELAY)


def download(
    url: str,
    dest: Path,
    session: requests.Session,
    expected_size: int | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    progress: Progress | None = None,
    chunk_size: int = 1 << 16,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> DownloadResult:
    """Fetch `url` into `dest`, resuming and retrying, so a flaky link still yields a whole file.

    `retries` is how many further attempts follow a failed one (waits double from `backoff`
    seconds). `progress`, when given, gets bytes on disk and the total, and is finished here.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    state = _Transfer(url=url, dest=dest, expected_size=expected_size)
    _load_validators(state)
    last_error = "no attempt made"
    for attempt in range(1, retries + 2):
        try:
            if _attempt(state, session, chunk_size, timeout, progress):
                return _finish(state, attempt, progress)
            last_error = "partial file did not fit the server's file; starting over"
            continue
        except _Retry as exc:
            last_error = str(exc)
        except TRANSIENT_ERRORS as exc:
            last_error = describe_error(exc, url)
        log.info("download of %s: attempt %d failed (%s)", dest.name, attempt, last_error)
        if attempt <= retries:
            time.sleep(backoff_delay(attempt, backoff))
    tries = attempts_text(retries + 1)
    raise SourceUnavailable(
        f"could not download {dest.name} from {redact_url(url)} after {tries}: {last_error}"
    )


def _attempt(
    state: _Transfer,
    session: requests.Session,
    chunk_size: int,
    timeout: float | tuple[float, float],
    progress: Progress | None,
) -> bool:
    """One GET: True when the part is complete, False when it had to be discarded."""
    have = _size(state.part)
    with session.get(
        state.url, headers=_request_headers(state, have), stream=True, timeout=timeout
    ) as resp:
        _check_status(state, resp)
        if resp.status_code == 416:
            return _settle_unsatisfiable(state, resp, have)
        _check_not_html_type(state, resp)
        offset = _start_offset(state, resp, have)
        if offset is None:
            return False
        _remember(state, resp, offset)
        if progress is not None:
            progress.total = progress.total or state.total
        _stream(state, resp, offset, chunk_size, progress)
    return True


def _request_headers(state: _Transfer, have: int) -> dict[str, str]:
    """Identity encoding (so byte ranges mean file bytes), plus a Range to resume from `have`."""
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
        strong_etag = state.etag if state.etag and not state.etag.startswith("W/") else None
        validator = strong_etag or state.last_modified
        if validator:
            headers["If-Range"] = validator
    return headers


def _check_status(state: _Transfer, resp: requests.Response) -> None:
    """Retry server trouble; give up at once on a client error (the URL itself is wrong)."""
    code = resp.status_code
    if code >= 500 or code in RETRY_STATUSES:
        raise _Retry(f"HTTP {code} {resp.reason or ''}".strip())
    if code >= 400 and code != 416:
        raise SourceUnavailable(
            f"{redact_url(state.url)} answered HTTP {code} {resp.reason or ''}".strip()
            + f" for {state.dest.name}; check the resource URL"
        )
    if code not in (200, 206, 416):
        raise _Retry(f"unexpected HTTP {code}")


def _settle_unsatisfiable(state: _Transfer, resp: requests.Response, have: int) -> bool:
    """A 416 means the part is as long as the file, or longer (then it is garbage)."""
    match = _UNSATISFIED_RANGE.search(resp.headers.get("Content-Range", ""))
    total = int(match.group(1)) if match else state.expected_size
    if have and total == have:
        state.total = total
        state.etag = state.etag or resp.headers.get("ETag")
        state.last_modified = state.last_modified or resp.headers.get("Last-Modified")
        return True
    log.warning(
        "%s: partial file (%d bytes) does not fit the server's; restarting", state.dest.name, have
    )
    _discard(state)
    return False


def _check_not_html_type(state: _Transfer, resp: requests.Response) -> None:
    """A portal error or login page often comes back as 200 text/html: refuse it early."""
    content_type = resp.headers.get("Content-Type", "").lower()
    if content_type.startswith("text/html"):
        _discard(state)
        raise _html_error(state)


def _start_offset(state: _Transfer, resp: requests.Response, have: int) -> int | None:
    """Where this response's body starts in the file; None when the part must be dropped."""
    if resp.status_code == 200:
        if have:
            log.info(
                "%s: server sent the whole file instead of a range; starting over", state.dest.name
            )
        return 0
    match = _CONTENT_RANGE.search(resp.headers.get("Content-Range", ""))
    if not match or int(match.group(1)) != have:
        log.warning(
            "%s: server answered range %r to a request from byte %d; restarting",
            state.dest.name,
            resp.headers.get("Content-Range"),
            have,
        )
        _discard(state)
        return None
    return have


def _remember(state: _Transfer, resp: requests.Response, offset: int) -> None:
    """Keep the file's validators and total length; save validators beside the part."""
    state.etag = resp.headers.get("ETag") or state.etag
    state.last_modified = resp.headers.get("Last-Modified") or state.last_modified
    state.total = _announced_total(resp, offset)
    state.resumed = state.resumed or offset > 0
    try:
        state.meta.write_text(
            json.dumps({"etag": state.etag, "last_modified": state.last_modified}),
            encoding="utf-8",
        )
    except OSError as exc:
        log.debug("could not save validators for %s: %s", state.dest.name, exc)


def _announced_total(resp: requests.Response, offset: int) -> int | None:
    """The whole file's length per the server: Content-Range total, or offset + body length."""
    match = _CONTENT_RANGE.search(resp.headers.get("Content-Range", ""))
    if match and match.group(3) != "*":
        return int(match.group(3))
    length = resp.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _stream(
    state: _Transfer,
    resp: requests.Response,
    offset: int,
    chunk_size: int,
    progress: Progress | None,
) -> None:
    """Append the body to the part (truncating first when starting over), flushed to disk."""
    with open(state.part, "r+b" if offset else "wb") as out:
        out.seek(offset)
        out.truncate()
        done = offset
        for chunk in resp.iter_content(chunk_size=chunk_size):
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress.update(done)
        out.flush()
        os.fsync(out.fileno())


def _finish(state: _Transfer, attempts: int, progress: Progress | None) -> DownloadResult:
    """Check size and content of the complete part, then publish it as `dest`."""
    size = _size(state.part)
    _check_size(state, size)
    if _looks_like_html(state.part):
        _discard(state)
        raise _html_error(state)
    os.replace(state.part, state.dest)
    state.meta.unlink(missing_ok=True)
    if progress is not None:
        progress.update(size)
        progress.finish()
    log.info(
        "downloaded %s (%d bytes, %d attempt(s)%s)",
        state.dest.name,
        size,
        attempts,
        ", resumed" if state.resumed else "",
    )
    return DownloadResult(
        path=state.dest,
        size=size,
        etag=state.etag,
        last_modified=state.last_modified,
        resumed=state.resumed,
        attempts=attempts,
    )


def _check_size(state: _Transfer, size: int) -> None:
    """Size must match the server's total and the caller's expectation; keep a short part."""
    for label, wanted in (("the server announced", state.total), ("expected", state.expected_size)):
        if wanted is None or size == wanted:
            continue
        if size > wanted:
            _discard(state)
        raise SourceInvalid(
            f"{state.dest.name} from {redact_url(state.url)} is {size} bytes but {label} "
            f"{wanted}; run the refresh again"
        )


def _looks_like_html(path: Path) -> bool:
    """True when the file starts (after a BOM and whitespace) like an HTML document."""
    with open(path, "rb") as fh:
        head = fh.read(1024)
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return head.startswith(_HTML_STARTS)


def _html_error(state: _Transfer) -> SourceInvalid:
    return SourceInvalid(
        f"{redact_url(state.url)} returned an HTML page, not a CSV, for {state.dest.name}; "
        "the portal may be down or the resource moved"
    )


def _load_validators(state: _Transfer) -> None:
    """Pick up the ETag/Last-Modified saved with a part left by an earlier run."""
    if not state.part.exists() or not state.meta.exists():
        return
    try:
        saved = json.loads(state.meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    state.etag = saved.get("etag")
    state.last_modified = saved.get("last_modified")


def _discard(state: _Transfer) -> None:
    """Remove the part and its validators."""
    state.part.unlink(missing_ok=True)
    state.meta.unlink(missing_ok=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
