"""The built-in sample source (`demo-source`): the seven SMARTS exports, eSMR per year, a
CKAN-style `package.json`, and the facility-match answer key, realistic and linked.

`write_demo_source` is deterministic for a seed, scale and reference availability: every
random draw comes from one numpy generator, and every date is fixed (the export is cut off
on 2025-11-30), except the default eSMR years, which end with the current year. `scale=1`
is full size (about 8.5M SMARTS rows); rows grow linearly with the scale, with a floor that
keeps every file populated at tiny scales.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import polars as pl

from data_layer.datasets import SMARTS_PACKAGE, dataset
from loaders.demo_construction import construction_columns
from loaders.demo_esmr import plan_esmr, write_esmr
from loaders.demo_facilities import (
    assign_ids,
    check_regions,
    construction_places,
    industrial_columns,
    industrial_places,
)
from loaders.demo_format import CsvFile, Fmt
from loaders.demo_monitoring import write_monitoring
from loaders.demo_records import (
    Records,
    build_records,
    enforcement_columns,
    inspection_columns,
    violation_columns,
)
from loaders.demo_vocab import load_vocab

log = logging.getLogger(__name__)

#: Rows per dataset at scale 1 (the 2025-12 exports; eSMR per year).
FULL_ROWS = {
    "industrial_facilities": 15_000,
    "construction_facilities": 78_000,
    "violations": 31_000,
    "enforcement_actions": 29_000,
    "inspections": 45_000,
    "industrial_monitoring": 5_500_000,
    "construction_monitoring": 2_800_000,
    "esmr_samples": 150_000,
}
#: Floors that keep every file populated and linked at tiny scales.
MIN_ROWS = {
    "industrial_facilities": 30,
    "construction_facilities": 60,
    "violations": 40,
    "enforcement_actions": 30,
    "inspections": 40,
    "industrial_monitoring": 3_000,
    "construction_monitoring": 1_500,
    "esmr_samples": 300,
}
TRUTH_FILE = "_truth/facility_matches.csv"
PACKAGE_TITLE = (
    "Stormwater Regulatory (including Enforcement Actions) Information and Water Quality Results"
)
EXPORT_TIME = dt.datetime(2025, 12, 2, 6, 0, 0)
_ID_NAMESPACE = uuid.UUID("6f1c9a52-3e0b-4b8e-9a57-2d2f7c1e5a10")


def scaled_rows(scale: float) -> dict[str, int]:
    """Target rows per dataset at `scale`."""
    return {k: max(MIN_ROWS[k], round(v * scale)) for k, v in FULL_ROWS.items()}


def default_esmr_years(today: dt.date | None = None) -> list[int]:
    """The five calendar years ending with the current one."""
    year = (today or dt.date.today()).year
    return list(range(year - 4, year + 1))


def write_demo_source(
    out: Path,
    scale: float = 0.01,
    seed: int = 42,
    reference: Path | None = None,
    esmr_years: Sequence[int] | None = None,
    progress_stream: TextIO | None = None,
) -> dict[str, int]:
    """Write the sample into `out`; returns rows written per data file name."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    fmt = Fmt(rng)
    vocab = load_vocab(reference)
    rows = scaled_rows(scale)
    years = sorted(set(esmr_years)) if esmr_years is not None else default_esmr_years()
    log.info(
        "demo source: scale %s, seed %s, %s vocabulary, eSMR years %s",
        scale,
        seed,
        "real" if vocab.real else "built-in",
        years,
    )
    places = pl.concat(
        [
            industrial_places(vocab, rows["industrial_facilities"], rng),
            construction_places(vocab, rows["construction_facilities"], rng),
        ],
        how="diagonal",
    )
    esmr = plan_esmr(rng, places, vocab.plants, scale)
    places = assign_ids(esmr.places, rng)
    check_regions(places)
    written = _write_facilities(out, fmt, places, progress_stream)
    records = build_records(
        rng, places, rows["inspections"], rows["violations"], rows["enforcement_actions"]
    )
    written |= _write_records(out, fmt, places, records, progress_stream)
    written |= write_monitoring(out, rng, places, vocab.parameters, rows, progress_stream)
    written |= write_esmr(out, rng, esmr, years, rows["esmr_samples"], progress_stream)
    _write_truth(out, places, esmr.truth)
    write_package(out, written, seed)
    return written


