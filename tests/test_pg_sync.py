"""The store → PostgreSQL sync against a real server, on the tiny store and a week's changes.

Full load counts equal the store's; a second run writes nothing; a changed, added or
removed source row reaches Postgres; readers during a sync see the old or the new data and
never wait; a killed run, a dropped connection or a violated constraint leave Postgres as
it was, and the next run completes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from data_layer.connection import StoreConnection, open_store
from data_layer.errors import PostgresError, StoreMissing
from data_layer.pg.migrate import migrate
from data_layer.pg.sync import ADVISORY_LOCK, sync
from data_layer.store import Store, store_at
from tests.platform_db import create_esmr_facilities
from tests.sync_sources import DATA_TABLES, TOTALS, content, physical, republished, totals
from tests.test_pg_transfer import HOSTILE

ROOT = Path(__file__).resolve().parents[1]
NEW_DESCRIPTION = "Updated after the inspector's second visit"


def _edit_week(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Violations: the first changed, the last removed."""
    rows[0]["DESCRIPTION"] = NEW_DESCRIPTION
    return rows[:-1]


def _edit_result(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    rows[0]["RESULT"] = "987.654321"
    return rows


@pytest.fixture
def platform(make_pg_database: Callable[[], str]) -> Callable[[], str]:
    """A factory of migrated platform databases (esmr_facilities with three rows)."""

    def make() -> str:
        url = make_pg_database()
        create_esmr_facilities(url)
        migrate(url)
        return url

    return make


@pytest.fixture(scope="module")
def week_store(
    tiny_store: Store, tiny_source: Path, tmp_path_factory: pytest.TempPathFactory
) -> Store:
    """`tiny_store` after a week: one violation changed, one removed, one result changed."""
    return republished(
        tiny_store,
        tiny_source,
        tmp_path_factory.mktemp("week"),
        ("violations.csv", _edit_week),
        ("industrial_monitoring.csv", _edit_result),
    )


@pytest.fixture
def opened() -> Iterator[Callable[[Store], StoreConnection]]:
    """Open stores for reading; all closed at the end of the test."""
    conns: list[StoreConnection] = []

    def open_(store: Store) -> StoreConnection:
        conns.append(open_store(store.root, memory_limit="1GB"))
        return conns[-1]

    yield open_
    for conn in conns:
        conn.close()


def _store_counts(conn: StoreConnection) -> dict[str, int]:
    cur = conn.cursor()
    queries = {
        "smarts_facilities": "SELECT (SELECT count(*) FROM stg_smarts__industrial_facilities)"
        " + (SELECT count(*) FROM stg_smarts__construction_facilities)",
        "smarts_violations": "SELECT count(*) FROM stg_smarts__violations",
        "smarts_enforcement_actions": "SELECT count(*) FROM stg_smarts__enforcement_actions",
        "smarts_inspections": "SELECT count(*) FROM stg_smarts__inspections",
        "smarts_inspection_violation_links": "SELECT count(*) FROM stg_smarts__violations"
        " WHERE violation_source = 'Inspection'",
        "smarts_monitoring_reports": "SELECT count(DISTINCT (wdid, app_id, report_id)) FROM"
        " (SELECT wdid, app_id, report_id FROM stg_smarts__industrial_monitoring UNION ALL"
        " SELECT wdid, app_id, report_id FROM stg_smarts__construction_monitoring)",
        "smarts_monitoring_samples": "SELECT (SELECT count(*) FROM"
        " stg_smarts__industrial_monitoring)"
        " + (SELECT count(*) FROM stg_smarts__construction_monitoring)",
    }
    return {t: cur.execute(q).fetchall()[0][0] for t, q in queries.items()}


def _pg_counts(url: str, tables: list[str]) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def _logs(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            'SELECT "dataType", status, "recordsProcessed", "recordsCreated", "recordsUpdated",'
            ' "recordsSkipped", errors FROM smarts_import_logs ORDER BY "startedAt", "dataType"'
        ).fetchall()


def test_full_sync_counts_equal_store_counts(platform, tiny_store, opened):
    url = platform()
    conn = opened(tiny_store)
    report = sync(conn, url)
    assert report.mode == "full" and report.reason == "first sync"
    expected = _store_counts(conn)
    assert _pg_counts(url, list(expected)) == expected
    assert all(v > 0 for v in expected.values())
    by_table = {t.table: t for t in report.tables}
    for table, rows in expected.items():
        assert by_table[table].created == rows and by_table[table].skipped == 0
    logs = _logs(url)
    assert {row[1] for row in logs} == {"completed"}
    assert {row[0] for row in logs} >= set(expected)
    assert "postgresql://" in report.line() and "rows written" in report.line()


def test_every_sample_flag_and_facility_without_coordinates_is_a_finding(
    platform, tiny_store, opened
):
    url = platform()
    conn = opened(tiny_store)
    report = sync(conn, url)
    cur = conn.cursor()
    no_coords = cur.execute(
        "SELECT (SELECT count(*) FROM stg_smarts__industrial_facilities"
        " WHERE facility_latitude IS NULL OR facility_longitude IS NULL)"
        " + (SELECT count(*) FROM stg_smarts__construction_facilities"
        " WHERE site_latitude IS NULL OR site_longitude IS NULL)"
    ).fetchall()[0][0]
    with psycopg.connect(url) as pg:
        found = dict(
            pg.execute("SELECT issue, count(*) FROM data_quality_issues GROUP BY issue").fetchall()
        )
        orphans = pg.execute(
            'SELECT count(*) FROM data_quality_issues d WHERE d."table" ='
            " 'smarts_monitoring_samples' AND NOT EXISTS (SELECT 1 FROM"
            ' smarts_monitoring_samples s WHERE s.id = d."recordId")'
        ).fetchall()[0][0]
    assert found.get("MISSING_COORDS", 0) == no_coords > 0
    assert report.findings == sum(found.values())
    assert orphans == 0, "sample findings must point at the sample rows"


def test_second_sync_writes_nothing(platform, tiny_store, opened):
    url = platform()
    conn = opened(tiny_store)
    sync(conn, url)
    before = {
        t: physical(url, t)
        for t in ("smarts_facilities", "smarts_monitoring_samples", "smarts_sync_state")
    }
    state = content(url)
    report = sync(conn, url)
    assert report.mode == "delta"
    assert report.total("created") + report.total("updated") + report.total("deleted") == 0
    assert {t: physical(url, t) for t in before} == before
    assert content(url) == state
    assert [row[1] for row in _logs(url)].count("completed") == 2 * len(report.tables)


def test_a_changed_source_row_is_updated_and_a_removed_one_deleted(
    platform, tiny_store, week_store, opened
):
    url = platform()
    sync(opened(tiny_store), url)
    with psycopg.connect(url) as pg:
        first = pg.execute(
            'SELECT id, "createdAt", "updatedAt" FROM smarts_violations'
            ' ORDER BY "occurrenceDate", id'
        ).fetchall()
    week = opened(week_store)
    report = sync(week, url)
    by_table = {t.table: t for t in report.tables}
    assert by_table["smarts_violations"].updated >= 1
    assert by_table["smarts_violations"].deleted == 1
    assert by_table["smarts_monitoring_samples"].updated == 1
    assert _pg_counts(url, ["smarts_violations"]) == {
        "smarts_violations": _store_counts(week)["smarts_violations"]
    }
    with psycopg.connect(url) as pg:
        changed = pg.execute(
            'SELECT id, "createdAt", "updatedAt" FROM smarts_violations WHERE description = %s',
            [NEW_DESCRIPTION],
        ).fetchall()
        result = pg.execute(
            "SELECT count(*) FROM smarts_monitoring_samples WHERE result = 987.654321"
        ).fetchall()[0][0]
    assert len(changed) == 1
    created = {row[0]: row[1] for row in first}
    assert changed[0][1] == created[changed[0][0]], "createdAt is kept on update"
    assert changed[0][2] > changed[0][1], "updatedAt moves on update"
    assert result == 1
    again = sync(week, url)
    assert again.total("created") + again.total("updated") + again.total("deleted") == 0


@pytest.mark.parametrize("full", [False, True], ids=["delta", "full"])
def test_readers_see_old_or_new_never_a_mix_and_never_wait(
    platform, tiny_store, week_store, opened, full
):
    url = platform()
    sync(opened(tiny_store), url)
    old = totals(url)
    week = opened(week_store)
    week.cursor().close()  # views built before the clock starts
    seen: list[tuple[Any, ...]] = []
    waits: list[float] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                while not stop.is_set():
                    started = time.perf_counter()
                    seen.append(tuple(conn.execute(TOTALS).fetchall()[0]))
                    waits.append(time.perf_counter() - started)
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.3)
    during = len(seen)
    sync(week, url, full=full)
    during = len(seen) - during
    time.sleep(0.3)
    stop.set()
    reader.join()
    new = totals(url)
    assert not errors
    assert old != new
    assert set(seen) <= {old, new}, "a reader saw a mix of old and new rows"
    assert seen[0] == old and seen[-1] == new
    assert during >= 5, "the reader should have run throughout the sync"
    assert max(waits) < 1.0, f"a reader waited {max(waits):.2f} s"


