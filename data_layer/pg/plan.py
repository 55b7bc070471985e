"""What each table should hold, worked out in DuckDB before anything is written to Postgres.

For one table (`Shaped` rows): which rows can be written (a required value present, every
referenced row known), which ids two rows share (one is kept: the lowest content hash,
the same choice every run), the findings those checks raise, and the `(id, hash)` of
every row held — the table's new sync state. With the state Postgres holds, `diff` says
which ids are new, changed or gone. All of it lives in temp tables on the sync's cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from data_layer.identifiers import ident, literal
from data_layer.pg import mapping as m
from data_layer.pg.schema import metadata
from data_layer.pg.shaping import FINDING_TYPE, Shaped

#: The temp table that gathers findings from every table (`findings.py` reads it).
RAW_FINDINGS = "sync_findings_raw"


@dataclass(frozen=True)
class Parent:
    """A reference to check, and the DuckDB temp table holding the parent's `target` values."""

    ref: m.Reference
    keys: str


def references(maps: Sequence[m.TableMap]) -> dict[str, list[m.Reference]]:
    """Per table, the rows it must refer to: the schema's foreign keys, the mapping's own."""
    refs: dict[str, list[m.Reference]] = {}
    for tmap in maps:
        fks = metadata.tables[tmap.table].foreign_key_constraints
        refs[tmap.table] = [
            m.Reference(
                tuple(fk.column_keys),
                fk.referred_table.name,
                tuple(e.column.name for e in fk.elements),
            )
            for fk in sorted(fks, key=lambda fk: str(fk.name))
        ] + list(tmap.references)
    return refs


def looked_up(refs: dict[str, list[m.Reference]]) -> dict[str, tuple[str, ...]]:
    """Per referenced table, the columns its children look rows up by."""
    keep: dict[str, list[str]] = {}
    for ref in (r for found in refs.values() for r in found):
        cols = keep.setdefault(ref.table, [])
        cols += [c for c in ref.target if c not in cols]
    return {table: tuple(cols) for table, cols in keep.items()}


@dataclass
class TablePlan:
    """Counts and temp-table names for one table; `diff` fills the change counts."""

    shaped: Shaped
    rows_in: int = 0
    held: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    findings: int = 0
    has_duplicates: bool = False
    tables: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.shaped.table.name

    @property
    def skipped(self) -> int:
        return self.rows_in - self.held


def _temp(plan_name: str, what: str) -> str:
    return f"sync_{what}__{plan_name}"


def plan_table(
    cur: duckdb.DuckDBPyConnection, shaped: Shaped, parents: list[Parent], keep: tuple[str, ...]
) -> TablePlan:
    """Check every row, record findings, and keep the `(id, hash)` of the rows to hold.

    `keep`: key columns children refer to, kept (for rows held) in the `keys` temp table.
    """
    plan = TablePlan(shaped)
    t = {w: _temp(plan.name, w) for w in ("want", "hold", "skip", "dups", "keys")}
    plan.tables = t
    required = [
        c.name for c in shaped.table.columns if not c.nullable and c.name not in m.SYNC_COLUMNS
    ]
    missing = ", ".join(f"CASE WHEN s.{ident(c)} IS NULL THEN {literal(c)} END" for c in required)
    joins, refs, ref_list = _reference_checks(parents)
    missing_issue = (
        "CASE WHEN _refs AND len(_m) > 0 THEN {'issue': 'MISSING_VALUE', 'details':"
        " 'no value for ' || array_to_string(_m, ', ') || ' (row not written)'} END"
    )
    outer = "".join(f", {ident(c)}" for c in keep)
    inner = "".join(f", s.{ident(c)}" for c in keep)
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {ident(t['want'])} AS "
        f"SELECT id, _row_hash, _fp, _may_share, _refs AND len(_m) = 0 AS _keep{outer},"
        f" list_filter(list_concat(list_concat(_issues, _ri), [{missing_issue}]),"
        " lambda f: f IS NOT NULL) AS _issues FROM ("
        f"SELECT s.id, s._row_hash, s._fp, s._may_share, s._issues{inner}, {refs} AS _refs,"
        f" {ref_list} AS _ri, list_filter([{missing}], lambda c: c IS NOT NULL) AS _m"
        f" FROM ({shaped.sql}) AS s {joins})",
        shaped.params,
    )
    _derive(cur, plan, keep)
    return plan


def _reference_checks(parents: list[Parent]) -> tuple[str, str, str]:
    """SQL to look each reference up: the joins, "all found", and the findings list."""
    joins, found, issues = [], [], []
    for i, parent in enumerate(parents):
        p, alias = parent.ref, f"p{i}"
        pairs = list(zip(p.columns, p.target, strict=True))
        on = " AND ".join(f"s.{ident(c)} = {alias}.{ident(tc)}" for c, tc in pairs)
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT {', '.join(ident(c) for c in p.target)}, true AS _hit"
            f" FROM {ident(parent.keys)}) AS {alias} ON {on}"
        )
        found.append(f"{alias}._hit IS NOT NULL")
        named = " || ', ' || ".join(
            f"{literal(tc + ' = ')} || coalesce(CAST(s.{ident(c)} AS VARCHAR), 'NULL')"
            for c, tc in pairs
        )
        issues.append(
            f"CASE WHEN {alias}._hit IS NULL THEN {{'issue': 'UNKNOWN_REFERENCE', 'details':"
            f" {literal(f'no {p.table} row with ')} || {named} || ' (row not written)'}} END"
        )
    listed = f"[{', '.join(issues)}]" if issues else f"CAST([] AS {FINDING_TYPE}[])"
    return " ".join(joins), " AND ".join(found) or "true", listed


