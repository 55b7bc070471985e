"""Convert one source CSV into Parquet: type, validate, de-duplicate, derive, sort, write.

Streaming through DuckDB with capped memory. Good rows go to `data_dir`; every row
that cannot be kept goes to `rejects_path` with its source line and reason. Nothing
is merged or dropped silently: exact duplicates are counted, differing rows with one
key are rejected (entities, the later row wins) or flagged (samples, both kept).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from data_layer.datasets import NULL_TOKENS, TYPES, Dataset, Derived
from data_layer.errors import RejectsOverThreshold, SourceInvalid
from data_layer.identifiers import ident, literal, literal_list
from data_layer.parameters import canonical_parameter, canonical_unit
from loaders import read
from loaders import typing_sql as T
from loaders.engine import execute_with_progress
from loaders.progress import Progress
from loaders.read import HeaderMap, map_header, read_header, transcode_to_utf8
from loaders.sorted_write import WORKERS, Part, write_sorted

log = logging.getLogger(__name__)


@dataclass
class Converted:
    """What one conversion read, kept, rejected and noticed."""

    rows_in: int = 0
    rows_out: int = 0
    rejects: int = 0
    exact_duplicates: int = 0
    duplicate_keys: int = 0
    duplicate_samples: int = 0
    transcoded_lines: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


#: Rows in one row group of a DuckDB table. The staging table keeps the file's order, and a
#: reader buffer holding fewer rows than this leaves partial row groups that the ordered
#: insert then stitches together: 20–35 % of the staging time on the monitoring files.
TABLE_ROW_GROUP = 122_880


def _buffer_size(path: Path) -> int | None:
    """Reader buffer for two row groups of `path`'s rows; None (DuckDB's own) for small files."""
    size = int(2 * TABLE_ROW_GROUP * read.bytes_per_line(path))
    return size if size < path.stat().st_size else None


def _raw(name: str) -> str:
    return ident(f"r__{name}")


def _stage_sql(ds: Dataset, hmap: HeaderMap, buffer_size: int | None = None) -> str:
    """CREATE the `staged` table: typed columns, a reject reason, raw text of bad rows."""
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in hmap.headers) + "}"
    raws, typed, problems, raw_json = [], [], [], []
    for col in ds.columns:
        header = hmap.present.get(col.name)
        raw = _raw(col.name)
        raws.append(f"{ident(header) if header else 'NULL::VARCHAR'} AS {raw}")
        expr = T.typed_sql(col, raw) if header else f"NULL::{TYPES[col.type]}"
        typed.append(f"{expr} AS {ident(col.name)}")
        problems.append(T.problem_sql(col, raw, ident(col.name), col.name in ds.required))
        if header:
            raw_json.append(f"{literal(header)}, {raw}")
    extras = [f"nullif(trim({ident(h)}), '') AS {ident(n)}" for n, h in hmap.extra.items()]
    if ds.nd_check:
        problems.append(T.nd_problem_sql(*ds.nd_check))
    raw_names = [_raw(c.name) for c in ds.columns]
    row_derived = [
        f"{T.ROW_RULES[d.rule](ident(d.source))} AS {ident(d.name)}"
        for d in ds.derived
        if d.rule in T.ROW_RULES
    ]
    return f"""
CREATE OR REPLACE TABLE staged_rows AS
WITH src AS (
    SELECT *
    FROM read_csv(?, header = true, auto_detect = false, columns = {columns},
                  delim = ',', quote = '"', escape = '"',
                  nullstr = {literal_list(NULL_TOKENS)},
                  store_rejects = true, rejects_table = 'csv_errors', rejects_scan = 'csv_scans'
                  {", buffer_size = ?" if buffer_size else ""})
), raw AS (
    SELECT {", ".join(raws + extras)} FROM src
), typed AS (
    SELECT *, {", ".join(typed)} FROM raw
), checked AS (
    SELECT *,
        nullif(concat_ws('; ', {", ".join(problems)}), '') AS _reason,
        {T.newline_count_sql(raw_names)} AS _nl,
        {", ".join(row_derived) or "NULL AS _no_derived"}
    FROM typed
)
SELECT * EXCLUDE ({", ".join(raw_names)}),
    CASE WHEN _reason IS NOT NULL THEN json_object({", ".join(raw_json)})::VARCHAR END AS _raw
