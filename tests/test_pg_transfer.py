"""COPY between DuckDB and PostgreSQL keeps every value exactly, whichever way the bytes go."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import psycopg
import pytest
from psycopg import sql

from data_layer.pg.transfer import copy_query_to_table, copy_table_to_duckdb

#: Strings that break naive CSV, text COPY or SQL quoting; NUL is not storable in Postgres.
HOSTILE = (
    'O\'Brien said "stop", then left',
    "back\\slash, \\N and \\\\",
    "\\N",
    "\\.",
    "tab\there",
    "line one\nline two",
    "windows\r\nline",
    "carriage\rreturn",
    "  leading and trailing  ",
    ",starts with a comma",
    '"',
    '""',
    "",
    "NULL",
    "NA",
    "unicode: é ß 漢字 🌊 ✓ \u200b",
    "semi;colon|pipe",
)


@pytest.fixture
def duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE src (n INTEGER, s VARCHAR, d DECIMAL(18,6), day DATE, b BOOLEAN)")
    rows = [
        (i, s, Decimal("1.5") * i, dt.date(2024, 1, 1 + i), i % 2 == 0)
        for i, s in enumerate(HOSTILE)
    ]
    rows.append((len(HOSTILE), None, None, None, None))
    con.executemany("INSERT INTO src VALUES (?, ?, ?, ?, ?)", rows)
    yield con
    con.close()


@pytest.mark.parametrize("via_pipe", [True, False], ids=["pipe", "arrow"])
def test_hostile_values_reach_postgres_exactly(pg_url: str, duck, via_pipe: bool):
    with psycopg.connect(pg_url) as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE dst (n integer, s text, d numeric(18,6), day date, b boolean)")
        rows = copy_query_to_table(
            duck,
            "SELECT n, s, d, day, b FROM src",
            {},
            cur,
            sql.Identifier("dst"),
            ["n", "s", "d", "day", "b"],
            via_pipe=via_pipe,
        )
        got = cur.execute("SELECT n, s, d, day, b FROM dst ORDER BY n").fetchall()
    expected = duck.execute("SELECT n, s, d, day, b FROM src ORDER BY n").fetchall()
    assert rows == len(HOSTILE) + 1
    assert got == expected
    assert got[HOSTILE.index("")][1] == "" and got[-1][1] is None, "empty string is not NULL"


def test_hostile_values_come_back_from_postgres_exactly(pg_url: str):
    duck = duckdb.connect()
    with psycopg.connect(pg_url) as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE src (n integer, s text)")
        cur.executemany("INSERT INTO src VALUES (%s, %s)", list(enumerate((*HOSTILE, None))))
        count = copy_table_to_duckdb(
            cur,
            sql.SQL("SELECT n, s FROM src"),
            duck,
            "back",
            {"n": "INTEGER", "s": "VARCHAR"},
        )
    got = duck.execute("SELECT n, s FROM back ORDER BY n").fetchall()
    assert count == len(HOSTILE) + 1
    assert got == list(enumerate((*HOSTILE, None)))


def test_a_failing_query_stops_the_copy_cleanly(pg_url: str, duck):
    with psycopg.connect(pg_url) as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE dst (n integer)")
        with pytest.raises(duckdb.Error, match="boom"):
            copy_query_to_table(
                duck,
                "SELECT CASE WHEN n > 3 THEN error('boom') ELSE n END AS n FROM src",
                {},
                cur,
                sql.Identifier("dst"),
                ["n"],
            )


def test_a_refused_row_stops_duckdb_too(pg_url: str, duck):
    with psycopg.connect(pg_url) as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE dst (n integer CHECK (n < 3))")
        with pytest.raises(psycopg.errors.CheckViolation):
            copy_query_to_table(
                duck,
                "SELECT n FROM range(2000000) t(n)",
                {},
                cur,
                sql.Identifier("dst"),
                ["n"],
            )
    assert duck.execute("SELECT 1").fetchall() == [(1,)]