def _derive(cur: duckdb.DuckDBPyConnection, plan: TablePlan, keep: tuple[str, ...]) -> None:
    """From `want`: duplicates, rows skipped, the state held, keys for children, findings."""
    t = {k: ident(v) for k, v in plan.tables.items()}
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {t['dups']} AS SELECT id, count(*) AS n FROM {t['want']}"
        " WHERE _keep AND _may_share GROUP BY id HAVING count(*) > 1"
    )
    # ids no row of which can be written (an id with one good row is written from it)
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {t['skip']} AS"
        f" SELECT DISTINCT id FROM {t['want']} WHERE NOT _keep"
    )
    cur.execute(
        f"DELETE FROM {t['skip']} WHERE id IN (SELECT id FROM {t['want']} WHERE _keep"
        f" AND id IN (SELECT id FROM {t['skip']}))"
    )
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {t['hold']} AS"
        f" SELECT id, _row_hash, _fp FROM {t['want']} WHERE _keep AND NOT (_may_share AND id IN"
        f" (SELECT id FROM {t['dups']})) UNION ALL SELECT id, min(_row_hash), min(_fp)"
        f" FROM {t['want']} WHERE _keep AND id IN (SELECT id FROM {t['dups']}) GROUP BY id"
    )
    if keep:
        cols = ", ".join(ident(c) for c in keep)
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {t['keys']} AS"
            f" SELECT DISTINCT {cols} FROM {t['want']} WHERE _keep"
        )
    name = literal(plan.name)
    cur.execute(
        f"INSERT INTO {ident(RAW_FINDINGS)} SELECT {name}, id, f.issue, f.details FROM"
        f" (SELECT id, unnest(_issues) AS f FROM {t['want']} WHERE len(_issues) > 0)"
        f" UNION ALL SELECT {name}, id, 'DUPLICATE_KEY',"
        f" n || ' source rows share this key; one is written' FROM {t['dups']}"
    )
    counts = cur.execute(
        f"SELECT (SELECT count(*) FROM {t['want']}), (SELECT count(*) FROM {t['hold']}),"
        f" (SELECT count(*) FROM {t['dups']}),"
        f" (SELECT coalesce(sum(len(_issues)), 0) FROM {t['want']})"
        f" + (SELECT count(*) FROM {t['dups']})"
    ).fetchall()[0]
    plan.rows_in, plan.held, dups, plan.findings = (int(x) for x in counts)
    plan.has_duplicates = dups > 0
    cur.execute(f"DROP TABLE {t['want']}")


def rows_query(plan: TablePlan, only: str | None = None) -> tuple[str, dict[str, Any]]:
    """The rows to write (all held, or only ids in temp table `only`), in `columns` order.

    A row is written when it was held: required values present, not skipped, and for an id
    two rows share, the one with the lowest content hash.
    """
    s = plan.shaped
    t = {k: ident(v) for k, v in plan.tables.items()}
    cols = ", ".join(ident(c) for c in s.columns)
    required = [c.name for c in s.table.columns if not c.nullable and c.name not in m.SYNC_COLUMNS]
    filters = [f"{ident(c)} IS NOT NULL" for c in required]
    where = " AND ".join([*filters, f"id NOT IN (SELECT id FROM {t['skip']})"])
    rows = s.select(only)
    query = (
        f"SELECT {cols} FROM ({rows}) WHERE {where}"
        f" AND NOT (_may_share AND id IN (SELECT id FROM {t['dups']}))"
    )
    if plan.has_duplicates:
        query += (
            f" UNION ALL SELECT {cols} FROM (SELECT DISTINCT ON (id) * FROM ({rows})"
            f" WHERE _may_share AND {where} AND id IN (SELECT id FROM {t['dups']})"
            " ORDER BY id, _row_hash)"
        )
    return query, s.params


def diff(cur: duckdb.DuckDBPyConnection, plan: TablePlan, have: str) -> None:
    """Compare the rows held with `have` (id, _row_hash: Postgres's state) into temp tables.

    `send`: ids new or changed (with their hash); `gone`: ids Postgres holds and the store
    no longer does. One full join finds both. Fills the created / updated / deleted counts.
    """
    t = {k: ident(v) for k, v in plan.tables.items()}
    send, gone, changed = (_temp(plan.name, w) for w in ("send", "gone", "changed"))
    plan.tables.update(send=send, gone=gone)
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {ident(changed)} AS SELECT coalesce(h.id, v.id) AS id,"
        " h._row_hash, h._fp, h.id IS NULL AS _gone, v.id IS NULL AS _new"
        f" FROM {t['hold']} AS h FULL JOIN {ident(have)} AS v ON h.id = v.id"
        " WHERE h.id IS NULL OR v.id IS NULL OR h._row_hash <> v._row_hash"
    )
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {ident(send)} AS SELECT id, _row_hash, _fp, _new"
        f" FROM {ident(changed)} WHERE NOT _gone"
    )
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {ident(gone)} AS SELECT id FROM {ident(changed)} WHERE _gone"
    )
    created, updated, deleted = cur.execute(
        "SELECT count(*) FILTER (WHERE _new), count(*) FILTER (WHERE NOT _new AND NOT _gone),"
        f" count(*) FILTER (WHERE _gone) FROM {ident(changed)}"
    ).fetchall()[0]
    plan.created, plan.updated, plan.deleted = int(created), int(updated), int(deleted)
    cur.execute(f"DROP TABLE {ident(changed)}")