def _headers(name: str) -> list[str]:
    """The contract's source headers for a dataset, in file order."""
    return [c.source for c in dataset(name).columns]


def _write_facilities(
    out: Path, fmt: Fmt, places: pl.DataFrame, stream: TextIO | None
) -> dict[str, int]:
    """Both facility files, each sorted by WDID."""
    written = {}
    for name, kind, columns in (
        ("industrial_facilities", "Industrial", industrial_columns),
        ("construction_facilities", "Construction", construction_columns),
    ):
        subset = places.filter(pl.col("kind") == kind).sort("wdid")
        with CsvFile(
            out / f"{name}.csv", _headers(name), total=subset.height, stream=stream
        ) as csv:
            csv.write(columns(fmt, subset))
            written[csv.path.name] = csv.close()
    return written


def _write_records(
    out: Path, fmt: Fmt, places: pl.DataFrame, records: Records, stream: TextIO | None
) -> dict[str, int]:
    """Violations, enforcement actions and inspections."""
    written = {}
    for name, columns in (
        ("violations", violation_columns),
        ("enforcement_actions", enforcement_columns),
        ("inspections", inspection_columns),
    ):
        with CsvFile(out / f"{name}.csv", _headers(name), stream=stream) as csv:
            csv.write(columns(fmt, places, records))
            written[csv.path.name] = csv.close()
    return written


def _write_truth(out: Path, places: pl.DataFrame, truth: pl.DataFrame) -> None:
    """The answer key: which industrial facility is which eSMR facility."""
    rows = (
        places[truth["place_row"].to_numpy()]
        .select("wdid", "app_id")
        .with_columns(truth["place_id"].cast(pl.String).alias("facility_place_id"))
        .sort("wdid")
    )
    path = out / TRUTH_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.write_csv(path)


def resource_name(file_name: str) -> str:
    """The portal's resource name for a sample file."""
    stem = file_name.removesuffix(".csv")
    if stem.startswith("esmr_"):
        return f"eSMR Analytical Data {stem.removeprefix('esmr_')}"
    return dataset(stem).title


def write_package(out: Path, written: dict[str, int], seed: int) -> Path:
    """`package.json` in the shape of CKAN's `package_show` answer, listing every file."""
    modified = (EXPORT_TIME + dt.timedelta(seconds=seed % 3600)).isoformat(timespec="microseconds")
    resources = []
    for position, file_name in enumerate(written):
        name = resource_name(file_name)
        resources.append(
            {
                "id": str(uuid.uuid5(_ID_NAMESPACE, name)),
                "package_id": str(uuid.uuid5(_ID_NAMESPACE, SMARTS_PACKAGE)),
                "name": name,
                "description": f"{name} ({written[file_name]:,} rows)",
                "url": file_name,
                "format": "CSV",
                "mimetype": "text/csv",
                "size": (out / file_name).stat().st_size,
                "last_modified": modified,
                "created": modified,
                "position": position,
            }
        )
    result = {
        "id": str(uuid.uuid5(_ID_NAMESPACE, SMARTS_PACKAGE)),
        "name": SMARTS_PACKAGE,
        "title": PACKAGE_TITLE,
        "metadata_modified": modified,
        "num_resources": len(resources),
        "resources": resources,
    }
    body = {
        "help": "https://data.ca.gov/api/3/action/help_show?name=package_show",
        "success": True,
        "result": result,
    }
    path = out / "package.json"
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return path
