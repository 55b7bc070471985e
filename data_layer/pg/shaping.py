"""DuckDB SQL for the rows a SMARTS table should hold, built from the mapping and the schema.

Three steps, each a subquery: (1) per source, every Postgres column read from the store
(`mapping.py`); (2) per source, each value converted to its column's Postgres type, a
value that does not convert becoming NULL with an INVALID_VALUE finding; (3) over all
sources, the row's `id` (hash of its key), its content hash and its findings. Identifiers
are quoted by `identifiers.py`; the only values spliced in are contract constants (date
spellings, enum labels); store dates are bound parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
from sqlalchemy import Boolean, Date, Integer, Numeric, Table, Time, UniqueConstraint
from sqlalchemy.dialects.postgresql import ENUM, REAL, TIMESTAMP

from data_layer.datasets import DATE_FORMATS, FALSE_TOKENS, TRUE_TOKENS
from data_layer.errors import PostgresError
from data_layer.identifiers import ident, literal, literal_list
from data_layer.pg import mapping as m
from data_layer.pg.ids import key_id_sql, row_hash_sql

#: Time-of-day spellings tried after a plain cast ("7:30 PM").
TIME_FORMATS: tuple[str, ...] = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p")
FINDING_TYPE = "STRUCT(issue VARCHAR, details VARCHAR)"
NOW_PARAM = "sync_now"


@dataclass(frozen=True)
class Shaped:
    """The rows of one table as DuckDB SQL: its columns in order, then the sync's own.

    Extra columns: `_row_hash` (content hash), `_fp` (a fast fingerprint of the key's
    values as read, to find a few rows again cheaply), `_may_share` (row may share its key
    with another), `_issues` (list of {issue, details}). `params` are bound when it runs.
    """

    table: Table
    columns: tuple[str, ...]
    key: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]  # per source: (converted columns, SQL reading it)
    outer: str  # the columns of the last step over all sources
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def sql(self) -> str:
        """Every row."""
        return self.select()

    def select(self, only: str | None = None) -> str:
        """Every row, or only the ids in DuckDB table `only` (id, _fp): those are found by
        fingerprint before any value is converted or hashed, then checked by id."""
        parts = []
        for i, (converted, read) in enumerate(self.sources):
            fingerprint = f"hash({', '.join(ident(k) for k in self.key)})"
            where = f" WHERE _fp IN (SELECT _fp FROM {ident(only)})" if only else ""
            parts.append(
                f"SELECT {converted} FROM (SELECT *, {fingerprint} AS _fp FROM ({read}))"
                f" AS src_{i}{where}"
            )
        where = f" WHERE id IN (SELECT id FROM {ident(only)})" if only else ""
        return f"SELECT * FROM (SELECT {self.outer} FROM ({' UNION ALL '.join(parts)})){where}"


def duck_type(column_type: Any) -> str:
    """The DuckDB type a Postgres column's values are shaped into."""
    if isinstance(column_type, ENUM):
        return "VARCHAR"
    if isinstance(column_type, Numeric) and not isinstance(column_type, REAL):
        return f"DECIMAL({column_type.precision},{column_type.scale})"
    if isinstance(column_type, REAL):
        return "FLOAT"
    for kind, name in (
        (Boolean, "BOOLEAN"),
        (Integer, "INTEGER"),
        (TIMESTAMP, "TIMESTAMP"),
        (Date, "DATE"),
        (Time, "TIME"),
    ):
        if isinstance(column_type, kind):
            return name
    return "VARCHAR"


def table_key(tmap: m.TableMap, table: Table) -> tuple[str, ...]:
    """The columns a row's id is hashed from: the mapping's, else the table's unique key."""
    if tmap.key:
        return tmap.key
    unique = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    if not unique:
        raise PostgresError(f"{table.name} has no unique key to derive row ids from")
    return tuple(c.name for c in unique[0].columns)


