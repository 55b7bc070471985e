"""Data-quality findings for `data_quality_issues`: the sync's own and the store's sample flags.

The sync's findings (a value that did not convert, a row not written and why, facilities
without coordinates) are gathered while planning each table (`plan.py`). The per-result
flags of `data_layer/quality.py` (model `quality_sample_flags`) are added here, each
pointing at the sample's row id. One finding per (table, record, issue): details of the
same issue on one record are joined.
"""

from __future__ import annotations

import duckdb

from data_layer.identifiers import ident, literal
from data_layer.nal_table import bind_rules
from data_layer.pg.ids import key_id_sql
from data_layer.pg.mapping import FINDINGS_RELATION
from data_layer.pg.plan import RAW_FINDINGS
from data_layer.quality import FLAGS

FINDING_COLUMNS = {
    "table": "VARCHAR",
    "record_id": "VARCHAR",
    "issue": "VARCHAR",
    "details": "VARCHAR",
}

#: Each quality flag's issue code in `data_quality_issues`.
FLAG_ISSUES: dict[str, str] = {
    "impossible_value": "IMPOSSIBLE_VALUE",
    "impossible_date": "INVALID_DATE",
    "duplicate_sample": "DUPLICATE_SAMPLE",
    "coordinates_outside_california": "COORDS_OUTSIDE_CALIFORNIA",
    "unmapped_unit": "UNKNOWN_UNITS",
    "uninformative_nd": "UNINFORMATIVE_NON_DETECT",
}
#: Where `quality_sample_flags` holds each key column of `smarts_monitoring_samples`.
SAMPLE_FLAG_KEY: dict[str, str] = {
    "reportWdid": "wdid",
    "reportAppId": "app_id",
    "reportId": "report_id",
    "sampleId": "sample_id",
    "parameter": "parameter_reported",
    "sampleDate": "sample_date",
}
SAMPLES_TABLE = "smarts_monitoring_samples"


def start_findings(cur: duckdb.DuckDBPyConnection) -> None:
    """An empty temp table for the findings of one sync."""
    cols = ", ".join(f"{ident(k)} {v}" for k, v in FINDING_COLUMNS.items())
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {ident(RAW_FINDINGS)} ({cols})")


def add_sample_flags(cur: duckdb.DuckDBPyConnection, sample_key: tuple[str, ...]) -> int:
    """Add one finding per raised flag of every monitoring result; returns how many.

    `sample_key`: the samples table's key columns in id order, so ids match its rows.
    """
    if set(FLAG_ISSUES) != set(FLAGS):
        raise ValueError("FLAG_ISSUES must name every flag of data_layer.quality.FLAGS")
    bind_rules(cur)
    record = key_id_sql([ident(SAMPLE_FLAG_KEY[k]) for k in sample_key])
    codes = " ".join(f"WHEN {literal(f)} THEN {literal(c)}" for f, c in FLAG_ISSUES.items())
    before = _count(cur)
    cur.execute(
        f"INSERT INTO {ident(RAW_FINDINGS)} SELECT {literal(SAMPLES_TABLE)}, record_id,"
        f" CASE flag {codes} END, flag || ': ' || parameter_reported || ' = '"
        " || coalesce(CAST(result AS VARCHAR), 'no value') || coalesce(' ' || units, '')"
        " || ' on ' || CAST(sample_date AS VARCHAR) FROM ("
        f"SELECT {record} AS record_id, unnest(flags) AS flag, parameter_reported, result,"
        " units, sample_date FROM quality_sample_flags WHERE flagged)"
    )
    return _count(cur) - before


def publish_findings(cur: duckdb.DuckDBPyConnection) -> int:
    """Gather the findings into the relation `data_quality_issues` is synced from."""
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {ident(FINDINGS_RELATION)} AS"
        ' SELECT "table", record_id, issue,'
        " string_agg(DISTINCT details, '; ' ORDER BY details) AS details"
        f" FROM {ident(RAW_FINDINGS)} GROUP BY ALL"
    )
    return cur.execute(f"SELECT count(*) FROM {ident(FINDINGS_RELATION)}").fetchall()[0][0]


def _count(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute(f"SELECT count(*) FROM {ident(RAW_FINDINGS)}").fetchall()[0][0]
