"""A real HTTP file server on 127.0.0.1 for download and discovery tests, with failure knobs.

It serves the files of one directory with Content-Length, ETag, Last-Modified and real byte
ranges (206 + Content-Range, If-Range honoured), and answers CKAN's
`/api/3/action/package_show?id=...` from the directory's `package.json` (or `<id>.json` when
present). Tests make it misbehave per path: drop the connection mid-body, answer 5xx, serve an
HTML page, ignore Range, refuse HEAD. It also takes POSTs (as a webhook would) and keeps
their bodies. Every request is recorded so tests can assert what the client did.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

log = logging.getLogger(__name__)

PACKAGE_SHOW = "/api/3/action/package_show"

HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
    b"<body><h1>Down for maintenance</h1></body></html>\n"
)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class RequestRecord:
    """One request as the server saw it."""

    path: str
    method: str
    range: str | None
    if_range: str | None
    status: int
    sent: int
    body: bytes = b""


@dataclass
class _Knobs:
    """Failure injection, per path; counts are how many more requests to spoil."""

    drops: dict[str, list[int]] = field(default_factory=dict)  # path -> [after_bytes, times]
    errors: dict[str, list[int]] = field(default_factory=dict)  # path -> [status, times]
    html: set[str] = field(default_factory=set)
    ignore_range: set[str] = field(default_factory=set)
    ignore_range_all: bool = False
    no_head: set[str] = field(default_factory=set)


class FileServer(ThreadingHTTPServer):
    """Serves `directory` on 127.0.0.1 and records requests; knobs make it misbehave."""

    daemon_threads = True

    def __init__(self, directory: Path, known_packages: set[str] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.directory = Path(directory).resolve()
        self.known_packages = known_packages
        self.knobs = _Knobs()
        self.records: list[RequestRecord] = []
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def url_for(self, name: str) -> str:
        """URL of a file in the served directory."""
        return f"{self.url}/{name}"

    # -- knobs ----------------------------------------------------------------------------
    def drop_after(self, path: str, nbytes: int, times: int = 1) -> None:
        """Close the socket after `nbytes` of body for the next `times` requests of `path`."""
        self.knobs.drops[_norm(path)] = [nbytes, times]

    def fail(self, path: str, status: int = 500, times: int | None = 1) -> None:
        """Answer `status` to the next `times` requests of `path` (None: every request)."""
        self.knobs.errors[_norm(path)] = [status, -1 if times is None else times]

    def serve_html(self, path: str) -> None:
        """Answer `path` with a 200 text/html error page."""
        self.knobs.html.add(_norm(path))

    def ignore_range(self, path: str | None = None) -> None:
        """Always answer 200 with the whole file (for `path`, or every path when None)."""
        if path is None:
            self.knobs.ignore_range_all = True
        else:
            self.knobs.ignore_range.add(_norm(path))

    def refuse_head(self, path: str) -> None:
        """Answer HEAD requests of `path` with 405, as some file servers do."""
        self.knobs.no_head.add(_norm(path))

    # -- what happened --------------------------------------------------------------------
    def requests_for(self, path: str) -> list[RequestRecord]:
        """Requests of `path`, in order."""
        with self.lock:
            return [r for r in self.records if r.path == _norm(path)]

    def counts(self) -> Counter[str]:
        """Number of requests per path."""
        with self.lock:
            return Counter(r.path for r in self.records)

    def posts(self, path: str) -> list[bytes]:
        """Bodies POSTed to `path`, in order (answered or not)."""
        return [r.body for r in self.requests_for(path) if r.method == "POST"]

    def bytes_sent(self, path: str) -> int:
        """Body bytes sent for `path`, over all its requests."""
        return sum(r.sent for r in self.requests_for(path))

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> FileServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def take(self, knob: dict[str, list[int]], path: str) -> int | None:
        """The knob's value for `path` if it still applies to this request (and count it)."""
        with self.lock:
            entry = knob.get(path)
            if not entry or entry[1] == 0:
                return None
            if entry[1] > 0:
                entry[1] -= 1
            return entry[0]

    def record(self, rec: RequestRecord) -> None:
        with self.lock:
            self.records.append(rec)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up is normal here (tests drop connections): log, don't print."""
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """Request handler: files with ranges, package_show, and the injected failures."""

    protocol_version = "HTTP/1.1"
    timeout = 10
    server: FileServer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def do_POST(self) -> None:
        """Accept a posted body (a webhook): recorded, answered 200 `ok` or an injected error."""
        path = _norm(unquote(urlsplit(self.path).path))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._record = RequestRecord(path, "POST", None, None, status=0, sent=0, body=body)
        self.server.record(self._record)
        error = self.server.take(self.server.knobs.errors, path)
        status, answer = (error, b"server error\n") if error is not None else (200, b"ok")
        self._reply(status, answer, "text/plain")

    def _handle(self, send_body: bool) -> None:
        parts = urlsplit(self.path)
        path = _norm(unquote(parts.path))
        self._record = RequestRecord(
            path=path,
            method=self.command,
            range=self.headers.get("Range"),
            if_range=self.headers.get("If-Range"),
            status=0,
            sent=0,
        )
        self.server.record(self._record)
        self._dispatch(path, parts.query, send_body)

    def _dispatch(self, path: str, query: str, send_body: bool) -> None:
        knobs = self.server.knobs
        error = self.server.take(knobs.errors, path)
        if error is not None:
            self._reply(error, b"server error\n", "text/plain", send_body=send_body)
        elif self.command == "HEAD" and path in knobs.no_head:
            self._reply(405, b"", "text/plain", send_body=False)
        elif path in knobs.html:
            self._reply(200, HTML_PAGE, "text/html; charset=utf-8", send_body=send_body)
        elif path == PACKAGE_SHOW:
            self._package_show(query, send_body)
        else:
            target = (self.server.directory / path.lstrip("/")).resolve()
            if target.is_relative_to(self.server.directory) and target.is_file():
                self._file(path, target, send_body)
            else:
                self._reply(404, b"not found\n", "text/plain", send_body=send_body)

    def _package_show(self, query: str, send_body: bool) -> None:
        package_id = (parse_qs(query).get("id") or [""])[0]
        known = self.server.known_packages
        own = self.server.directory / f"{package_id}.json"
        source = own if package_id and own.is_file() else self.server.directory / "package.json"
        if (known is not None and package_id not in known) or not source.is_file():
            body = {"success": False, "error": {"message": "Not found", "__type": "Not Found"}}
            self._reply(404, json.dumps(body).encode(), "application/json", send_body=send_body)
            return
        self._reply(200, source.read_bytes(), "application/json", send_body=send_body)

    def _file(self, path: str, target: Path, send_body: bool) -> None:
        data = target.read_bytes()
        stat = target.stat()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified, "Accept-Ranges": "bytes"}
        start, end = 0, len(data) - 1
        status = 200
        wanted = self._wanted_range(path, len(data), etag, modified)
        if wanted == "unsatisfiable":
            headers["Content-Range"] = f"bytes */{len(data)}"
            self._reply(416, b"", "text/plain", headers, send_body)
            return
        if wanted is not None:
            start, end = wanted
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        body = data[start : end + 1]
        drop = self.server.take(self.server.knobs.drops, path)
        self._reply(status, body, "text/csv", headers, send_body, drop)

    def _wanted_range(
        self, path: str, size: int, etag: str, modified: str
    ) -> tuple[int, int] | str | None:
        """The byte range to send, 'unsatisfiable', or None for the whole file."""
        knobs = self.server.knobs
        header = self.headers.get("Range")
        if not header or knobs.ignore_range_all or path in knobs.ignore_range:
            return None
        if_range = self.headers.get("If-Range")
        if if_range and if_range not in (etag, modified):
            return None
        match = _RANGE.match(header.strip())
        if not match or match.groups() == ("", ""):
            return None
        first, last = match.groups()
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        if start >= size or start > end:
            return "unsatisfiable"
        return start, end

    def _reply(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        send_body: bool = True,
        drop_after: int | None = None,
    ) -> None:
        """Send status, headers and body (or only its first `drop_after` bytes, then hang up)."""
        sent = len(body) if drop_after is None else min(drop_after, len(body))
        sent = sent if send_body else 0
        with self.server.lock:  # recorded before the client can see the answer
            self._record.status, self._record.sent = status, sent
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not send_body:
            return
        self.wfile.write(body[:sent])
        if sent < len(body):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True


def _norm(path: str) -> str:
    return "/" + path.lstrip("/")


@contextmanager
def http_server(directory: Path, known_packages: set[str] | None = None) -> Iterator[FileServer]:
    """A running `FileServer` for `directory`, shut down when the block ends."""
    server = FileServer(directory, known_packages).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def serve() -> Iterator:
    """Start servers with `serve(directory, ...)`; all are shut down at the end of the test."""
    servers: list[FileServer] = []

    def start(directory: Path, known_packages: set[str] | None = None) -> FileServer:
        server = FileServer(directory, known_packages).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