def shape_table(
    cur: duckdb.DuckDBPyConnection,
    tmap: m.TableMap,
    table: Table,
    source_dates: Mapping[str, dt.datetime | None],
    now: dt.datetime,
) -> Shaped:
    """The SQL producing `table`'s rows from its sources (see module docstring)."""
    written = [c.name for c in table.columns if c.name not in m.SYNC_COLUMNS]
    params: dict[str, Any] = {NOW_PARAM: now}
    sources = []
    for source in tmap.sources:
        read = _read_source(cur, tmap.table, source, written, source_dates, params)
        types = dict(zip(written, _types(cur, read, params), strict=True))
        sources.append((_converted(table, written, types), read))
    key = table_key(tmap, table)
    stamps = [
        f"CAST(${NOW_PARAM} AS TIMESTAMP) AS {ident(c)}"
        for c in (m.CREATED, m.UPDATED)
        if c in table.columns
    ]
    checks = [_check(c) for c in tmap.checks]
    issues = f"list_concat(_issues, [{', '.join(checks)}])" if checks else "_issues"
    outer = (
        f"{key_id_sql([ident(k) for k in key])} AS id, "
        f"{', '.join(ident(c) for c in written)}, {', '.join(stamps) + ', ' if stamps else ''}"
        f"{row_hash_sql([ident(c) for c in written])} AS _row_hash, _fp, _may_share, "
        f"list_filter({issues}, lambda f: f IS NOT NULL) AS _issues"
    )
    columns = (m.ID, *written, *(c for c in (m.CREATED, m.UPDATED) if c in table.columns))
    return Shaped(table, columns, key, tuple(sources), outer, params)


