"""Shared fixtures: one small generated source and store, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_layer.settings import Settings
from data_layer.store import Store, store_at
from loaders.demo_source import write_demo_source
from loaders.refresh import RefreshOptions, refresh
from tests.pg import make_pg_database, pg_server, pg_url  # noqa: F401  (shared fixtures)

TINY_SCALE = 0.002
ESMR_YEARS = (2023, 2024)


def _reference() -> Path | None:
    ref = Settings.from_env().reference
    return ref if ref.is_dir() else None


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in sample at a few thousand rows (fixed seed); read-only for tests."""
    out = tmp_path_factory.mktemp("tiny_source")
    write_demo_source(out, scale=TINY_SCALE, seed=7, reference=_reference(), esmr_years=ESMR_YEARS)
    return out


@pytest.fixture(scope="session")
def tiny_store(tiny_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """`tiny_source` refreshed into a store; read-only (copy it to mutate)."""
    store = store_at(tmp_path_factory.mktemp("tiny_store"))
    outcomes = refresh(
        store, RefreshOptions(source=str(tiny_source), esmr_years=ESMR_YEARS, memory_limit="1GB")
    )
    failed = [(o.dataset, o.error) for o in outcomes if o.outcome != "published"]
    assert not failed, failed
    return store
