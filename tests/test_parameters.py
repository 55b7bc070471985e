"""Parameter and unit spellings map to one canonical name; headers identify their dataset."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from data_layer.datasets import DATASETS
from data_layer.parameters import canonical_parameter, canonical_unit
from loaders.read import recognise

REAL_PARAMETERS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "reference"
    / "real"
    / "industrial_monitoring_parameters_units.csv"
)
NALS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "igp_nals.csv"


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("Zinc, Total", "Zinc, Total"),
        ("Zinc, Total (Recoverable)", "Zinc, Total"),
        ("Zinc, Total Recoverable", "Zinc, Total"),
        ("Total Zinc", "Zinc, Total"),
        ("  zinc ", "Zinc, Total"),
        ("Zinc, Dissolved", "Zinc, Dissolved"),
        ("TSS", "Total Suspended Solids (TSS)"),
        ("Oil & Grease (HEM)", "Oil and Grease"),
        ("Phosphorus, Total (as P)", "Phosphorus, Total"),
        ("Nitrite Plus Nitrate (as N)", "Nitrate + Nitrite Nitrogen"),
        ("Ammonia, Total (as N)", "Ammonia (as N)"),
        ("PH", "pH"),
        ("Benzene", "Benzene"),
        (None, None),
    ],
)
def test_parameter_spellings(spelling: str | None, canonical: str | None) -> None:
    assert canonical_parameter(spelling) == canonical


@pytest.mark.parametrize(
    ("unit", "canonical"),
    [
        ("mg/l", "mg/L"),
        ("MG/L", "mg/L"),
        ("µg/L", "ug/L"),
        ("ug/l", "ug/L"),
        ("s.u.", "SU"),
        ("NTU", "NTU"),
        ("furlongs", None),
        (None, None),
    ],
)
def test_unit_spellings(unit: str | None, canonical: str | None) -> None:
    assert canonical_unit(unit) == canonical


@pytest.mark.skipif(
    not REAL_PARAMETERS.is_file(),
    reason="real parameter list (../shared/reference/real) is not present on this machine",
)
def test_every_real_total_spelling_of_a_nal_parameter_maps_to_the_nal_name() -> None:
    nal_names = {row["parameter"] for row in csv.DictReader(NALS.open())}
    with REAL_PARAMETERS.open() as fh:
        rows = list(csv.DictReader(fh))
    mapped = {canonical_parameter(r["PARAMETER"]) for r in rows}
    assert nal_names <= mapped, nal_names - mapped
    for row in rows:
        name = row["PARAMETER"]
        if "Dissolved" in name or "(III)" in name:
            assert canonical_parameter(name) not in nal_names
        for unit in (row["max.unit"], row["second.unit"]):
            if unit in ("mg/L", "ug/L", "SU"):
                assert canonical_unit(unit) == unit


@pytest.mark.parametrize("ds", DATASETS, ids=lambda d: d.name)
def test_each_contract_header_is_recognised(ds) -> None:
    assert recognise([c.source for c in ds.columns]) == ds
    assert recognise([c.source.lower() for c in reversed(ds.columns)]) == ds
