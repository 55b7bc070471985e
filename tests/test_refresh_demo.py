"""The whole built-in sample loads: every dataset published, nothing rejected, links intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from data_layer.datasets import DATASETS
from data_layer.status import dataset_status
from data_layer.store import Store, store_at
from loaders.refresh import PUBLISHED, UNCHANGED, RefreshOptions, refresh
from tests.conftest import ESMR_YEARS


def view(store: Store, name: str) -> str:
    return f"read_parquet('{store.data_glob(name)}', hive_partitioning = true)"


def test_every_dataset_publishes_without_rejects(tiny_store: Store) -> None:
    rows = {r["dataset"]: r for r in dataset_status(tiny_store)}
    for ds in DATASETS:
        assert rows[ds.name]["health"] == "ok", ds.name
        assert rows[ds.name]["rows"] > 0 and rows[ds.name]["rejects"] == 0, ds.name


def test_monitoring_is_partitioned_by_reporting_year_and_sorted(tiny_store: Store) -> None:
    root = tiny_store.version_dir(
        "industrial_monitoring", tiny_store.current_version("industrial_monitoring")
    )
    parts = sorted(p.name for p in (root / "data").iterdir())
    assert parts and all(p.startswith("reporting_year=") for p in parts)
    con = duckdb.connect()
    for part in (root / "data").iterdir():
        for f in part.glob("*.parquet"):
            keys = con.execute(f"SELECT wdid, sample_date FROM '{f}'").fetchall()
            assert keys == sorted(keys, key=lambda k: (k[0], k[1] is None, k[1]))
    (mismatch,) = con.execute(f"""
        SELECT count(*) FROM {view(tiny_store, "industrial_monitoring")}
        WHERE reporting_year <> CASE WHEN month(sample_date) >= 7 THEN year(sample_date)
                                     ELSE year(sample_date) - 1 END""").fetchall()[0]
    assert mismatch == 0


def test_links_survive_loading(tiny_store: Store) -> None:
    con = duckdb.connect()
    (orphans,) = con.execute(f"""
        SELECT count(*) FROM {view(tiny_store, "violations")} v
        ANTI JOIN {view(tiny_store, "industrial_facilities")} f USING (wdid, app_id)
        ANTI JOIN {view(tiny_store, "construction_facilities")} c USING (wdid, app_id)
    """).fetchall()[0]
    assert orphans == 0
    (from_inspections,) = con.execute(f"""
        SELECT count(*) FROM {view(tiny_store, "violations")} v
        JOIN {view(tiny_store, "inspections")} i ON i.inspection_id = v.violation_source_id
        WHERE v.violation_source = 'Inspection'""").fetchall()[0]
    assert from_inspections > 0


def test_esmr_years_are_separate_units(
    tiny_source: Path, tiny_store: Store, tmp_path: Path
) -> None:
    store = store_at(tmp_path / "store")
    shutil.copytree(tiny_store.root, store.root, symlinks=True)
    options = RefreshOptions(
        source=str(tiny_source), datasets=["esmr_samples"], esmr_years=ESMR_YEARS
    )
    assert refresh(store, options)[0].outcome == UNCHANGED
    source = tmp_path / "src"
    shutil.copytree(tiny_source, source)
    changed = next(source.glob(f"esmr*{ESMR_YEARS[-1]}*.csv"))
    changed.write_bytes(changed.read_bytes() + changed.read_bytes().split(b"\n", 2)[1] + b"\n")
    package = source / "package.json"
    package.write_text(
        package.read_text().replace(
            f'"size": {(tiny_source / changed.name).stat().st_size}',
            f'"size": {changed.stat().st_size}',
        )
    )
    out = refresh(
        store, RefreshOptions(source=str(source), datasets=["esmr_samples"], esmr_years=ESMR_YEARS)
    )[0]
    assert out.outcome == PUBLISHED
    manifest = store.manifest("esmr_samples")
    old = tiny_store.manifest("esmr_samples")
    first = str(ESMR_YEARS[0])
    assert manifest["sources"][first] == old["sources"][first]
    new_dir = store.version_dir("esmr_samples", out.version) / "data"
    old_dir = store.version_dir("esmr_samples", old["version"]) / "data"
    new_file = next((new_dir / f"sampling_year={first}").glob("*.parquet"))
    old_file = next((old_dir / f"sampling_year={first}").glob("*.parquet"))
    assert new_file.stat().st_ino == old_file.stat().st_ino
