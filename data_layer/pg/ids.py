"""Row ids and content hashes, as DuckDB expressions over a row's converted values.

`id` is the md5 of the row's natural key (its values joined by the unit separator, a
character no key holds), so it is stable across runs and machines and a re-sync finds the
same row again. The content hash only has to tell "changed" from "unchanged" between two
runs of the same build: DuckDB's own `hash` is used for speed (md5 over every column is
six times slower at 8 million rows), and a canary value detects a DuckDB whose hash
differs, in which case the next sync rewrites everything once (`sync.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

#: A fixed row of every type the tables hold; its hash is stored with the sync state.
_CANARY = (
    "'stormwater'",
    "CAST(42 AS INTEGER)",
    "CAST(1.5 AS DECIMAL(18,6))",
    "DATE '2020-01-02'",
    "TIME '10:00:00'",
    "TIMESTAMP '2020-01-02 03:04:05'",
    "true",
    "CAST(0.5 AS FLOAT)",
    "CAST(NULL AS VARCHAR)",
)


def key_id_sql(exprs: Sequence[str]) -> str:
    """The id of a row: md5 (hex) of its key values as text, in key order."""
    parts = ", ".join(f"CAST({e} AS VARCHAR)" for e in exprs)
    return f"md5(concat_ws(chr(31), {parts}))"


def row_hash_sql(exprs: Sequence[str]) -> str:
    """A signed 63-bit hash of the row's values (fits a Postgres bigint)."""
    return f"CAST(hash({', '.join(exprs)}) >> 1 AS BIGINT)"


def canary_sql() -> str:
    """A query returning the content hash of a fixed row: equal only under the same hash."""
    return f"SELECT {row_hash_sql(_CANARY)} AS canary"
