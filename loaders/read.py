"""Looking at a source file before loading it: header, encoding, what dataset it is.

Columns are mapped by name, never position (DESIGN §5): a missing key column fails
loudly, a missing other column becomes all-null with a warning, an unknown extra
column is kept and reported, reordered columns just work.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from data_layer.datasets import DATASETS, Dataset
from data_layer.errors import SourceInvalid

log = logging.getLogger(__name__)

BOM = codecs.BOM_UTF8
_SNIFF_BYTES = 256 * 1024
_HTML = re.compile(rb"^\s*<(!doctype\s+html|html|head|body|\?xml)", re.IGNORECASE)


def normalise_header(header: str) -> str:
    """Header spelling used for matching: BOM and quotes gone, upper case, `_` for spaces."""
    text = header.replace("\ufeff", "").strip().strip('"').strip()
    return re.sub(r"[\s\-]+", "_", text).upper()


def snake_case(header: str) -> str:
    """Store name for an unknown extra column."""
    return re.sub(r"[^0-9a-z]+", "_", normalise_header(header).lower()).strip("_") or "column"


def _head(path: Path) -> bytes:
    """The file's first bytes, enough for its header and a few hundred rows."""
    with path.open("rb") as fh:
        return fh.read(_SNIFF_BYTES)


def read_header(path: Path) -> list[str]:
    """The header row of a CSV; SourceInvalid for an empty file or an HTML page."""
    head = _head(path)
    if not head.strip():
        raise SourceInvalid(f"{path.name} is empty")
    body = head[len(BOM) :] if head.startswith(BOM) else head
    if _HTML.match(body):
        raise SourceInvalid(
            f"{path.name} is an HTML page, not a CSV (the portal sent an error page?)"
        )
    text = body.decode("utf-8", errors="replace")
    row = next(csv.reader(io.StringIO(text)), [])
    if len(row) < 2:
        raise SourceInvalid(f"{path.name} does not look like a CSV (header: {text[:80]!r})")
    return row


def bytes_per_line(path: Path) -> float:
    """Average length of the file's first lines: sizes the CSV reader's buffers."""
    head = _head(path)
    return len(head) / max(1, head.count(b"\n"))


@dataclass
class HeaderMap:
    """How a file's header lines up with a dataset's contract."""

    dataset: Dataset
    headers: list[str]
    present: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        """Human-readable notes on drift from the contract."""
        notes = []
        if self.missing:
            notes.append(f"missing columns loaded as empty: {', '.join(self.missing)}")
        if self.extra:
            notes.append(f"unknown extra columns kept: {', '.join(self.extra)}")
        return notes


def map_header(ds: Dataset, headers: list[str], file_name: str = "file") -> HeaderMap:
    """Match headers to the contract by name; SourceInvalid when a required column is absent."""
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalise_header(header), header)
    hmap = HeaderMap(ds, headers)
    for col in ds.columns:
        found = by_norm.pop(col.source.upper(), None)
        if found is None:
            hmap.missing.append(col.source)
        else:
            hmap.present[col.name] = found
    absent = [src for src in ds.key_sources if src in hmap.missing]
    if absent:
        raise SourceInvalid(
            f"{file_name} has no {', '.join(absent)} column, needed to load {ds.name}"
            f" (found: {', '.join(headers[:12])}{'...' if len(headers) > 12 else ''})"
        )
    taken = set(ds.all_names)
    for norm, header in by_norm.items():
        name = snake_case(norm)
        while name in taken:
            name = f"extra_{name}"
        taken.add(name)
        hmap.extra[name] = header
    for note in hmap.warnings:
        log.warning("%s (%s): %s", ds.name, file_name, note)
    return hmap


def recognise(headers: list[str]) -> Dataset | None:
    """The dataset whose contract best fits a header, or None if none has its key columns."""
    names = {normalise_header(h) for h in headers}
    best: tuple[float, Dataset] | None = None
    for ds in DATASETS:
        sources = {c.source.upper() for c in ds.columns}
        if not {k.upper() for k in ds.key_sources} <= names:
            continue
        score = len(sources & names) / len(sources | names)
        if best is None or score > best[0]:
            best = (score, ds)
    return best[1] if best else None


def transcode_to_utf8(path: Path, dest: Path) -> int:
    """Copy `path` to `dest` as UTF-8, reading lines that are not UTF-8 as Windows-1252.

    Returns how many lines needed the fallback. Exports are UTF-8, but rows pasted
    from older systems sometimes carry Latin-1 bytes; this keeps those rows instead
    of rejecting them.
    """
    fixed = 0
    with path.open("rb") as src, dest.open("wb") as out:
        for line in src:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                line = line.decode("cp1252", errors="replace").encode("utf-8")
                fixed += 1
            out.write(line)
    return fixed