def bound(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters `sql` names (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if f"${k}" in sql}


def _types(cur: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[str]:
    try:
        return [str(t) for t in cur.sql(sql, params=bound(sql, params)).types][:-1]
    except duckdb.Error as exc:
        raise PostgresError(f"cannot read the store for the sync: {exc}") from exc


def _read_source(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    source: m.Source,
    written: list[str],
    source_dates: Mapping[str, dt.datetime | None],
    params: dict[str, Any],
) -> str:
    """Step 1: each written column read (or computed) from the source relation."""
    available = set(cur.sql(f"SELECT * FROM {ident(source.relation)} LIMIT 0").columns)
    exprs = []
    for col in written:
        if col in source.columns:
            expr = _expr(source.columns[col], available, source_dates, params, (table, col))
        elif m.snake(col) in available:
            expr = ident(m.snake(col))
        else:
            raise PostgresError(
                f"{table}.{col}: {source.relation} has no column {m.snake(col)!r}"
                " and the mapping names none"
            )
        exprs.append(f"{expr} AS {ident(col)}")
    share = source.may_share_key
    exprs.append(f"{ident(share) if isinstance(share, str) else str(share).lower()} AS _may_share")
    sql = f"SELECT {', '.join(exprs)} FROM {ident(source.relation)}"
    if source.where is not None:
        column, value = source.where
        sql += f" WHERE {ident(_need(column, available, table))} = {literal(value)}"
    return sql


def _need(column: str, available: set[str], where: str) -> str:
    if column not in available:
        raise PostgresError(f"{where}: the mapping names {column!r}, which its source lacks")
    return column


def _expr(
    expr: m.Expr,
    available: set[str],
    source_dates: Mapping[str, dt.datetime | None],
    params: dict[str, Any],
    where: tuple[str, str],
) -> str:
    """One mapping expression as DuckDB SQL over the source's columns."""
    label = ".".join(where)

    def col(name: str) -> str:
        return ident(_need(name, available, label))

    if expr is None:
        return "NULL"
    if isinstance(expr, str):
        return col(expr)
    if isinstance(expr, m.Coalesce):
        return f"coalesce({', '.join(col(c) for c in expr.columns)})"
    if isinstance(expr, m.Joined):
        return f"nullif(concat_ws(' ', {', '.join(col(c) for c in expr.columns)}), '')"
    if isinstance(expr, m.Present):
        return f"({col(expr.column)} IS NOT NULL)"
    if isinstance(expr, m.Constant):
        return "true" if expr.value else "false"
    if isinstance(expr, m.Recoded):
        cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in expr.values.items())
        return f"CASE {col(expr.column)} {cases} END"
    if isinstance(expr, m.SourceDate):
        name = f"seen_{expr.dataset}"
        params[name] = source_dates.get(expr.dataset)
        return f"CAST(${name} AS TIMESTAMP)"
    raise PostgresError(f"{label}: unknown mapping expression {expr!r}")


def _converted(table: Table, written: list[str], types: dict[str, str]) -> str:
    """Step 2's columns: values converted to their Postgres types, failures as findings."""
    exprs, issues = [], []
    for col in written:
        value, lossy = _convert(ident(col), types[col], table.columns[col].type)
        exprs.append(f"{value} AS {ident(col)}")
        if lossy:
            details = f"{literal(col + ': ')} || CAST({ident(col)} AS VARCHAR)"
            issues.append(
                f"CASE WHEN {ident(col)} IS NOT NULL AND ({value}) IS NULL THEN "
                f"{{'issue': 'INVALID_VALUE', 'details': {details}}} END"
            )
    listed = f"[{', '.join(issues)}]" if issues else f"CAST([] AS {FINDING_TYPE}[])"
    return f"{', '.join(exprs)}, _fp, _may_share, CAST({listed} AS {FINDING_TYPE}[]) AS _issues"


def _convert(value: str, source_type: str, target: Any) -> tuple[str, bool]:
    """(SQL converting `value` from `source_type` to the target's type, whether it can fail)."""
    to = duck_type(target)
    if source_type == '"NULL"':
        return f"CAST(NULL AS {to})", False
    if isinstance(target, ENUM):
        labels = ", ".join(literal(x) for x in target.enums)
        return f"CASE WHEN {value} IN ({labels}) THEN CAST({value} AS VARCHAR) END", True
    if source_type == to:
        return value, False
    if to == "VARCHAR":
        return f"CAST({value} AS VARCHAR)", False
    if source_type == "VARCHAR":
        return _from_text(value, to), True
    if source_type == "TIMESTAMP WITH TIME ZONE" and to == "TIMESTAMP":
        return f"CAST(timezone('UTC', {value}) AS TIMESTAMP)", False
    if to == "INTEGER" and (source_type in ("DOUBLE", "FLOAT") or source_type.startswith("DEC")):
        return f"TRY_CAST(round({value}) AS {to})", True
    return f"TRY_CAST({value} AS {to})", True


def _from_text(value: str, to: str) -> str:
    """Text to a typed value: the contract's spellings of dates, flags and times."""
    if to == "BOOLEAN":
        trimmed = f"upper(trim({value}))"
        return (
            f"CASE WHEN {trimmed} IN ({', '.join(literal(t) for t in TRUE_TOKENS)}) THEN true"
            f" WHEN {trimmed} IN ({', '.join(literal(t) for t in FALSE_TOKENS)}) THEN false END"
        )
    if to in ("DATE", "TIMESTAMP"):
        return (
            f"coalesce(TRY_CAST({value} AS {to}),"
            f" CAST(try_strptime({value}, {literal_list(DATE_FORMATS)}) AS {to}))"
        )
    if to == "TIME":
        return (
            f"coalesce(TRY_CAST({value} AS TIME),"
            f" CAST(try_strptime({value}, {literal_list(TIME_FORMATS)}) AS TIME))"
        )
    return f"TRY_CAST({value} AS {to})"


def _check(check: m.Check) -> str:
    """A finding for rows where any of the check's columns is null."""
    cond = " OR ".join(f"{ident(c)} IS NULL" for c in check.columns)
    details = literal("no value for " + " / ".join(check.columns))
    return f"CASE WHEN {cond} THEN {{'issue': {literal(check.issue)}, 'details': {details}}} END"
