"""The migration on a real PostgreSQL that already holds the platform's eSMR rows.

It adds our tables beside them without touching them, does nothing the second time, and
its downgrade leaves the database exactly as it found it.
"""

from __future__ import annotations

import psycopg
import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import create_engine, pool

from cli import cli
from data_layer.errors import PostgresError
from data_layer.pg.migrate import _config, migrate
from data_layer.pg.schema import EXTERNAL_TABLES, metadata
from data_layer.pg.urls import sqlalchemy_url
from tests.platform_db import (
    create_esmr_facilities,
    schema_dump,
    schema_objects,
    table_fingerprint,
)

OUR_TABLES = sorted(n for n in metadata.tables if n not in EXTERNAL_TABLES)


@pytest.fixture
def platform_url(pg_url: str) -> str:
    """A database holding the platform's esmr_facilities with three rows."""
    create_esmr_facilities(pg_url)
    return pg_url


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_upgrade_adds_every_table_and_leaves_esmr_rows_byte_for_byte(platform_url: str):
    before = table_fingerprint(platform_url, "esmr_facilities")
    result = migrate(platform_url)
    assert result.changed and result.after == "0001"
    assert set(OUR_TABLES) <= _tables(platform_url)
    assert table_fingerprint(platform_url, "esmr_facilities") == before
    with psycopg.connect(platform_url) as conn:
        labels = conn.execute(
            "SELECT array_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum"
            " WHERE enumtypid = 'link_method'::regtype"
        ).fetchall()[0][0]
    assert labels == ["DIRECT", "FUZZY", "MANUAL", "UNLINKED"]


def test_columns_are_the_prisma_names(platform_url: str):
    migrate(platform_url)
    with psycopg.connect(platform_url) as conn:
        cols = conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'smarts_monitoring_samples' ORDER BY ordinal_position"
        ).fetchall()
        unique = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'smarts_monitoring_samples'::regclass AND contype = 'u'"
        ).fetchall()
    names = [c[0] for c in cols]
    assert names[:6] == ["id", "reportWdid", "reportAppId", "reportId", "sampleId", "sampleDate"]
    assert "percentOfTotalDischarge" in names and names[-1] == "createdAt"
    assert unique == [
        ('UNIQUE ("reportWdid", "reportAppId", "reportId", "sampleId", parameter, "sampleDate")',)
    ]


def test_second_upgrade_is_a_no_op(platform_url: str):
    migrate(platform_url)
    ours = {t: table_fingerprint(platform_url, t) for t in OUR_TABLES}
    objects = schema_objects(platform_url)
    result = migrate(platform_url)
    assert not result.changed and result.before == result.after == "0001"
    assert {t: table_fingerprint(platform_url, t) for t in OUR_TABLES} == ours
    assert schema_objects(platform_url) == objects


def test_downgrade_removes_only_what_upgrade_added(platform_url: str):
    esmr = table_fingerprint(platform_url, "esmr_facilities")
    objects, dump = schema_objects(platform_url), schema_dump(platform_url)
    migrate(platform_url)
    result = migrate(platform_url, downgrade=True)
    assert result.before == "0001" and result.after is None
    assert schema_objects(platform_url) == objects
    assert schema_dump(platform_url) == dump
    assert table_fingerprint(platform_url, "esmr_facilities") == esmr


def test_upgrade_downgrade_upgrade(platform_url: str):
    migrate(platform_url)
    migrate(platform_url, downgrade=True)
    assert not set(OUR_TABLES) & _tables(platform_url)
    assert migrate(platform_url).after == "0001"
    assert set(OUR_TABLES) <= _tables(platform_url)


def test_models_and_migration_agree(platform_url: str):
    """Autogenerate finds nothing to add: the metadata the sync reads is what was migrated."""
    migrate(platform_url)
    engine = create_engine(sqlalchemy_url(platform_url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        command.check(_config(conn))
    engine.dispose()


def test_unreachable_server_is_one_line_without_the_password():
    url = "postgresql://stormwater:s3cret-pw@127.0.0.1:1/platform"
    with pytest.raises(PostgresError) as err:
        migrate(url)
    message = str(err.value)
    assert "s3cret-pw" not in message and "***" in message
    assert "\n" not in message


def test_cli_migrate_twice_then_downgrade(platform_url: str):
    runner = CliRunner()
    first = runner.invoke(cli, ["migrate", "--pg", platform_url])
    assert first.exit_code == 0, first.output
    assert "migrated from none to 0001" in first.stdout
    second = runner.invoke(cli, ["migrate", "--pg", platform_url])
    assert "nothing to do" in second.stdout
    down = runner.invoke(cli, ["migrate", "--pg", platform_url, "--downgrade"])
    assert down.exit_code == 0 and "to none" in down.stdout


def test_cli_without_a_database_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("STORMWATER_PG_URL", raising=False)
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: No PostgreSQL given — pass --pg URL or set STORMWATER_PG_URL."
    ]


def test_cli_bad_password_is_hidden(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STORMWATER_PG_URL", "postgresql://u:hunter2@127.0.0.1:1/x")
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