KILLED_SYNC = """
import sys, time
from data_layer.connection import open_store
from data_layer.pg.sync import sync

class Stall:
    def __init__(self, label, total):
        pass
    def advance(self, rows):
        print("COPYING", flush=True)
        time.sleep(120)
    def finish(self, note="done"):
        pass

sync(open_store(sys.argv[1]), sys.argv[2], progress=Stall)
"""


def test_a_killed_sync_leaves_postgres_as_it_was_and_the_next_run_completes(
    platform, tiny_store, week_store, opened
):
    url = platform()
    sync(opened(tiny_store), url)
    before = content(url)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_SYNC, str(week_store.root), url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "COPYING"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    time.sleep(0.5)  # the server notices the dead client and rolls back
    assert content(url) == before
    assert "running" in [row[1] for row in _logs(url)]
    report = sync(opened(week_store), url)
    assert report.mode == "delta"
    statuses = [row[1] for row in _logs(url)]
    assert "running" not in statuses
    interrupted = [row for row in _logs(url) if row[1] == "failed"]
    assert interrupted and all("interrupted" in json.dumps(row[6]) for row in interrupted)
    assert totals(url) != before


def test_a_dropped_connection_leaves_postgres_as_it_was(platform, tiny_store, week_store, opened):
    url = platform()
    sync(opened(tiny_store), url)
    before = content(url)

    class DropConnection:
        def __init__(self, label: str, total: int | None) -> None:
            pass

        def advance(self, rows: float) -> None:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'stormwater-sync' AND datname = current_database()"
                )

        def finish(self, note: str = "done") -> None:
            pass

    with pytest.raises(PostgresError) as err:
        sync(opened(week_store), url, progress=DropConnection)
    assert "nothing written" in str(err.value) and "\n" not in str(err.value)
    assert content(url) == before
    failed = [row for row in _logs(url) if row[1] == "failed"]
    assert failed and all(row[6] for row in failed)
    report = sync(opened(week_store), url)
    assert report.total("updated") >= 2


