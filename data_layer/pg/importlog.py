"""`smarts_import_logs`: one row per synced table per run, running → completed or failed.

The running rows are committed at once on a separate connection, so a sync in progress is
visible while it works. Completion is written inside the sync's own transaction (it
commits with the data, or not at all); failure is written from the separate connection
after the sync's transaction has rolled back. A run killed outright leaves `running` rows;
the next run, which can only start once the killed one's lock is gone, marks them failed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg
from psycopg import sql

from data_layer.pg.plan import TablePlan
from data_layer.pg.schema import smarts_import_logs

LOGS = sql.Identifier(smarts_import_logs.name)
RUNNING, COMPLETED, FAILED = "running", "completed", "failed"


def close_stale(conn: psycopg.Connection[Any], now: dt.datetime) -> int:
    """Mark rows left `running` by a run that died as failed; how many there were."""
    cur = conn.execute(
        sql.SQL(
            'UPDATE {} SET status = %s, "completedAt" = %s, errors = %s WHERE status = %s'
        ).format(LOGS),
        [
            FAILED,
            now,
            json.dumps([{"message": "interrupted: the sync stopped before finishing"}]),
            RUNNING,
        ],
    )
    return cur.rowcount


def open_run(
    conn: psycopg.Connection[Any], tables: Iterable[str], now: dt.datetime, notes: str
) -> dict[str, str]:
    """One `running` row per table, committed now; returns table → log id."""
    ids = {t: uuid.uuid4().hex for t in tables}
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL(
                'INSERT INTO {} (id, "dataType", "startedAt", status, notes)'
                " VALUES (%s, %s, %s, %s, %s)"
            ).format(LOGS),
            [(log_id, table, now, RUNNING, notes) for table, log_id in ids.items()],
        )
    return ids


def complete(
    cur: psycopg.Cursor[Any],
    ids: Mapping[str, str],
    plans: Mapping[str, TablePlan],
    now: dt.datetime,
    notes: str,
) -> None:
    """Mark each table's row completed with its counts (inside the sync's transaction)."""
    statement = sql.SQL(
        'UPDATE {} SET status = %s, "completedAt" = %s, "recordsProcessed" = %s,'
        ' "recordsCreated" = %s, "recordsUpdated" = %s, "recordsSkipped" = %s, notes = %s'
        " WHERE id = %s"
    ).format(LOGS)
    for table, log_id in ids.items():
        p = plans[table]
        cur.execute(
            statement,
            [
                COMPLETED,
                now,
                p.rows_in,
                p.created,
                p.updated,
                p.skipped,
                f"{notes}; {p.deleted:,} removed; {p.findings:,} findings",
                log_id,
            ],
        )


def fail(
    conn: psycopg.Connection[Any], ids: Mapping[str, str], now: dt.datetime, message: str
) -> None:
    """Mark every row of the run failed with the (password-free) reason."""
    conn.execute(
        sql.SQL(
            'UPDATE {} SET status = %s, "completedAt" = %s, errors = %s WHERE id = ANY(%s)'
        ).format(LOGS),
        [FAILED, now, json.dumps([{"message": message}]), list(ids.values())],
    )