FROM checked
"""


def _stage(
    con: duckdb.DuckDBPyConnection,
    ds: Dataset,
    path: Path,
    hmap: HeaderMap,
    progress: Progress | None,
) -> None:
    con.execute("DROP TABLE IF EXISTS csv_errors; DROP TABLE IF EXISTS csv_scans")
    buffer_size = _buffer_size(path)
    params = [str(path), buffer_size] if buffer_size else [str(path)]
    execute_with_progress(con, _stage_sql(ds, hmap, buffer_size), params, progress)
    # Insertion order is preserved, so rowid is the record's position in the file.
    con.execute("CREATE OR REPLACE VIEW staged AS SELECT rowid + 1 AS _row, * FROM staged_rows")


def _encoding_errors(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(
        "SELECT count(*) FROM csv_errors WHERE error_type = 'INVALID ENCODING'"
    ).fetchall()[0][0]


def _key_cols(ds: Dataset) -> list[str]:
    return list(ds.key) or ["_content"]


def _content_hash(ds: Dataset, hmap: HeaderMap, prefix: str = "") -> str:
    """Hash of every stored source column: equal hashes mean an exact duplicate row."""
    names = [prefix + ident(n) for n in (*ds.column_names, *hmap.extra)]
    return f"hash({', '.join(names)})"


def _find_duplicates(con: duckdb.DuckDBPyConnection, ds: Dataset, hmap: HeaderMap) -> None:
    """Table `dups(_row, action)`: `drop` exact copies, `reject` superseded keys, `flag` samples."""
    key_cols = [ident(k) for k in ds.key] or ["_h"]
    key_list = ", ".join(key_cols)
    key_hash = f"hash({', '.join(ident(k) for k in ds.key)})" if ds.key else _content_hash(ds, hmap)
    differing = (
        "'flag'" if ds.kind == "samples" else ("CASE WHEN _last_of_key THEN NULL ELSE 'reject' END")
    )
    keys_of_s = ", ".join(f"s.{ident(k)}" for k in ds.key)
    con.execute(f"""
CREATE OR REPLACE TABLE dups AS
WITH good AS (
    SELECT _row, {key_hash} AS _k FROM staged WHERE _reason IS NULL
), dup_hashes AS (
    SELECT _k FROM good GROUP BY _k HAVING count(*) > 1
), rows AS (
    SELECT g._row, {keys_of_s + ", " if ds.key else ""}{_content_hash(ds, hmap, "s.")} AS _h
    FROM good g SEMI JOIN dup_hashes USING (_k)
    JOIN staged s ON s._row = g._row
), ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY {key_list}, _h ORDER BY _row DESC) AS _copy,
        count(DISTINCT _h) OVER (PARTITION BY {key_list}) AS _variants,
        _row = max(_row) OVER (PARTITION BY {key_list}) AS _last_of_key
    FROM rows
)
SELECT _row,
    CASE WHEN _copy > 1 THEN 'drop' WHEN _variants > 1 THEN {differing} END AS action,
    max(_row) OVER (PARTITION BY {key_list}) AS _winner
FROM ranked
QUALIFY action IS NOT NULL
""")


def _collect_csv_errors(con: duckdb.DuckDBPyConnection) -> None:
    """Table `csv_bad`: one row per record the CSV reader could not split, with its position.

    DuckDB numbers records, not physical lines, and skips bad records when numbering
    good ones; `after` is how many good (staged) records precede each bad one.
    """
    con.execute("""
CREATE OR REPLACE TABLE csv_bad AS
SELECT line AS record_line,
    line - 1 - row_number() OVER (ORDER BY line) AS after,
    first(error_type || ': ' || error_message ORDER BY column_idx) AS reason,
    first(csv_line) AS raw
FROM csv_errors GROUP BY line
""")


def _nl_before(row: str) -> str:
    return f"coalesce((SELECT sum(n._nl) FROM staged n WHERE n._nl > 0 AND n._row <= {row}), 0)"


def _line_sql() -> str:
    """Physical line where staged record `s` starts: header, records and newlines before it."""
    return (
        f"1 + s._row + (SELECT count(*) FROM csv_bad b WHERE b.after < s._row)"
        f" + {_nl_before('s._row - 1')}"
    )


def _write_rejects(con: duckdb.DuckDBPyConnection, ds: Dataset, rejects_path: Path) -> None:
    """Every row not kept, with its source line, record number, reason and original values."""
    typed_json = (
        "json_object("
        + ", ".join(f"{literal(c.source)}, {ident(c.name)}::VARCHAR" for c in ds.columns)
        + ")::VARCHAR"
    )
    rejects_path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"""
