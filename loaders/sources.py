"""Where each dataset's files come from: a CKAN portal, or a local directory.

A directory with a `package.json` (the shape of a CKAN `package_show` result) is read
like the portal; without one, each CSV is recognised by its header. Either way the
result is a list of `SourceFile`s, one per unit of change (one per eSMR year).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import requests

from data_layer.datasets import DATASETS, Dataset
from data_layer.errors import SourceInvalid
from loaders import ckan
from loaders.read import read_header, recognise

log = logging.getLogger(__name__)

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


@dataclass(frozen=True)
class SourceFile:
    """One file to load: a local path or a URL, with what identifies its content."""

    dataset: str
    name: str
    location: str
    size: int | None
    last_modified: str | None
    year: int | None = None
    validator: str | None = None

    @property
    def is_remote(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    @property
    def unit(self) -> str:
        """The unit of change within its dataset: the year for per-year files."""
        return str(self.year) if self.year is not None else "all"

    def signature(self) -> dict[str, object]:
        """What must stay equal for the source to count as unchanged."""
        sig: dict[str, object] = {
            "name": self.name,
            "size": self.size,
            "last_modified": self.last_modified,
        }
        if self.validator:
            sig["validator"] = self.validator
        return sig

    @property
    def traceable(self) -> bool:
        """Whether anything tells one version of the file from the next (else: always load)."""
        return self.size is not None or bool(self.last_modified or self.validator)


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def plan(
    source: str,
    wanted: list[Dataset] | None = None,
    esmr_years: tuple[int, ...] = (),
    session: requests.Session | None = None,
) -> list[SourceFile]:
    """The source files for the wanted datasets (all by default), from a directory or a portal."""
    wanted = wanted or list(DATASETS)
    names = {d.name for d in wanted}
    if is_url(source):
        session = session or requests.Session()
        resources = ckan.discover(source, session, esmr_years=esmr_years)
        files = [_from_resource(ckan.probe(r, session), None) for r in resources]
    else:
        files = _from_directory(Path(source), esmr_years)
    return [f for f in files if f.dataset in names]


def _from_resource(res: ckan.Resource, directory: Path | None) -> SourceFile:
    location = res.url
    size, modified = res.size, res.last_modified
    if directory is not None and not is_url(location):
        path = (directory / location).resolve()
        location = str(path)
        if path.is_file() and (size is None or not modified):
            stat_size, stat_modified = _stat(path)
            size = stat_size if size is None else size
            modified = modified or stat_modified
    return SourceFile(res.dataset, res.name, location, size, modified, res.year, res.validator)


def _stat(path: Path) -> tuple[int, str]:
    """A local file's size and modification time, the signature of a file on disk."""
    stat = path.stat()
    return stat.st_size, dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(
        timespec="seconds"
    )


def _from_directory(directory: Path, esmr_years: tuple[int, ...]) -> list[SourceFile]:
    if not directory.is_dir():
        raise SourceInvalid(f"source directory {directory} does not exist")
    package = directory / "package.json"
    if package.is_file():
        resources = ckan.discover_directory(directory, esmr_years=esmr_years or None)
        return [_from_resource(r, directory) for r in resources]
    return _recognise_files(directory, esmr_years)


def _recognise_files(directory: Path, esmr_years: tuple[int, ...]) -> list[SourceFile]:
    """Without a package.json, a CSV named for a dataset is that dataset; others go by header.

    A file named for its dataset is loaded even when it is unreadable, so that its
    problem (an HTML page, an empty file) is reported against the dataset.
    """
    files = []
    for path in sorted(directory.glob("*.csv")):
        ds = _named_dataset(path)
        if ds is None:
            try:
                ds = recognise(read_header(path))
            except SourceInvalid as exc:
                log.warning("skipping %s: %s", path.name, exc)
                continue
        if ds is None:
            log.warning("skipping %s: its header matches no dataset", path.name)
            continue
        year = _year_of(path, ds)
        if ds.per_year_sources and (year is None or (esmr_years and year not in esmr_years)):
            continue
        size, modified = _stat(path)
        files.append(SourceFile(ds.name, path.name, str(path.resolve()), size, modified, year))
    return files


def _named_dataset(path: Path) -> Dataset | None:
    """The dataset a file is named for (`violations.csv`, `esmr_samples_2024.csv`), if any."""
    stem = _YEAR.sub("", path.stem).strip("_- ").lower()
    return next((d for d in DATASETS if d.name == stem), None)


def _year_of(path: Path, ds: Dataset) -> int | None:
    if not ds.per_year_sources:
        return None
    match = _YEAR.search(path.stem)
    if match is None:
        log.warning("skipping %s: no year in its name for %s", path.name, ds.name)
        return None
    return int(match.group(1))


def by_dataset(files: list[SourceFile]) -> dict[str, list[SourceFile]]:
    """Files grouped per dataset, in contract order."""
    grouped: dict[str, list[SourceFile]] = {}
    for ds in DATASETS:
        mine = sorted((f for f in files if f.dataset == ds.name), key=lambda f: f.unit)
        if mine:
            grouped[ds.name] = mine
    return grouped
