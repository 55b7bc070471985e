"""PostgreSQL URLs: the forms each driver wants, and a form safe to print.

Credentials come only from the environment or the URL itself; anything that reaches a
log line or an error message goes through `redact` (or `scrub` for a driver's message).
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from data_layer.errors import PostgresError

_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def _parse(url: str) -> URL | None:
    try:
        return make_url(url)
    except ArgumentError:
        return None


def redact(url: str) -> str:
    """The URL with its password hidden (`postgresql://user:***@host/db`)."""
    parsed = _parse(url)
    if parsed is None:
        return _KEYWORD_PASSWORD.sub(r"\1***", url)
    return parsed.render_as_string(hide_password=True)


def scrub(message: str, url: str) -> str:
    """A driver's message with the URL's password (if any) replaced by `***`."""
    parsed = _parse(url)
    password = parsed.password if parsed is not None else None
    if password:
        message = message.replace(str(password), "***")
    return _KEYWORD_PASSWORD.sub(r"\1***", message)


def libpq_url(url: str) -> str:
    """The URL as psycopg (libpq) takes it: `postgresql://...` without a driver suffix."""
    parsed = _parse(url)
    if parsed is None:
        return url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def sqlalchemy_url(url: str) -> str:
    """The URL as SQLAlchemy takes it, on the psycopg 3 driver (the one installed)."""
    parsed = _parse(url)
    if parsed is None:
        raise PostgresError("give the PostgreSQL address as a URL: postgresql://user@host/db")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
