"""Small, hand-made source files for loader tests: exact contract headers, chosen rows."""

from __future__ import annotations

import csv
from pathlib import Path

from data_layer.datasets import dataset

BASE_ROWS: dict[str, dict[str, str]] = {
    "violations": {
        "WDID": "4 19I000001",
        "APP_ID": "100",
        "VIOLATION_SOURCE": "Report",
        "VIOLATION_TYPE": "Late Report",
        "SERIOUS_VIOLATION": "N",
        "VIOLATION_PRIORITY": "2",
        "OCCURRENCE_DATE": "2021-03-04",
        "DISCOVERY_DATE": "NA",
        "VIOLATION_STATUS": "Violation",
        "PERMIT_TYPE": "Industrial",
        "REGIONAL_BOARD": "4",
        "PLACE_NAME": "Acme Metals",
        "PLACE_LATITUDE": "34.05",
        "PLACE_LONGITUDE": "-118.25",
        "INDIRECTLY": "Y",
        "DIRECTLY": "N",
    },
    "industrial_monitoring": {
        "PERMIT_TYPE": "Industrial",
        "WDID": "4 19I000001",
        "APP_ID": "100",
        "REPORTING_YEAR": "2020",
        "EVENT_TYPE": "Qualifying Storm Event",
        "SAMPLE_DATE": "2021-01-15",
        "PARAMETER": "Zinc, Total",
        "RESULT_QUALIFIER": "=",
        "RESULT": "0.31",
        "UNITS": "mg/L",
    },
}


def rows_for(name: str, count: int, start: int = 1) -> list[dict[str, str]]:
    """`count` valid rows with distinct keys, based on the dataset's template row."""
    ds = dataset(name)
    rows = []
    for i in range(start, start + count):
        row = dict(BASE_ROWS[name])
        if name == "violations":
            row["VIOLATION_ID"] = f"V{i:06d}"
        else:
            row["REPORT_ID"] = f"R{i // 5:06d}"
            row["SAMPLE_ID"] = f"S{i:06d}"
        rows.append(row)
    assert all(src in rows[0] for src in ds.key_sources)
    return rows


def write_csv(
    path: Path,
    name: str,
    rows: list[dict[str, str]],
    headers: list[str] | None = None,
    bom: bool = False,
    encoding: str = "utf-8",
) -> Path:
    """Write rows under the contract's headers (or `headers`), 'NA' for anything not given."""
    headers = headers or [c.source for c in dataset(name).columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as fh:
        if bom:
            fh.write("\ufeff")
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.get(h, "NA") for h in headers])
    return path
