"""Throwaway PostgreSQL databases for tests: one server, a fresh database per request.

The server is `STORMWATER_TEST_PG_URL` or the local one on 127.0.0.1:5432. Without a
reachable server the tests skip with the reason — except under `CI=true`, where a real
database is required and its absence fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("STORMWATER_TEST_PG_URL", DEFAULT_SERVER)


def _reachable(url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The server's admin URL; skips (or fails under CI=true) when it cannot be reached."""
    url = server_url()
    problem = _reachable(url)
    if problem:
        message = f"PostgreSQL not reachable at {make_url(url).render_as_string()}: {problem}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def make_pg_database(pg_server: str) -> Iterator[Callable[[], str]]:
    """A factory: each call creates an empty database and returns its URL; all dropped at end."""
    created: list[str] = []

    def make() -> str:
        name = f"sw_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return make_url(pg_server).set(database=name).render_as_string(hide_password=False)

    yield make
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def pg_url(make_pg_database: Callable[[], str]) -> str:
    """A fresh, empty database for one test (SQLAlchemy/psycopg-style `postgresql://` URL)."""
    return make_pg_database()