def test_a_violated_constraint_rolls_everything_back(platform, tiny_store, week_store, opened):
    url = platform()
    sync(opened(tiny_store), url)
    with psycopg.connect(url) as pg:
        check = psycopg.sql.SQL(
            "ALTER TABLE smarts_violations ADD CONSTRAINT no_update CHECK (description <> {})"
        ).format(NEW_DESCRIPTION)
        pg.execute(check)
    before = content(url)
    with pytest.raises(PostgresError) as err:
        sync(opened(week_store), url)
    assert "no_update" in str(err.value)
    assert content(url) == before
    with psycopg.connect(url) as pg:
        pg.execute("ALTER TABLE smarts_violations DROP CONSTRAINT no_update")
    assert sync(opened(week_store), url).total("deleted") >= 1


def test_only_one_sync_at_a_time(platform, tiny_store, opened):
    url = platform()
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK])
        with pytest.raises(PostgresError, match="another sync is running"):
            sync(opened(tiny_store), url)
    assert _logs(url) == []


def test_an_unmigrated_database_says_to_migrate(make_pg_database, tiny_store, opened):
    with pytest.raises(PostgresError, match="run `python cli.py migrate` first"):
        sync(opened(tiny_store), make_pg_database())


def test_an_empty_store_never_empties_postgres(platform, tmp_path, opened):
    with pytest.raises(StoreMissing, match="refresh"):
        sync(opened(store_at(tmp_path / "empty")), platform())


#: Carriage returns inside a value stop the loader's CSV reader, so the export never has them.
LOADABLE = tuple(h for h in HOSTILE if "\r" not in h)


