"""The two sides of facility matching, each as one frame of a fixed shape.

SMARTS facilities come from the store; eSMR facilities from the store's samples, or,
when a PostgreSQL URL is given, from the platform's `esmr_facilities` table, or from a
CIWQS facility export (CSV). Columns a source lacks (the store's eSMR rows carry no
address, city, county, agency or SIC) are null, so every source is scored the same way.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import psycopg

from data_layer.errors import SourceInvalid, SourceUnavailable
from data_layer.results import run_query

#: Where a facility is and what it does, on both sides (SMARTS: primary SIC as exported).
_PLACE_SCHEMA: dict[str, pl.DataType] = {
    "address": pl.String(),
    "city": pl.String(),
    "zip": pl.String(),
    "county": pl.String(),
    "region": pl.String(),
    "latitude": pl.Float64(),
    "longitude": pl.Float64(),
    "sic": pl.String(),
    "receiving_water": pl.String(),
}

#: The SMARTS side: one row per application (wdid, app_id), industrial and construction.
SMARTS_FACILITY_SCHEMA: dict[str, pl.DataType] = {
    "wdid": pl.String(),
    "app_id": pl.String(),
    "permit_family": pl.String(),
    "permit_type": pl.String(),
    "status": pl.String(),
    "name": pl.String(),
    "operator": pl.String(),
    **_PLACE_SCHEMA,
}

#: The eSMR side: one row per facility place; `agency` is the operating agency where known.
ESMR_FACILITY_SCHEMA: dict[str, pl.DataType] = {
    "facility_place_id": pl.String(),
    "name": pl.String(),
    "agency": pl.String(),
    **_PLACE_SCHEMA,
}

#: California's bounding box: coordinates outside it are treated as unknown.
CA_LATITUDE = (32.4, 42.1)
CA_LONGITUDE = (-124.5, -114.1)

#: The platform's eSMR facility table (quoted camelCase columns) as the eSMR frame.
_PG_ESMR_SQL = """
SELECT "facilityPlaceId"::text AS facility_place_id, "facilityName" AS name,
       "regionCode" AS region, latitude::float8 AS latitude, longitude::float8 AS longitude,
       "receivingWaterBody" AS receiving_water
FROM esmr_facilities
"""

#: CIWQS facility export headers, as the eSMR frame's columns.
CIWQS_COLUMNS: dict[str, str] = {
    "FACILITY ID": "facility_place_id",
    "FACILITY NAME": "name",
    "AGENCY NAME": "agency",
    "PLACE ADDRESS": "address",
    "PLACE CITY": "city",
    "PLACE ZIP": "zip",
    "PLACE COUNTY": "county",
    "REGION": "region",
    "LATITUDE DECIMAL DEGREES": "latitude",
    "LONGITUDE DECIMAL DEGREES": "longitude",
    "SIC CODE 1": "sic",
}
_CSV_NULLS = ["", "NA", "N/A", "NaN", "NULL"]


def smarts_facilities(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every SMARTS facility of the current versions, in `SMARTS_FACILITY_SCHEMA`.

    Grain: one row per (wdid, app_id), industrial and construction; coordinates outside
    California are null; `sic` is the primary SIC as exported ("4952-Sewerage Systems").
    """
    cols = ", ".join(SMARTS_FACILITY_SCHEMA)
    frame = run_query(cur, "match_smarts_facilities", f"SELECT {cols} FROM match_smarts_facilities")
    return conform(frame, SMARTS_FACILITY_SCHEMA)


def esmr_facilities(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """eSMR facilities derived from the store's samples, in `ESMR_FACILITY_SCHEMA`.

    Grain: one row per facility_place_id; name, region and receiving water are the
    commonest spelling among its samples (ties: the latest), coordinates the median of
    those reported (null when none are).
    """
    cols = ", ".join(ESMR_FACILITY_SCHEMA)
    frame = run_query(cur, "match_esmr_facilities", f"SELECT {cols} FROM match_esmr_facilities")
    return conform(frame, ESMR_FACILITY_SCHEMA)


def esmr_facilities_pg(pg_url: str) -> pl.DataFrame:
    """eSMR facilities from the platform's `esmr_facilities` table, same shape as the store's."""
    try:
        with psycopg.connect(pg_url, connect_timeout=10) as conn:
            cursor = conn.execute(_PG_ESMR_SQL)
            names = [d.name for d in cursor.description or ()]
            rows = cursor.fetchall()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceUnavailable(f"cannot read esmr_facilities from PostgreSQL: {first}") from exc
    frame = pl.DataFrame(rows, schema=names, orient="row")
    return conform(frame.with_columns(_region(pl.col("region"))), ESMR_FACILITY_SCHEMA)


def ciwqs_facilities_csv(path: Path) -> pl.DataFrame:
    """eSMR facilities from a CIWQS facility export (CSV), with agency, address and SIC.

    Grain: one row per FACILITY ID (the first row where the export repeats one).
    """
    try:
        raw = pl.read_csv(path, infer_schema=False, null_values=_CSV_NULLS, encoding="utf8-lossy")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise SourceInvalid(f"cannot read CIWQS facilities from {path}: {exc}") from exc
    missing = [c for c in ("FACILITY ID", "FACILITY NAME") if c not in raw.columns]
    if missing:
        raise SourceInvalid(f"{path} is not a CIWQS facility export: no {', '.join(missing)}")
    present = {src: dst for src, dst in CIWQS_COLUMNS.items() if src in raw.columns}
    frame = raw.select([pl.col(src).alias(dst) for src, dst in present.items()])
    frame = frame.with_columns(
        _region(pl.col("region")) if "region" in frame.columns else pl.lit(None).alias("region")
    )
    frame = conform(frame, ESMR_FACILITY_SCHEMA)
    return frame.filter(pl.col("facility_place_id").is_not_null()).unique(
        "facility_place_id", keep="first", maintain_order=True
    )


def _region(expr: pl.Expr) -> pl.Expr:
    """Regional Board codes as SMARTS writes them: `Region 5S`, `R5S` and `5s` become `5S`."""
    text = expr.cast(pl.String).str.strip_chars().str.to_uppercase()
    return text.str.replace(r"^(REGION\s*|R\s*)(\d)", "$2").alias("region")


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """`frame` with exactly `schema`'s columns and types: missing ones null, text trimmed.

    Coordinates outside California, and text that is empty once trimmed, become null.
    """
    cols = []
    for name, dtype in schema.items():
        col = pl.col(name) if name in frame.columns else pl.lit(None)
        if dtype == pl.String():
            text = col.cast(pl.String).str.strip_chars()
            cols.append(pl.when(text != "").then(text).alias(name))
        else:
            cols.append(col.cast(dtype, strict=False).alias(name))
    out = frame.select(cols)
    if "latitude" in schema:
        inside = pl.col("latitude").is_between(*CA_LATITUDE) & pl.col("longitude").is_between(
            *CA_LONGITUDE
        )
        out = out.with_columns(
            pl.when(inside).then(pl.col(c)).alias(c) for c in ("latitude", "longitude")
        )
    return out
