"""Export-shaped text for the built-in sample: null spellings, date styles, free text, files.

Generators build columns as numpy arrays; `Fmt` turns them into text the way the portal's
exports spell them (nulls as `NA` mostly, sometimes `NaN`, `N/A` or empty; dates mostly
ISO, some `M/D/YYYY`), and `CsvFile` appends them under the contract's header in chunks.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import polars as pl

from loaders.progress import Progress

NULL_SPELLINGS: tuple[str | None, ...] = ("NA", "NaN", "N/A", None)
NULL_SHARES = (0.86, 0.04, 0.03, 0.07)
#: Share of dates written `M/D/YYYY` instead of ISO.
ALT_DATE_SHARE = 0.05
#: Months' relative chance of a storm: California's wet season is October to April.
WET_MONTHS = np.array([1.0, 1.0, 0.9, 0.6, 0.25, 0.08, 0.03, 0.03, 0.1, 0.4, 0.8, 1.0])

#: Token meaning "the usual mix of null spellings".
MIXED = "<mixed>"

Values = pl.Series | np.ndarray | Sequence


def day(text: str) -> int:
    """Days since 1970-01-01 of an ISO date: the sample's one date currency."""
    return int(np.datetime64(text, "D").astype(np.int64))


def year_month(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar year and month (1-12) of day numbers."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months // 12 + 1970, months % 12 + 1


def reporting_year(days: np.ndarray) -> np.ndarray:
    """The permit's July–June reporting year, labelled by the year it starts in."""
    year, month = year_month(days)
    return np.where(month >= 7, year, year - 1)


def uniform_days(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """A day drawn uniformly from each [start, end] window (end before start gives start)."""
    span = np.maximum(np.asarray(end) - np.asarray(start), 0)
    return np.asarray(start) + np.floor(rng.random(len(span)) * (span + 1)).astype(np.int64)


def storm_days(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Days in each window, favouring wet-season months the way storm sampling does."""
    days = uniform_days(rng, start, end)
    for _ in range(6):
        _, month = year_month(days)
        redo = rng.random(len(days)) > WET_MONTHS[month - 1]
        if not redo.any():
            break
        days[redo] = uniform_days(rng, start[redo], end[redo])
    return days


def clock(rng: np.random.Generator, n: int, first: int = 6, last: int = 17) -> np.ndarray:
    """Minutes after midnight between hour `first` and the end of hour `last`."""
    return rng.integers(first * 60, (last + 1) * 60, n)


def hhmm(minutes: np.ndarray) -> pl.Series:
    """`HH:MM` text for minutes after midnight."""
    m = pl.Series(np.asarray(minutes) % 1440)
    return (m // 60).cast(pl.String).str.zfill(2) + ":" + (m % 60).cast(pl.String).str.zfill(2)


def person_names(
    rng: np.random.Generator, n: int, first: Sequence[str], last: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Random first and last names from short built-in lists."""
    return (
        np.array(first, dtype=object)[rng.integers(0, len(first), n)],
        np.array(last, dtype=object)[rng.integers(0, len(last), n)],
    )


def pick(options: Sequence, index: np.ndarray) -> pl.Series:
    """`options[index]` as a text column (fast for millions of rows)."""
    return pl.Series(list(options), dtype=pl.String).gather(np.asarray(index, dtype=np.int64))


def _series(values: Values) -> pl.Series:
    """Any column-like value as a text Series."""
    if isinstance(values, pl.Series):
        return values.cast(pl.String)
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return pl.Series(arr).cast(pl.String)
    return pl.Series(list(arr) if arr.dtype == object else arr, dtype=pl.String, strict=False)


class Fmt:
    """Formats columns with the exports' null spellings and date styles, drawing from `rng`."""

    def __init__(
        self, rng: np.random.Generator, null_shares: Sequence[float] = NULL_SHARES
    ) -> None:
        self.rng = rng
        self.null_shares = np.asarray(null_shares, dtype=np.float64)

    def mask(self, n: int, p: float) -> np.ndarray:
        """A random boolean mask with share `p` set."""
        return self.rng.random(n) < p

    def nulls(self, n: int, token: str | None = MIXED) -> pl.Series:
        """Null spellings for `n` cells: the usual mix, or one `token` when given."""
        if token != MIXED:
            return pl.Series([token] * n, dtype=pl.String) if n else pl.Series([], dtype=pl.String)
        idx = self.rng.choice(len(NULL_SPELLINGS), n, p=self.null_shares)
        return pick(NULL_SPELLINGS, idx)

    def text(
        self, values: Values, null: np.ndarray | None = None, token: str | None = MIXED
    ) -> pl.Series:
        """Text cells; null values (and `null` mask cells) get a null spelling."""
        s = _series(values)
        missing = s.is_null().to_numpy()
        if null is not None:
            missing = missing | np.asarray(null, dtype=bool)
        if not missing.any():
            return s
        return self.nulls(len(s), token).zip_with(pl.Series(missing), s)

    def num(
        self,
        values: np.ndarray,
        null: np.ndarray | None = None,
        sig: int | None = 3,
        decimals: int | None = None,
        token: str | None = MIXED,
    ) -> pl.Series:
        """Numbers rounded to `sig` significant figures (or `decimals`); NaN cells are null."""
        x = np.asarray(values, dtype=np.float64)
        s = pl.Series(x).fill_nan(None)
        s = s.round(decimals) if decimals is not None else s.round_sig_figs(sig or 3)
        missing = np.isnan(x) if null is None else np.isnan(x) | np.asarray(null, dtype=bool)
        return self.text(s.cast(pl.String), missing, token)

    def whole(self, values: np.ndarray, null: np.ndarray | None = None) -> pl.Series:
        """Whole numbers as text."""
        return self.text(pl.Series(np.asarray(values, dtype=np.int64)), null)

    def date(
        self,
        days: np.ndarray,
        null: np.ndarray | None = None,
        alt: float = ALT_DATE_SHARE,
        token: str | None = MIXED,
    ) -> pl.Series:
        """Dates, ISO mostly and `M/D/YYYY` for a share `alt`; `null` cells get null spellings."""
        d = pl.Series(np.asarray(days, dtype=np.int64)).cast(pl.Int32).cast(pl.Date)
        out = d.dt.strftime("%Y-%m-%d")
        other = np.flatnonzero(self.mask(len(d), alt))
        if len(other):
            out = out.scatter(other, d.gather(other).dt.strftime("%-m/%-d/%Y"))
        return self.text(out, null, token)

    def stamp(
        self,
        days: np.ndarray,
        minutes: np.ndarray,
        null: np.ndarray | None = None,
        oracle: float = 0.3,
    ) -> pl.Series:
        """Timestamps: `YYYY-MM-DD HH:MM:SS`, or Oracle's `13-JUN-12 09.24.22.060000 AM`."""
        secs = np.asarray(days, dtype=np.int64) * 86400 + np.asarray(minutes) * 60
        secs = secs + self.rng.integers(0, 60, len(secs))
        t = pl.Series(secs * 1_000_000).cast(pl.Datetime("us"))
        out = t.dt.strftime("%Y-%m-%d %H:%M:%S")
        other = np.flatnonzero(self.mask(len(t), oracle))
        if len(other):
            frac = pl.Series(self.rng.integers(0, 1000, len(other)) * 1000).cast(pl.String)
            ora = t.gather(other).dt.strftime("%d-%b-%y %I.%M.%S.").str.to_uppercase()
            ampm = t.gather(other).dt.strftime(" %p")
            out = out.scatter(other, ora + frac.str.zfill(6) + ampm)
        return self.text(out, null)

    def flag(self, n: int, yes: float = 0.5, na: float = 0.1) -> pl.Series:
        """Y/N flags with a share `na` left null."""
        values = np.where(self.mask(n, yes), "Y", "N")
        return self.text(values, self.mask(n, na))

    def choice(
        self, options: Sequence[str], shares: Sequence[float], n: int, null: float = 0.0
    ) -> pl.Series:
        """Categorical cells drawn with the given shares (normalised)."""
        p = np.asarray(shares, dtype=np.float64)
        idx = self.rng.choice(len(options), n, p=p / p.sum())
        return self.text(pick(options, idx), self.mask(n, null) if null else None)

    def free_text(
        self,
        fragments: Sequence[str],
        n: int,
        null: float = 0.0,
        newline: float = 0.03,
        token: str | None = MIXED,
    ) -> pl.Series:
        """Notes of one to three sentences; a share `newline` breaks lines inside the cell."""
        rng = self.rng
        first = rng.integers(0, len(fragments), n)
        steps = [rng.integers(1, max(len(fragments), 2), n) for _ in range(2)]
        index = [first, first + steps[0], first + steps[0] + steps[1]]
        parts = [pick(fragments, i % len(fragments)) for i in index]
        count = rng.choice([1, 2, 3], n, p=[0.4, 0.4, 0.2])
        sep = pl.Series(np.where(self.mask(n, newline), "\n", " "))
        second = (sep + parts[1]).zip_with(pl.Series(count >= 2), pl.Series([""] * n))
        third = (" " + parts[2]).zip_with(pl.Series(count >= 3), pl.Series([""] * n))
        return self.text(parts[0] + second + third, self.mask(n, null) if null else None, token)


def header_line(headers: Sequence[str]) -> str:
    """A CSV header row, quoted where a header needs it."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(headers)
    return buf.getvalue()


class CsvFile:
    """One output CSV under a fixed header; chunks are appended and counted."""

    def __init__(
        self,
        path: Path,
        headers: Sequence[str],
        bom: bool = False,
        total: float | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.path = path
        self.headers = list(headers)
        self.rows = 0
        self.progress = Progress(path.name, total, unit="rows", stream=stream)
        self._fh = path.open("wb")
        if bom:
            self._fh.write(codecs.BOM_UTF8)
        self._fh.write(header_line(self.headers).encode("utf-8"))

    def write(self, columns: dict[str, pl.Series]) -> None:
        """Append one chunk whose columns are exactly the header's."""
        if set(columns) != set(self.headers):
            missing = sorted(set(self.headers) - set(columns))
            extra = sorted(set(columns) - set(self.headers))
            raise ValueError(f"{self.path.name}: missing {missing}, unexpected {extra}")
        frame = pl.DataFrame([columns[h].alias(h) for h in self.headers])
        frame.write_csv(self._fh, include_header=False)
        self.rows += frame.height
        self.progress.update(self.rows)

    def close(self) -> int:
        """Finish the file and its progress line; returns rows written."""
        self._fh.close()
        self.progress.finish()
        return self.rows

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._fh.closed:
            self.close()