def _hostile(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    for row, text in zip(rows, LOADABLE, strict=False):
        row["DESCRIPTION"] = text
        row["MEMO"] = text[::-1]
        row["PLACE_NAME"] = f"{text}|{text}"
    return rows


@pytest.fixture(scope="module")
def hostile_store(
    tiny_store: Store, tiny_source: Path, tmp_path_factory: pytest.TempPathFactory
) -> Store:
    """`tiny_store` whose violations carry quotes, backslashes, tabs, newlines, `\\N`, unicode."""
    return republished(
        tiny_store, tiny_source, tmp_path_factory.mktemp("hostile"), ("violations.csv", _hostile)
    )


@pytest.mark.parametrize("first", ["empty", "tiny"], ids=["full load", "delta"])
def test_hostile_strings_round_trip_exactly(platform, tiny_store, hostile_store, opened, first):
    url = platform()
    if first == "tiny":
        sync(opened(tiny_store), url)
    conn = opened(hostile_store)
    report = sync(conn, url)
    assert report.mode == ("delta" if first == "tiny" else "full")
    store_rows = (
        conn.cursor()
        .execute(
            "SELECT violation_id, description, memo, place_name FROM stg_smarts__violations"
            " ORDER BY violation_id"
        )
        .fetchall()
    )
    with psycopg.connect(url) as pg:
        pg_rows = pg.execute(
            'SELECT "violationId", description, memo, "placeName" FROM smarts_violations'
            ' ORDER BY "violationId"'
        ).fetchall()
    assert pg_rows == store_rows
    kept = {row[1] for row in store_rows} & set(LOADABLE)
    assert len(kept) >= len(LOADABLE) - 4, f"the store kept only {sorted(kept)}"


def _facility_keys(conn: StoreConnection, n: int) -> list[tuple[str, str]]:
    return (
        conn.cursor()
        .execute(
            "SELECT wdid, app_id FROM stg_smarts__industrial_facilities ORDER BY wdid LIMIT ?", [n]
        )
        .fetchall()
    )


def test_facility_links_follow_the_decisions(platform, tiny_store, opened, tmp_path):
    import polars as pl

    from matching.contract import PAIR_SCHEMA
    from matching.decisions import decide
    from matching.links import current_links
    from matching.runs import save_pairs
    from matching.state import open_state

    url = platform()
    conn = opened(tiny_store)
    (w1, a1), (w2, a2), (w3, a3), (w4, a4) = _facility_keys(conn, 4)
    pairs = pl.DataFrame(
        [
            (w1, a1, "1001", 0.95, "{}", "one", "Hyperion WRP"),
            (w2, a2, "1002", 0.70, "{}", "two", "O'Brien"),
            (w3, a3, "1003", 0.96, "{}", "three", "Tahoe"),
            (w4, a4, "9999", 0.97, "{}", "four", "nowhere"),
            (w1, a1, "1002", 0.65, "{}", "one", "O'Brien"),
        ],
        schema=PAIR_SCHEMA,
        orient="row",
    )
    engine = open_state(f"sqlite:///{tmp_path / 'state.db'}")
    save_pairs(engine, pairs, 0.92, 0.60)
    decide(engine, w2, a2, "1002", "accept", "ana", note="same plant, new name")
    decide(engine, w3, a3, "1003", "reject", "ben")
    report = sync(conn, url, links=current_links(engine))
    links_report = next(t for t in report.tables if t.table == "facility_links")
    assert (links_report.created, links_report.skipped) == (2, 1)
    with psycopg.connect(url) as pg:
        rows = pg.execute(
            'SELECT "esmrFacilityId", "smartsWdid", "smartsAppId", "linkMethod"::text,'
            ' round(confidence::numeric, 2), notes, "verifiedBy", "verifiedAt" IS NOT NULL'
            ' FROM facility_links ORDER BY "esmrFacilityId"'
        ).fetchall()
        unknown = pg.execute(
            "SELECT details FROM data_quality_issues WHERE \"table\" = 'facility_links'"
            " AND issue = 'UNKNOWN_REFERENCE'"
        ).fetchall()
    assert rows == [
        (1001, w1, a1, "FUZZY", Decimal("0.95"), None, None, False),
        (1002, w2, a2, "MANUAL", Decimal("0.70"), "same plant, new name", "ana", True),
    ]
    assert len(unknown) == 1 and "facilityPlaceId = 9999" in unknown[0][0]

    decide(engine, w1, a1, "1001", "reject", "ben")
    again = sync(conn, url, links=current_links(engine))
    assert next(t for t in again.tables if t.table == "facility_links").deleted == 1
    untouched = sync(conn, url, links=None)
    assert "facility_links" not in {t.table for t in untouched.tables}
    assert _pg_counts(url, ["facility_links"]) == {"facility_links": 1}


def test_cli_sync_prints_one_summary_line_and_hides_the_password(
    platform, tiny_store, tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from cli import cli

    url = platform()
    monkeypatch.setenv("STORMWATER_STORE", str(tiny_store.root))
    monkeypatch.setenv("STORMWATER_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("STORMWATER_PG_URL", url)
    runner = CliRunner()
    first = runner.invoke(cli, ["sync"])
    assert first.exit_code == 0, first.output
    assert first.stdout.count("\n") == 1 and "full sync (first sync)" in first.stdout
    second = runner.invoke(cli, ["sync", "--pg", url])
    assert second.exit_code == 0, second.stderr[-2000:]
    assert "delta sync" in second.stdout and "0 rows written" in second.stdout
    with psycopg.connect(url) as pg:
        pg.execute("ALTER ROLE postgres PASSWORD NULL")  # no-op on trust auth: it has none
    bad = url.replace("postgres@", "postgres:hunter2@").replace(":5432/", ":1/")
    failed = runner.invoke(cli, ["sync", "--pg", bad])
    assert failed.exit_code == 1
    assert "hunter2" not in failed.output
    assert [x for x in failed.stderr.splitlines() if x.startswith("Error:")] == [
        x for x in failed.stderr.splitlines() if x.strip()
    ][-1:]


def test_a_full_sync_keeps_grants_and_storage_and_refuses_to_strand_a_view(
    platform, tiny_store, opened
):
    url = platform()
    conn = opened(tiny_store)
    sync(conn, url)
    role = f"web_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(f"CREATE ROLE {role}")
        pg.execute(f"GRANT SELECT ON smarts_facilities, smarts_monitoring_samples TO {role}")
    try:
        sync(conn, url, full=True)
        with psycopg.connect(url) as pg:
            granted = pg.execute(
                "SELECT has_table_privilege(%s, 'smarts_facilities', 'SELECT'),"
                " has_table_privilege(%s, 'smarts_monitoring_samples', 'SELECT'),"
                " has_table_privilege(%s, 'smarts_violations', 'SELECT')",
                [role, role, role],
            ).fetchall()[0]
            options = pg.execute(
                "SELECT reloptions FROM pg_class WHERE relname = 'smarts_monitoring_samples'"
            ).fetchall()[0][0]
            pg.execute("CREATE VIEW active_facilities AS SELECT * FROM smarts_facilities")
        assert granted == (True, True, False)
        assert options == ["fillfactor=90"], "room for in-page updates is kept"
        before = content(url)
        with pytest.raises(PostgresError, match="depends on them"):
            sync(conn, url, full=True)
        assert content(url) == before
        assert sync(conn, url).mode == "delta", "a delta run is unaffected by the view"
    finally:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute("DROP VIEW IF EXISTS active_facilities")
            pg.execute(f"DROP OWNED BY {role}")
            pg.execute(f"DROP ROLE {role}")


def _layers(url: str, table: str) -> list[int]:
    with psycopg.connect(url) as pg:
        rows = pg.execute(
            'SELECT DISTINCT layer FROM smarts_sync_state WHERE "table" = %s ORDER BY 1', [table]
        ).fetchall()
    return [r[0] for r in rows]


def test_weekly_states_are_patches_until_a_new_base_is_due(
    platform, tiny_store, week_store, hostile_store, opened
):
    url = platform()
    tiny, week = opened(tiny_store), opened(week_store)
    sync(tiny, url)
    assert _layers(url, "smarts_violations") == [0]
    sync(week, url)
    assert _layers(url, "smarts_violations") == [0, 1], "2 of 62 rows: a patch"
    assert _layers(url, "smarts_enforcement_actions") == [0], "unchanged: no new layer"
    back = sync(tiny, url)
    assert _layers(url, "smarts_violations") == [0, 1, 2]
    assert back.total("created") >= 1 and back.total("updated") >= 2
    again = sync(tiny, url)
    assert again.total("created") + again.total("updated") + again.total("deleted") == 0
    now, fresh = totals(url), _totals_after_sync(platform, tiny)
    # A finding the week raised is kept, marked resolved (the runbook): the open ones match.
    at = DATA_TABLES.index("data_quality_issues")
    assert now[:at] + now[at + 1 :] == fresh[:at] + fresh[at + 1 :]
    assert _findings(url) == {False: fresh[at]} | (
        {True: now[at] - fresh[at]} if now[at] > fresh[at] else {}
    )
    sync(opened(hostile_store), url)
    assert _layers(url, "smarts_violations") == [0], "a quarter of the rows: a new base"
    assert sync(opened(hostile_store), url).total("updated") == 0


def _findings(url: str) -> dict[bool, int]:
    """Rows of `data_quality_issues` by whether they are resolved."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT resolved, count(*) FROM data_quality_issues GROUP BY 1")
        return dict(rows.fetchall())


def _totals_after_sync(platform: Callable[[], str], conn: StoreConnection) -> tuple[Any, ...]:
    url = platform()
    sync(conn, url)
    return totals(url)
