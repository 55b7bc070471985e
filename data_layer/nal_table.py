"""The permit's NAL table, unit conversions and non-detect rules: the data the rules run on.

`nals.csv` holds the Industrial General Permit's Numeric Action Levels, with its version
and source in `# key: value` lines above the header. The exceedance SQL never holds a
limit: a query function binds the table to its cursor with `bind_rules`, which sets the
cursor's `nal_table` and `unit_conversions` variables that the `ref_` models read. Each
cursor binds its own copy, so two tables (two versions) can be used side by side, and
every exceedance row carries the `nal_version` it was computed with.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from data_layer.parameters import canonical_parameter

#: The NAL table shipped with the product.
NAL_CSV = Path(__file__).resolve().parent / "nals.csv"

#: Non-detect rules: what a non-detect counts as in an average (DESIGN §6).
ND_RULES: tuple[str, ...] = ("exclude", "zero", "half_rl", "rl")

#: The permit's own rule (docs/EXCEEDANCE_RULES.md cites the fact sheet): leave them out.
DEFAULT_ND_RULE = "exclude"

_NAL_TYPE = (
    "STRUCT(parameter VARCHAR, units VARCHAR, annual_nal DOUBLE,"
    " instantaneous_max_nal DOUBLE, instantaneous_min_nal DOUBLE, nal_version VARCHAR)[]"
)
_CONVERSION_TYPE = "STRUCT(from_unit VARCHAR, to_unit VARCHAR, factor DOUBLE, quantity VARCHAR)[]"


@dataclass(frozen=True)
class UnitConversion:
    """A canonical unit and the factor that turns it into its standard unit."""

    from_unit: str
    to_unit: str
    factor: float
    quantity: str


#: Units convertible to a standard unit; every NAL unit is one of the `to_unit`s.
UNIT_CONVERSIONS: tuple[UnitConversion, ...] = (
    UnitConversion("mg/L", "mg/L", 1.0, "concentration"),
    UnitConversion("ug/L", "mg/L", 1e-3, "concentration"),
    UnitConversion("ng/L", "mg/L", 1e-6, "concentration"),
    UnitConversion("pg/L", "mg/L", 1e-9, "concentration"),
    UnitConversion("SU", "SU", 1.0, "pH"),
)


@dataclass(frozen=True)
class Nal:
    """One row of the NAL table (limits in `units`; None where the permit sets none)."""

    parameter: str
    units: str
    annual_nal: float | None
    instantaneous_max_nal: float | None
    instantaneous_min_nal: float | None
    notes: str = ""


@dataclass(frozen=True)
class NalTable:
    """A versioned NAL table with the unit conversions used to compare results to it."""

    version: str
    source: str
    rows: tuple[Nal, ...]
    unit_conversions: tuple[UnitConversion, ...] = field(default=UNIT_CONVERSIONS)

    def nal(self, parameter: str) -> Nal | None:
        """The row for a parameter (any spelling), or None when the table has none."""
        name = canonical_parameter(parameter)
        return next((r for r in self.rows if r.parameter == name), None)

    def bound_rows(self) -> list[dict[str, object]]:
        """The rows as the `nal_table` cursor variable holds them."""
        return [
            {
                "parameter": r.parameter,
                "units": r.units,
                "annual_nal": r.annual_nal,
                "instantaneous_max_nal": r.instantaneous_max_nal,
                "instantaneous_min_nal": r.instantaneous_min_nal,
                "nal_version": self.version,
            }
            for r in self.rows
        ]


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def read_nal_table(path: Path) -> NalTable:
    """Read a NAL table CSV: `# version:` and `# source:` lines, then the header and rows."""
    meta: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    body = []
    for line in lines:
        if line.startswith("#"):
            key, _, value = line.lstrip("#").partition(":")
            meta[key.strip().lower()] = value.strip()
        elif line.strip():
            body.append(line)
    if "version" not in meta:
        raise ValueError(f"{path} has no '# version:' line")
    rows = tuple(
        Nal(
            parameter=canonical_parameter(rec["parameter"]) or "",
            units=rec["units"].strip(),
            annual_nal=_number(rec["annual_nal"]),
            instantaneous_max_nal=_number(rec["instantaneous_max_nal"]),
            instantaneous_min_nal=_number(rec["instantaneous_min_nal"]),
            notes=rec.get("notes") or "",
        )
        for rec in csv.DictReader(body)
    )
    table = NalTable(meta["version"], meta.get("source", ""), rows)
    standard = {c.to_unit for c in table.unit_conversions}
    odd = [r.parameter for r in rows if r.units not in standard]
    if odd:
        raise ValueError(f"{path}: NAL units with no conversion: {', '.join(odd)}")
    return table


@cache
def load_nal_table() -> NalTable:
    """The NAL table shipped in `data_layer/nals.csv` (read once per process)."""
    return read_nal_table(NAL_CSV)


def check_nd_rule(nd_rule: str) -> str:
    """`nd_rule` if it is one of ND_RULES, else a ValueError naming the choices."""
    if nd_rule not in ND_RULES:
        raise ValueError(
            f"unknown non-detect rule {nd_rule!r}; choose one of {', '.join(ND_RULES)}"
        )
    return nd_rule


def bind_rules(cur: duckdb.DuckDBPyConnection, table: NalTable | None = None) -> NalTable:
    """Set this cursor's `nal_table` and `unit_conversions` variables; returns the table used."""
    table = table or load_nal_table()
    conversions = [
        {"from_unit": c.from_unit, "to_unit": c.to_unit, "factor": c.factor, "quantity": c.quantity}
        for c in table.unit_conversions
    ]
    cur.execute(f"SET VARIABLE nal_table = ?::{_NAL_TYPE}", [table.bound_rows()])
    cur.execute(f"SET VARIABLE unit_conversions = ?::{_CONVERSION_TYPE}", [conversions])
    return table
