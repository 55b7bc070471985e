"""PostgreSQL addresses are shown with the password hidden, in every form libpq takes."""

from __future__ import annotations

import pytest

from data_layer.errors import PostgresError
from data_layer.pg.urls import libpq_url, redact, scrub, sqlalchemy_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ana:s3cr%40t@db:5432/platform", "postgresql://ana:***@db:5432/platform"),
        ("postgresql+psycopg://ana:pw@db/platform", "postgresql+psycopg://ana:***@db/platform"),
        ("postgresql://ana@db/platform", "postgresql://ana@db/platform"),
        ("host=db user=ana password=s3cret dbname=x", "host=db user=ana password=*** dbname=x"),
        ("host=db password='two words' dbname=x", "host=db password=*** dbname=x"),
    ],
)
def test_redact_hides_the_password(url: str, shown: str):
    assert redact(url) == shown


def test_scrub_removes_a_password_echoed_in_a_message():
    url = "postgresql://ana:hunter2@db/platform"
    assert scrub("FATAL: role ana with hunter2 refused", url) == "FATAL: role ana with *** refused"


def test_driver_forms():
    assert libpq_url("postgresql+psycopg://a:b@h/d") == "postgresql://a:b@h/d"
    assert sqlalchemy_url("postgresql://a:b@h/d") == "postgresql+psycopg://a:b@h/d"
    with pytest.raises(PostgresError, match="as a URL"):
        sqlalchemy_url("host=db dbname=x")
