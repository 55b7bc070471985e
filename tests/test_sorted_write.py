"""Sorted Parquet parts: the same rows as DuckDB's ORDER BY, in row groups, errors surfaced."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from loaders.sorted_write import ROW_GROUP_ROWS, Part, write_sorted

ROWS = ROW_GROUP_ROWS * 2 + 1234


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    """A table in shuffled order with null sort keys, repeated keys and hostile text."""
    con = duckdb.connect()
    con.execute(f"""
CREATE TABLE t AS
SELECT CASE WHEN i % 97 = 0 THEN NULL ELSE 'W' || lpad((hash(i) % 5000)::VARCHAR, 5, '0') END
           AS wdid,
       CASE WHEN i % 89 = 0 THEN NULL ELSE DATE '2015-01-01' + (hash(i * 7) % 3650)::INT END
           AS sample_date,
       i % 3 AS part,
       i AS id,
       'line ' || i || E'\\n"quoted", ünïcode' AS note,
       (i % 11) / 3.0 AS result
FROM range({ROWS}) r(i)
ORDER BY hash(i + 1)
""")
    return con


def _parts(out: Path) -> list[Part]:
    select = "SELECT * EXCLUDE (part) FROM t WHERE part = ?"
    return [Part(out / f"part={p}" / "part-0.parquet", select, (p,)) for p in range(3)]


def test_each_part_holds_its_rows_in_duckdb_order(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    finished: list[Path] = []
    write_sorted(
        con, _parts(tmp_path), ("wdid", "sample_date"), done=lambda p: finished.append(p.target)
    )
    assert sorted(finished) == sorted(p.target for p in _parts(tmp_path))
    for p in range(3):
        target = tmp_path / f"part={p}" / "part-0.parquet"
        written = con.execute(f"SELECT wdid, sample_date FROM read_parquet('{target}')").fetchall()
        expected = con.execute(
            "SELECT wdid, sample_date FROM t WHERE part = ? ORDER BY wdid, sample_date", [p]
        ).fetchall()
        assert written == expected
        same = con.execute(
            f"SELECT count(*) FROM (SELECT * EXCLUDE (part) FROM t WHERE part = ?"
            f" EXCEPT ALL SELECT * FROM read_parquet('{target}', hive_partitioning = false))",
            [p],
        ).fetchall()[0][0]
        assert same == 0
        meta = pq.ParquetFile(target).metadata
        assert meta.num_rows == len(expected)
        assert all(meta.row_group(i).num_rows <= ROW_GROUP_ROWS for i in range(meta.num_row_groups))
        assert meta.row_group(0).column(0).statistics.has_min_max


def test_the_whole_table_spans_several_row_groups(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    target = tmp_path / "all.parquet"
    write_sorted(con, [Part(target, "SELECT * FROM t")], ("wdid", "sample_date"), workers=1)
    meta = pq.ParquetFile(target).metadata
    assert meta.num_rows == ROWS and meta.num_row_groups == 3
    first, second = (meta.row_group(i).column(0).statistics for i in (0, 1))
    assert first.max <= second.min  # the last group holds the null keys


def test_without_sort_columns_rows_keep_the_query_order(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    target = tmp_path / "by_id.parquet"
    write_sorted(con, [Part(target, "SELECT * FROM t ORDER BY id")], ())
    ids = con.execute(f"SELECT id FROM read_parquet('{target}')").fetchall()
    assert ids == [(i,) for i in range(ROWS)]
    meta = pq.ParquetFile(target).metadata
    assert all(meta.row_group(i).num_rows <= ROW_GROUP_ROWS for i in range(meta.num_row_groups))


def test_no_rows_still_writes_a_file_with_the_schema(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    target = tmp_path / "empty.parquet"
    write_sorted(con, [Part(target, "SELECT * FROM t WHERE false")], ("wdid",))
    assert pq.read_table(target).schema.names == [
        "wdid",
        "sample_date",
        "part",
        "id",
        "note",
        "result",
    ]
    assert pq.ParquetFile(target).metadata.num_rows == 0


def test_a_failing_part_raises_and_stops_the_queued_ones(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    bad = Part(tmp_path / "bad.parquet", "SELECT * FROM no_such_table")
    queued = [Part(tmp_path / f"q{i}.parquet", "SELECT * FROM t") for i in range(20)]
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        write_sorted(con, [bad, *queued], ("wdid", "sample_date"), workers=1)
    assert not bad.target.exists()
    assert not queued[-1].target.exists()
