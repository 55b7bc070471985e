"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for alert tests.

Optional login (any mechanism aiosmtpd offers, checked against one user and password) and
STARTTLS with a throwaway self-signed certificate made by `openssl` for 127.0.0.1.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    """One accepted message with its envelope and whether it came over TLS."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it by name
        message = message_from_bytes(envelope.content, policy=policy.default)
        tls = session.ssl is not None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, tls))
        return "250 Message accepted"


class MailServer:
    """A running aiosmtpd controller and what it received."""

    def __init__(self, user: str | None, password: str | None, tls: ssl.SSLContext | None):
        self.handler = _Handler()
        self.port = _free_port()
        options: dict[str, object] = {}
        if user is not None:
            options |= {"authenticator": self._check, "auth_require_tls": tls is not None}
        if tls is not None:
            options |= {"tls_context": tls, "require_starttls": True}
        self._user, self._password = user, password
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    def _check(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (self._user, self._password)
        if ok:
            self.handler.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def url(self, userinfo: str = "") -> str:
        return f"smtp://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1; skips the test when `openssl` is not installed."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed, so no certificate for the STARTTLS test")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def mail_server(
    user: str | None = None, password: str | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[MailServer]:
    """A running `MailServer` (login required when `user` is given), stopped when the block ends."""
    server = MailServer(user, password, tls)
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()
