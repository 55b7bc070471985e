"""The refresh benchmark runs both sides on real generated files and reports every row."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.runner import refresh_benchmarks
from data_layer.datasets import DATASETS
from data_layer.settings import Settings
from data_layer.store import DATA, store_at


def test_refresh_benchmarks_report_first_load_reload_memory_and_size(tmp_path: Path) -> None:
    settings = Settings.from_env({"STORMWATER_ESMR_YEARS": "2024"})
    rows = {r["name"]: r for r in refresh_benchmarks(tmp_path, 0.002, 1, settings)}
    assert set(rows) == {
        "generate_source_s",
        "refresh_all_s",
        "refresh_again_s",
        "refresh_peak_memory_mb",
        "refresh_again_peak_memory_mb",
        "store_size_mb",
        "source_rows_per_s",
    }
    for name in set(rows) - {"generate_source_s", "source_rows_per_s"}:
        assert rows[name]["value"] > 0 and rows[name]["baseline"] > 0, rows[name]
        ratio = rows[name]["value"] / rows[name]["baseline"]
        assert rows[name]["ratio"] == pytest.approx(ratio, rel=0.01)
    store = store_at(tmp_path / "store")
    for ds in DATASETS:  # the reload published a second version of every dataset
        assert len(store.versions(ds.name)) == 2, ds.name
    # Size and throughput count the current version only, not the one it replaced.
    data = [
        p
        for ds in DATASETS
        for p in (store.version_dir(ds.name, store.require_version(ds.name)) / DATA).rglob("*")
        if p.is_file()
    ]
    size_mb = sum(p.stat().st_size for p in data) / 2**20
    assert rows["store_size_mb"]["value"] == pytest.approx(size_mb, abs=0.001)
    source_rows = sum(store.manifest(ds.name)["rows_in"] for ds in DATASETS)
    throughput = source_rows / rows["refresh_all_s"]["value"]
    assert rows["source_rows_per_s"]["value"] == pytest.approx(throughput, rel=0.01)