COPY (
    SELECT line::BIGINT AS line, record, reason, row_json FROM (
        SELECT {_line_sql()} AS line, s._row AS record, s._reason AS reason,
            s._raw AS row_json
        FROM staged s WHERE s._reason IS NOT NULL
        UNION ALL
        SELECT {_line_sql()}, s._row, 'duplicate key: replaced by record ' || d._winner,
            {typed_json}
        FROM staged s JOIN dups d USING (_row) WHERE d.action = 'reject'
        UNION ALL
        SELECT record_line + {_nl_before("b.after")}, NULL, reason, raw FROM csv_bad b
    )
    ORDER BY line
) TO {literal(str(rejects_path))} (FORMAT parquet, COMPRESSION zstd)
""")


#: Derived columns canonicalised in Python, once per distinct spelling.
_VOCABULARIES = {"parameter": canonical_parameter, "units": canonical_unit}


def _looked_up(derived: Derived) -> bool:
    """Whether a derived column is looked up by its source value when the rows are written."""
    return derived.rule in _VOCABULARIES or derived.rule in T.VALUE_RULES


def _vocab_columns(ds: Dataset) -> list[Derived]:
    return [d for d in ds.derived if _looked_up(d)]


def _register_vocab(con: duckdb.DuckDBPyConnection, ds: Dataset) -> None:
    """A lookup table `vocab_<name>(raw, canon)` per looked-up derived column, over kept values."""
    for derived in _vocab_columns(ds):
        distinct = (
            f"SELECT DISTINCT {ident(derived.source)} AS raw FROM staged WHERE _reason IS NULL"
        )
        table = f"vocab_{derived.name}"
        con.execute(f"DROP TABLE IF EXISTS {table}")
        if derived.rule in T.VALUE_RULES:
            canon = T.VALUE_RULES[derived.rule]("raw")
            con.execute(f"CREATE TABLE {table} AS SELECT raw, {canon} AS canon FROM ({distinct})")
        else:
            con.from_arrow(_vocabulary(con, distinct, _VOCABULARIES[derived.rule])).create(table)


def _vocabulary(
    con: duckdb.DuckDBPyConnection, distinct: str, to_canon: Callable[[str | None], str | None]
) -> pa.Table:
    """Each distinct spelling beside its canonical form, computed in Python."""
    values = [r[0] for r in con.execute(distinct).fetchall()]
    return pa.table(
        {
            "raw": pa.array(values, pa.string()),
            "canon": pa.array([to_canon(v) for v in values], pa.string()),
        }
    )


def _derived_sql(ds: Dataset, year: int | None) -> tuple[list[str], list[str]]:
    """Select expressions and joins for the derived columns."""
    selects, joins = [], []
    for d in ds.derived:
        src = f"s.{ident(d.source)}"
        if d.rule in T.ROW_RULES:
            expr = f"s.{ident(d.name)}"
        elif d.rule == "source_year":
            continue
        elif _looked_up(d):
            alias = f"v_{d.name}"
            joins.append(f"LEFT JOIN vocab_{d.name} {alias} ON {alias}.raw = {src}")
            expr = f"{alias}.canon"
        elif d.rule == "duplicate_sample":
            expr = "coalesce(d.action = 'flag', false)"
        else:
            raise ValueError(f"unknown derived rule {d.rule!r}")
        selects.append(f"{expr} AS {ident(d.name)}")
    return selects, joins


def _define_kept(
    con: duckdb.DuckDBPyConnection, ds: Dataset, hmap: HeaderMap, year: int | None
) -> None:
    """View `kept`: the rows to publish, with their derived columns."""
    cols = [f"s.{ident(c.name)}" for c in ds.columns] + [f"s.{ident(n)}" for n in hmap.extra]
    derived, joins = _derived_sql(ds, year)
    con.execute(f"""
