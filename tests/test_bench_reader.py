"""The downtime reader of the sync benchmark waits exactly as long as a lock shuts it out."""

from __future__ import annotations

import threading
import time

import psycopg

from bench.sync import Reader


def test_reader_sees_a_lock_that_excludes_readers_and_not_one_that_does_not(pg_url: str):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")

    def hold(mode: str, seconds: float, started: threading.Event) -> None:
        with psycopg.connect(pg_url) as conn:
            conn.execute(f"LOCK TABLE t IN {mode} MODE")
            started.set()
            time.sleep(seconds)

    waits = {}
    for mode in ("SHARE ROW EXCLUSIVE", "ACCESS EXCLUSIVE"):
        with Reader(pg_url, ["t"]) as reader:
            started = threading.Event()
            holder = threading.Thread(target=hold, args=(mode, 0.6, started))
            holder.start()
            started.wait()
            holder.join()
            time.sleep(0.1)  # the reader gets in once the lock is gone
        waits[mode] = reader.longest_ms
        assert len(reader.waits) > 3
    assert waits["ACCESS EXCLUSIVE"] >= 400
    assert waits["SHARE ROW EXCLUSIVE"] < 300
