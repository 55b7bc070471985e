"""The platform's side of a test database: an `esmr_facilities` table with rows, and fingerprints.

`esmr_facilities` stands for the eSMR tables the platform already has (its columns as in
`reference/postgres_tables.md`). A fingerprint captures a table's definition and its rows
down to their physical position and writing transaction, so "untouched" can be checked
exactly; `schema_objects` lists every object a migration could have left behind.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import psycopg

ESMR_FACILITIES_DDL = """
CREATE TABLE esmr_facilities (
    "facilityPlaceId" integer PRIMARY KEY,
    "facilityName" text NOT NULL,
    "regionCode" text,
    latitude numeric(9,6),
    longitude numeric(9,6),
    "receivingWaterBody" text,
    "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamp(3) NOT NULL
)
"""

ESMR_ROWS: tuple[tuple[Any, ...], ...] = (
    (1001, "Hyperion WRP", "4", 33.925, -118.43, "Santa Monica Bay"),
    (1002, 'O\'Brien "East" \\ Plant\tNo. 2', "5S", 38.5, -121.5, None),
    (1003, "Tahoe–Truckee SD\nplant", "6A", None, None, "Truckee River"),
)


def create_esmr_facilities(url: str, rows: tuple[tuple[Any, ...], ...] = ESMR_ROWS) -> None:
    """Create the platform's `esmr_facilities` with `rows` (place id, name, region, ...)."""
    with psycopg.connect(url) as conn:
        conn.execute(ESMR_FACILITIES_DDL)
        with conn.cursor() as cur:
            cur.executemany(
                'INSERT INTO esmr_facilities ("facilityPlaceId", "facilityName", "regionCode",'
                ' latitude, longitude, "receivingWaterBody", "updatedAt")'
                " VALUES (%s, %s, %s, %s, %s, %s, '2024-05-01 12:00:00')",
                rows,
            )


def table_fingerprint(url: str, table: str) -> dict[str, Any]:
    """Columns, constraints, indexes, privileges and every row with its ctid and xmin."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default, ordinal_position"
            " FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        ).fetchall()
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass ORDER BY conname",
            [table],
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [table]
        ).fetchall()
        acl = conn.execute("SELECT relacl::text FROM pg_class WHERE oid = %s::regclass", [table])
        rows = conn.execute(
            f'SELECT ctid::text, xmin::text, t::text FROM "{table}" t ORDER BY ctid'
        ).fetchall()
    return {
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
        "acl": acl.fetchall(),
        "rows": rows,
    }


def schema_objects(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every relation, type and schema outside the system catalogs."""
    with psycopg.connect(url) as conn:
        relations = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg_toast%%' ORDER BY 1, 2"
        ).fetchall()
        types = conn.execute(
            "SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n"
            " ON n.oid = t.typnamespace WHERE n.nspname NOT IN ('pg_catalog',"
            " 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%' ORDER BY 1, 2"
        ).fetchall()
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%%'"
            " AND nspname <> 'information_schema' ORDER BY 1"
        ).fetchall()
    return {"relations": relations, "types": types, "schemas": schemas}


def schema_dump(url: str) -> str | None:
    """`pg_dump --schema-only` of the database (None without pg_dump on PATH)."""
    if shutil.which("pg_dump") is None:
        return None
    out = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # pg_dump 17+ wraps the dump in \restrict with a random key on every run
    return "\n".join(
        x for x in out.splitlines() if not x.startswith(("\\restrict", "\\unrestrict"))
    )
