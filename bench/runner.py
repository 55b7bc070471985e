"""The benchmark table of DESIGN §9 for the loaders: refresh vs DuckDB's bare CSV→Parquet copy.

Both sides read the same generated files in the same run, alternating, each in a
fresh process; medians are reported with the ratio ours / baseline.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.matching import matching_benchmarks
from bench.measure import measure_code
from bench.pages import page_benchmarks
from bench.queries import query_benchmarks
from bench.sync import sync_benchmarks
from data_layer.datasets import DATASETS
from data_layer.settings import Settings
from data_layer.store import DATA, store_at

BARE_COPY = """
import duckdb, json, pathlib
files = json.loads({files!r})
out = pathlib.Path({out!r})
con = duckdb.connect()
con.execute("SET temp_directory = '{scratch}'")
for i, f in enumerate(files):
    target = f"{{out}}/{{i}}.parquet"
    try:
        con.execute(f"COPY (SELECT * FROM read_csv('{{f}}')) TO '{{target}}' (FORMAT parquet)")
    except duckdb.Error:  # the sniffer guessed a type a later row breaks: read as text
        con.execute(f"COPY (SELECT * FROM read_csv('{{f}}', all_varchar = true))"
                    f" TO '{{target}}' (FORMAT parquet)")
"""

REFRESH = """
from loaders.refresh import RefreshOptions, refresh
from data_layer.store import store_at
outs = refresh(store_at({store!r}), RefreshOptions(source={source!r}, force=True,
               esmr_years=tuple({years!r}), memory_limit={memory!r}))
bad = [o for o in outs if o.outcome != "published"]
assert not bad, [(o.dataset, o.error) for o in bad]
"""


def _row(
    name: str, value: float, unit: str, scale: float, baseline: float | None = None
) -> dict[str, Any]:
    ratio = round(value / baseline, 3) if baseline else None
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": round(baseline, 3) if baseline is not None else None,
        "ratio": ratio,
        "scale": scale,
    }


def ensure_source(workdir: Path, scale: float, settings: Settings) -> tuple[Path, float | None]:
    """The generated source for `scale`, and the seconds it took if generated now."""
    from loaders.demo_source import write_demo_source

    source = workdir / f"source-{scale:g}"
    if (source / "package.json").is_file():
        return source, None
    shutil.rmtree(source, ignore_errors=True)
    start = time.perf_counter()
    write_demo_source(
        source,
        scale=scale,
        seed=42,
        reference=settings.reference if settings.reference.is_dir() else None,
        esmr_years=settings.esmr_years,
    )
    return source, time.perf_counter() - start


def _csv_files(source: Path) -> list[str]:
    package = json.loads((source / "package.json").read_text())
    return [str(source / r["url"]) for r in package["result"]["resources"]]


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def refresh_benchmarks(
    workdir: Path, scale: float, repeat: int, settings: Settings
) -> Iterator[dict[str, Any]]:
    """Generate (if needed), then refresh everything `repeat` times beside the bare copy."""
    source, generated = ensure_source(workdir, scale, settings)
    if generated is not None:
        yield _row("generate_source_s", generated, "s", scale)
    files = _csv_files(source)
    csv_bytes = sum(Path(f).stat().st_size for f in files)
    ours, again, bare = [], [], []
    store = workdir / "store"
    bare_out = workdir / "bare"
    scratch = workdir / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    for _ in range(repeat):
        shutil.rmtree(bare_out, ignore_errors=True)
        bare_out.mkdir(parents=True)
        bare.append(
            measure_code(
                BARE_COPY.format(files=json.dumps(files), out=str(bare_out), scratch=scratch)
            )
        )
        shutil.rmtree(store, ignore_errors=True)
        code = REFRESH.format(
            store=str(store),
            source=str(source),
            years=list(settings.esmr_years),
            memory=settings.memory_limit,
        )
        ours.append(measure_code(code))
        # The weekly case: every export reloaded over the version just published, so the
        # change record compares each key with the previous version.
        again.append(measure_code(code))
    med = {k: statistics.median(r[k] for r in ours) for k in ("seconds", "peak_mb")}
    med_again = {k: statistics.median(r[k] for r in again) for k in ("seconds", "peak_mb")}
    base = {k: statistics.median(r[k] for r in bare) for k in ("seconds", "peak_mb")}
    yield _row("refresh_all_s", med["seconds"], "s", scale, base["seconds"])
    yield _row("refresh_again_s", med_again["seconds"], "s", scale, base["seconds"])
    yield _row("refresh_peak_memory_mb", med["peak_mb"], "MB", scale, base["peak_mb"])
    yield _row("refresh_again_peak_memory_mb", med_again["peak_mb"], "MB", scale, base["peak_mb"])
    current = store_at(store)
    versions = {ds.name: current.require_version(ds.name) for ds in DATASETS}
    data = sum(_dir_size(current.version_dir(n, v) / DATA) for n, v in versions.items())
    rows = sum(current.manifest(n, v)["rows_in"] for n, v in versions.items())
    yield _row("store_size_mb", data / 2**20, "MB", scale, csv_bytes / 2**20)
    yield _row("source_rows_per_s", rows / med["seconds"], "rows/s", scale)


BENCHMARKS = {
    "refresh": refresh_benchmarks,
    "queries": query_benchmarks,
    "pages": page_benchmarks,
    "matching": matching_benchmarks,
    "sync": sync_benchmarks,
}


def run_benchmarks(
    workdir: Path, scale: float, only: str | None, repeat: int, settings: Settings
) -> Iterator[dict[str, Any]]:
    """Every benchmark group whose name contains `only` (all by default)."""
    workdir = workdir.resolve() / f"scale-{scale:g}"
    workdir.mkdir(parents=True, exist_ok=True)
    for name, bench in BENCHMARKS.items():
        if only is None or only in name:
            yield from bench(workdir, scale, repeat, settings)