CREATE OR REPLACE VIEW kept AS
SELECT {", ".join(cols + derived)}
FROM staged s
LEFT JOIN dups d USING (_row)
{" ".join(joins)}
WHERE s._reason IS NULL AND (d.action IS NULL OR d.action = 'flag')
""")


def _parts(
    con: duckdb.DuckDBPyConnection, ds: Dataset, data_dir: Path, year: int | None
) -> list[Part]:
    """The files to write from `kept`: one, or one per Hive partition value."""
    if year is not None or ds.partition is None:
        name = f"{ds.partition}={year}/part-0.parquet" if year is not None else "part-0.parquet"
        return [Part(data_dir / name, "SELECT * FROM kept")]
    part = ident(ds.partition)
    counts = con.execute(f"SELECT {part}, count(*) FROM kept GROUP BY 1 ORDER BY 2 DESC").fetchall()
    parts = []
    for value, n in counts:
        label = "__HIVE_DEFAULT_PARTITION__" if value is None else int(value)
        where, params = (f"{part} IS NULL", ()) if value is None else (f"{part} = ?", (label,))
        parts.append(
            Part(
                data_dir / f"{ds.partition}={label}" / "part-0.parquet",
                f"SELECT * EXCLUDE ({part}) FROM kept WHERE {where}",
                params,
                rows=n,
            )
        )
    return parts


def _write_data(
    con: duckdb.DuckDBPyConnection,
    ds: Dataset,
    data_dir: Path,
    year: int | None,
    progress: Progress | None,
) -> None:
    """Write `kept` sorted by the dataset's sort columns, largest partition first."""
    parts = _parts(con, ds, data_dir, year)
    total, written = sum(p.rows for p in parts), 0

    def done(part: Part) -> None:
        nonlocal written
        written += part.rows
        if progress is not None and progress.total and total:
            progress.update(progress.total * written / total)

    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    write_sorted(con, parts, ds.sort, workers=min(WORKERS, threads), done=done)


def _count(con: duckdb.DuckDBPyConnection, result: Converted) -> None:
    staged, bad = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE _reason IS NOT NULL) FROM staged"
    ).fetchall()[0]
    csv_bad = con.execute("SELECT count(*) FROM csv_bad").fetchall()[0][0]
    by_action = dict(con.execute("SELECT action, count(*) FROM dups GROUP BY ALL").fetchall())
    result.rows_in = staged + csv_bad
    result.exact_duplicates = by_action.get("drop", 0)
    result.duplicate_keys = by_action.get("reject", 0)
    result.duplicate_samples = by_action.get("flag", 0)
    result.rejects = bad + csv_bad + result.duplicate_keys
    result.rows_out = staged - bad - result.exact_duplicates - result.duplicate_keys
    reasons: Counter[str] = Counter()
    for reason, n in con.execute("""
        SELECT split_part(split_part(_reason, '; ', 1), ':', 1), count(*) FROM staged
        WHERE _reason IS NOT NULL GROUP BY ALL
        UNION ALL SELECT split_part(reason, ':', 1), count(*) FROM csv_bad GROUP BY ALL
        UNION ALL SELECT 'duplicate key', count(*) FROM dups WHERE action = 'reject'
    """).fetchall():
        if n:
            reasons[reason] += n
    result.reject_reasons = dict(reasons.most_common())


def convert_file(
    con: duckdb.DuckDBPyConnection,
    ds: Dataset,
    path: Path,
    data_dir: Path,
    rejects_path: Path,
    threshold: float,
    year: int | None = None,
    progress: Progress | None = None,
) -> Converted:
    """Load `path` as dataset `ds` into `data_dir`; RejectsOverThreshold keeps it unpublished."""
    hmap = map_header(ds, read_header(path), path.name)
    result = Converted(warnings=hmap.warnings)
    _stage(con, ds, path, hmap, progress)
    if _encoding_errors(con):
        fixed = path.with_name(path.name + ".utf8")
        result.transcoded_lines = transcode_to_utf8(path, fixed)
        result.warnings.append(
            f"{result.transcoded_lines} lines were not UTF-8 and were read as Windows-1252"
        )
        try:
            _stage(con, ds, fixed, hmap, None)
        finally:
            fixed.unlink(missing_ok=True)
    _collect_csv_errors(con)
    _find_duplicates(con, ds, hmap)
    _count(con, result)
    if result.rows_in == 0:
        raise SourceInvalid(f"{path.name} has a header but no data rows")
    _write_rejects(con, ds, rejects_path)
    share = result.rejects / result.rows_in
    if share > threshold:
        top = ", ".join(f"{r} ({n})" for r, n in list(result.reject_reasons.items())[:3])
        raise RejectsOverThreshold(
            f"{result.rejects:,} of {result.rows_in:,} rows rejected ({share:.1%}),"
            f" above the {threshold:.1%} threshold — not published; top reasons: {top};"
            f" rows in {rejects_path}"
        )
    _register_vocab(con, ds)
    _define_kept(con, ds, hmap, year)
    _write_data(con, ds, data_dir, year, progress)
    for name in ("kept", "staged"):
        con.execute(f"DROP VIEW IF EXISTS {name}")
    for name in (
        "staged_rows",
        "dups",
        "csv_bad",
        *(f"vocab_{d.name}" for d in _vocab_columns(ds)),
    ):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return result
