"""Industrial and construction monitoring for the built-in sample, vectorised in chunks.

Shape: a facility files reports (storm events); a report has one sample per monitoring
location (its SAMPLE_ID), and each sample one row per analyte the facility samples. Rows
are generated for a slice of facilities at a time (about `CHUNK_ROWS`), with numpy index
arithmetic instead of per-row Python, and appended to the CSV as they are made.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TextIO

import numpy as np
import polars as pl

from data_layer.datasets import dataset
from loaders import demo_vocab as vocab
from loaders.demo_analytes import (
    Analytes,
    Levels,
    construction_analytes,
    construction_sets,
    facility_levels,
    industrial_analytes,
    industrial_sets,
)
from loaders.demo_facilities import HORIZON
from loaders.demo_format import (
    CsvFile,
    Fmt,
    clock,
    day,
    hhmm,
    person_names,
    pick,
    reporting_year,
    storm_days,
)

CHUNK_ROWS = 500_000
MONITORING_SINCE = day("2015-07-01")
#: Share of samples whose date was mistyped into the next century (`2114-12-12`).
BAD_YEAR_SHARE = 1e-5
#: Share of industrial facilities made to exceed an NAL (pH drift and chance add a few more).
EXCEED_SHARE = 0.07
#: Null spellings in the monitoring files: `NA` still the most common, more cells empty.
SAMPLE_NULL_SHARES = (0.55, 0.03, 0.02, 0.40)
#: How many monitoring locations a facility samples (1..4).
LOCATION_SHARES = (0.5, 0.3, 0.15, 0.05)
LOCATION_PREFIXES = ("DP-", "DP", "SL-", "OF-00", "SP", "Loc ")
LOCATION_NOTES = (
    "Drop inlet at the northeast corner, near the loading dock",
    "Sheet flow leaving the yard at the main gate",
    'Catch basin "CB-2" behind the maintenance shop',
    "Outfall pipe to the municipal storm drain, south fence",
    "Trench drain along the east property line",
    "Swale discharge point, west side of the stockpile area",
)
#: Event kinds as the permits abbreviate them: qualifying storm (precipitation) event,
#: non-qualifying event, non-storm water discharge.
EVENT_TYPES = ("QSE", "Non-QSE", "NSWD")
CON_EVENT_TYPES = ("QPE", "NSWD", "Non-QPE")
LABS = (
    "Field",
    "Valley Environmental Lab",
    "Coastal Analytical",
    "Sierra Water Labs",
    "Bayside Testing",
    "Inland Analytical Services",
)


@dataclass(frozen=True)
class Plan:
    """Monitored facilities (indices into places, in WDID order) and their reports."""

    fac: np.ndarray
    reports: np.ndarray
    start: np.ndarray
    end: np.ndarray
    n_loc: np.ndarray
    levels: Levels
    analytes: Analytes


@dataclass(frozen=True)
class Skeleton:
    """Index arrays for one chunk: reports, samples (report x location), rows (sample x slot)."""

    rep_fac: np.ndarray  # plan facility position per report
    rep_day: np.ndarray
    rep_id: np.ndarray
    smp_rep: np.ndarray
    smp_loc: np.ndarray
    smp_id: np.ndarray
    smp_day: np.ndarray
    row_smp: np.ndarray
    row_slot: np.ndarray

    @property
    def smp_fac(self) -> np.ndarray:
        """Plan facility position per sample."""
        return self.rep_fac[self.smp_rep]

    @property
    def row_fac(self) -> np.ndarray:
        """Plan facility position per row."""
        return self.smp_fac[self.row_smp]


def within(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each group, concatenated: the position inside repeated groups."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def make_plan(
    rng: np.random.Generator,
    places: pl.DataFrame,
    eligible: np.ndarray,
    analytes: Analytes,
    params: np.ndarray,
    rows: int,
    exceed: float,
    max_loc: int,
) -> Plan:
    """Spread about `rows` rows over eligible facilities by how long each was covered."""
    fac = np.flatnonzero(eligible)
    if not len(fac):
        raise ValueError("no facility can report monitoring; raise the scale")
    fac = fac[np.argsort(places["wdid"].to_numpy()[fac], kind="stable")]
    start = np.maximum(places["noi"].to_numpy()[fac], MONITORING_SINCE)
    end = places["end"].to_numpy()[fac]
    params = params[: len(fac)]
    levels = facility_levels(analytes, params, rng, exceed)
    shares = np.array(LOCATION_SHARES[:max_loc])
    n_loc = rng.choice(np.arange(1, max_loc + 1), len(fac), p=shares / shares.sum())
    weight = np.maximum(end - start, 0) * rng.lognormal(0, 0.5, len(fac))
    p = weight / weight.sum()
    per_report = levels.n_params * (0.85 * n_loc + 0.15 * (n_loc + 1) / 2)
    n_reports = max(int(round(rows / float(np.dot(p, per_report)))), len(fac))
    return Plan(fac, rng.multinomial(n_reports, p), start, end, n_loc, levels, analytes)


def chunks(plan: Plan) -> list[tuple[int, int]]:
    """Facility slices of roughly `CHUNK_ROWS` expected rows each."""
    expected = np.cumsum(plan.reports * plan.levels.n_params * plan.n_loc)
    bounds = np.searchsorted(expected, np.arange(CHUNK_ROWS, expected[-1], CHUNK_ROWS))
    edges = [0, *sorted(set(int(b) + 1 for b in bounds)), len(plan.fac)]
    return [(a, b) for a, b in pairwise(edges) if b > a]


def skeleton(
    rng: np.random.Generator,
    plan: Plan,
    a: int,
    b: int,
    ids: list[int],
    event_days: np.ndarray | None = None,
) -> Skeleton:
    """Reports, samples and rows for facilities a..b; `ids` carries the next report/sample id."""
    rep_fac = np.repeat(np.arange(a, b), plan.reports[a:b])
    rep_day = storm_days(rng, plan.start[rep_fac], plan.end[rep_fac])
    order = np.lexsort((rep_day, rep_fac))
    rep_fac, rep_day = rep_fac[order], rep_day[order]
    n_loc = plan.n_loc[rep_fac]
    locs = np.where(rng.random(len(rep_fac)) < 0.85, n_loc, rng.integers(1, n_loc + 1))
    smp_rep = np.repeat(np.arange(len(rep_fac)), locs)
    smp_day = rep_day[smp_rep]
    if event_days is not None:
        smp_day = smp_day + np.minimum(rng.integers(0, 2, len(smp_rep)), event_days[smp_rep])
    n_params = plan.levels.n_params[rep_fac[smp_rep]]
    rep_id = np.arange(ids[0], ids[0] + len(rep_fac))
    smp_id = np.arange(ids[1], ids[1] + len(smp_rep))
    ids[0] += len(rep_fac)
    ids[1] += len(smp_rep)
    return Skeleton(
        rep_fac,
        rep_day,
        rep_id,
        smp_rep,
        within(locs),
        smp_id,
        smp_day,
        np.repeat(np.arange(len(smp_rep)), n_params),
        within(n_params),
    )


def results(fmt: Fmt, plan: Plan, sk: Skeleton) -> dict[str, pl.Series]:
    """Qualifier, result, unit, method, MDL and RL for each row, per analyte and facility."""
    rng, lv, an = fmt.rng, plan.levels, plan.analytes
    f, slot = sk.row_fac, sk.row_slot
    analyte = lv.params[f, slot]
    n = len(analyte)
    ry = reporting_year(sk.smp_day)[sk.row_smp]
    boosted = (lv.target[f] == slot) & (((lv.years[f] >> np.clip(ry - 2015, 0, 62)) & 1) == 1)
    level = an.median[analyte] * lv.factor[f, slot] * np.where(boosted, lv.boost[f], 1.0)
    value = level * np.exp(an.sigma[analyte] * rng.standard_normal(n))
    is_ph = np.asarray(an.unit, dtype=object)[analyte] == "SU"
    ph = np.clip(lv.ph_mean[f] + an.sigma[analyte] * rng.standard_normal(n), 1.5, 12.5)
    value = np.where(is_ph, ph, value * lv.multiplier[f, slot])
    rl = an.rl[analyte] * lv.multiplier[f, slot]
    qualifier, value = _qualify(rng, analyte, an, boosted, is_ph, value, rl)
    has_limits = (lv.limits[f, slot] | ((qualifier != "=") & (rng.random(n) < 0.3))) & ~is_ph
    method = pick(an.method, analyte)
    return {
        "RESULT_QUALIFIER": pl.Series(qualifier),
        "RESULT": fmt.num(value, np.isnan(value), sig=3, token="NaN"),
        "UNITS": pick(lv.units, lv.unit[f, slot]),
        "ANALYTICAL_METHOD": fmt.text(method, (method == "").to_numpy() | fmt.mask(n, 0.6)),
        "MDL": fmt.num(rl * lv.mdl_share[f, slot], ~has_limits | np.isnan(rl), sig=2),
        "RL": fmt.num(rl, ~has_limits | np.isnan(rl), sig=2),
    }


def _qualify(
    rng: np.random.Generator,
    analyte: np.ndarray,
    an: Analytes,
    boosted: np.ndarray,
    is_ph: np.ndarray,
    value: np.ndarray,
    rl: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Non-detects (no result), `<` at the RL, DNQ under it, `>` rarely, `=` otherwise."""
    u = rng.random(len(value))
    nd_share = an.nd[analyte] * np.where(boosted, 0.2, 1.0)
    limit = np.where(np.isnan(rl), value, rl)
    qualifier = np.select(
        [is_ph, u < nd_share, u < nd_share + 0.02, u < nd_share + 0.04, u < nd_share + 0.043],
        ["=", "ND", "<", "DNQ", ">"],
        "=",
    )
    value = np.select(
        [qualifier == "ND", qualifier == "<", qualifier == "DNQ"],
        [np.nan, limit, limit * rng.uniform(0.3, 0.9, len(value))],
        value,
    )
    return qualifier, value


def _bad_years(fmt: Fmt, iso_dates: pl.Series, first_chunk: bool) -> pl.Series:
    """A handful of sample dates typed a century off (`2114-...`), as real exports show."""
    n = len(iso_dates)
    hit = fmt.mask(n, BAD_YEAR_SHARE)
    if first_chunk and not hit.any() and n:
        hit[fmt.rng.integers(0, n)] = True
    where = np.flatnonzero(hit)
    if not len(where):
        return iso_dates
    fixed = ("2114" + iso_dates.gather(where).str.slice(4)).str.replace("2114-02-29", "2114-02-28")
    return iso_dates.clone().scatter(where, fixed)


def sample_block(
    fmt: Fmt, plan: Plan, sk: Skeleton, places: pl.DataFrame, first_chunk: bool
) -> dict[str, pl.Series]:
    """Per-sample columns (location, ids, date, time), still one entry per sample."""
    rng = fmt.rng
    n = len(sk.smp_id)
    fac = sk.smp_fac
    style = (plan.fac[fac] * 7) % len(LOCATION_PREFIXES)
    label = np.where(
        style == 5, np.array(list("ABCDEF"))[sk.smp_loc % 6], (sk.smp_loc + 1).astype(str)
    )
    place = plan.fac[fac]
    has_xy = ((place * 13) % 20 < 3) & ~np.isnan(places["lat"].to_numpy()[place])
    offset = ((place * 31 + sk.smp_loc * 17) % 100 - 50) * 2e-5
    dates = fmt.date(sk.smp_day)
    iso = pl.Series(sk.smp_day).cast(pl.Int32).cast(pl.Date).dt.strftime("%Y-%m-%d")
    bad = _bad_years(fmt, iso, first_chunk)
    dates = dates.zip_with(bad == iso, bad)
    return {
        "MONITORING_LOCATION_NAME": pick(LOCATION_PREFIXES, style) + pl.Series(label),
        "MONITORING_LOCATION_TYPE": fmt.text(
            pick(["Effluent Monitoring", "Run-On Monitoring"], (sk.smp_loc == 3).astype(np.int64)),
            (place * 7) % 20 >= 3,
        ),
        "MONITOR_LOCATION_DESCRIPTION": fmt.text(
            pick(LOCATION_NOTES, (place + sk.smp_loc) % len(LOCATION_NOTES)), place % 10 != 3
        ),
        "MONITORING_LATITUDE": fmt.num(
            places["lat"].to_numpy()[place] + offset, ~has_xy, sig=None, decimals=6
        ),
        "MONITORING_LONGITUDE": fmt.num(
            places["lon"].to_numpy()[place] - offset, ~has_xy, sig=None, decimals=6
        ),
        "SAMPLE_ID": pl.Series(sk.smp_id).cast(pl.String),
        "SAMPLE_DATE": dates,
        "SAMPLE_TIME": fmt.text(hhmm(clock(rng, n) + sk.smp_loc * 12), fmt.mask(n, 0.3)),
    }


def _rows(block: dict[str, pl.Series], index: np.ndarray) -> dict[str, pl.Series]:
    """Per-sample or per-report columns repeated out to one entry per row."""
    return {k: v.gather(index) for k, v in block.items()}


def _facility_block(
    plan: Plan, sk: Skeleton, places: pl.DataFrame, permit: str
) -> dict[str, pl.Series]:
    """Permit type, WDID and APP_ID per row."""
    place = plan.fac[sk.row_fac]
    return {
        "PERMIT_TYPE": pl.Series([permit], dtype=pl.String).gather(np.zeros(len(place), np.int64)),
        "WDID": places["wdid"].gather(place),
        "APP_ID": places["app_id"].gather(place),
    }


def industrial_chunk(
    fmt: Fmt, plan: Plan, sk: Skeleton, places: pl.DataFrame, first: bool
) -> dict[str, pl.Series]:
    """One chunk of the industrial monitoring file."""
    rng = fmt.rng
    n_rep, n_smp = len(sk.rep_id), len(sk.smp_id)
    certifier_first, certifier_last = person_names(
        rng, len(plan.fac), vocab.FIRST_NAMES, vocab.LAST_NAMES
    )
    certifier = (
        pl.Series(certifier_first, dtype=pl.String)
        + " "
        + pl.Series(certifier_last, dtype=pl.String)
    )
    report = {
        "REPORTING_YEAR": pl.Series(reporting_year(sk.rep_day)).cast(pl.String),
        "REPORT_ID": pl.Series(sk.rep_id).cast(pl.String),
        "EVENT_TYPE": fmt.choice(EVENT_TYPES, [0.86, 0.1, 0.04], n_rep),
        "CERTIFIER_NAME": fmt.text(certifier.gather(sk.rep_fac), fmt.mask(n_rep, 0.7)),
        "CERTIFIED_DATE": fmt.date(
            np.minimum(sk.rep_day + rng.integers(2, 90, n_rep), HORIZON), fmt.mask(n_rep, 0.6)
        ),
    }
    samples = sample_block(fmt, plan, sk, places, first)
    start = clock(rng, n_smp, 4, 16)
    no_start, no_end = fmt.mask(n_smp, 0.7), fmt.mask(n_smp, 0.85)
    samples |= {
        "DISCHARGE_START_DATE": fmt.date(sk.smp_day - (rng.random(n_smp) < 0.2), no_start),
        "DISCHARGE_START_TIME": fmt.text(hhmm(start), no_start),
        "DISCHARGE_END_DATE": fmt.date(sk.smp_day + (rng.random(n_smp) < 0.3), no_end),
        "DISCHARGE_END_TIME": fmt.text(hhmm(start + rng.integers(60, 600, n_smp)), no_end),
    }
    spelling = plan.levels.spelling[sk.row_fac, sk.row_slot]
    return {
        **_facility_block(plan, sk, places, "Industrial"),
        **_rows(report, sk.smp_rep[sk.row_smp]),
        **_rows(samples, sk.row_smp),
        "PARAMETER": pick(plan.analytes.spellings, spelling),
        **results(fmt, plan, sk),
    }


def construction_chunk(
    fmt: Fmt, plan: Plan, sk: Skeleton, places: pl.DataFrame, first: bool, event_days: np.ndarray
) -> dict[str, pl.Series]:
    """One chunk of the construction monitoring file."""
    rng = fmt.rng
    n_rep, n_smp = len(sk.rep_id), len(sk.smp_id)
    qsp_first, qsp_last = person_names(rng, len(plan.fac), vocab.FIRST_NAMES, vocab.LAST_NAMES)
    qsp = pl.Series(qsp_first, dtype=pl.String) + " " + pl.Series(qsp_last, dtype=pl.String)
    report = {
        "REPORT_ID": pl.Series(sk.rep_id).cast(pl.String),
        "EVENT_TYPE": fmt.choice(CON_EVENT_TYPES, [0.8, 0.08, 0.12], n_rep),
        "EVENT_START_DATE": fmt.date(sk.rep_day),
        "EVENT_END_DATE": fmt.date(sk.rep_day + event_days, fmt.mask(n_rep, 0.3)),
        "RAINFALL_AMOUNT": fmt.num(
            rng.lognormal(np.log(0.6), 0.8, n_rep), fmt.mask(n_rep, 0.7), sig=None, decimals=2
        ),
        "BUSINESS_DAYS": fmt.whole(event_days + 1, fmt.mask(n_rep, 0.7)),
        "QSP": fmt.text(qsp.gather(sk.rep_fac), fmt.mask(n_rep, 0.6)),
        "CERTIFIER_NAME": fmt.text(qsp.gather(sk.rep_fac), fmt.mask(n_rep, 0.7)),
        "CERTIFIED_DATE": fmt.date(
            np.minimum(sk.rep_day + rng.integers(2, 60, n_rep), HORIZON), fmt.mask(n_rep, 0.6)
        ),
    }
    samples = sample_block(fmt, plan, sk, places, first)
    samples["REPORT_YEAR"] = pl.Series(reporting_year(sk.smp_day)).cast(pl.String)
    samples["PERCENT_OF_TOTAL_DISCHARGE"] = fmt.num(
        rng.uniform(5, 100, n_smp).round(), fmt.mask(n_smp, 0.9)
    )
    lab = pick(
        LABS,
        np.where(rng.random(len(sk.row_smp)) < 0.8, 0, rng.integers(1, len(LABS), len(sk.row_smp))),
    )
    spelling = plan.levels.spelling[sk.row_fac, sk.row_slot]
    return {
        **_facility_block(plan, sk, places, "Construction"),
        **_rows(report, sk.smp_rep[sk.row_smp]),
        **_rows(samples, sk.row_smp),
        "PARAMETER": pick(plan.analytes.spellings, spelling),
        **results(fmt, plan, sk),
        "ANALYZED_BY": fmt.text(lab, fmt.mask(len(lab), 0.5)),
    }


def _industrial_plan(
    rng: np.random.Generator, places: pl.DataFrame, parameters: pl.DataFrame, rows: int
) -> Plan:
    """Which industrial facilities report, what they sample, and how many events."""
    eligible = (
        (places["kind"] == "Industrial")
        & (places["wdid_type"] == "I")
        & places["status"].is_in(["Active", "Terminated"])
        & (places["end"] > MONITORING_SINCE + 60)
    ).to_numpy()
    analytes = industrial_analytes(parameters)
    params = industrial_sets(analytes, int(eligible.sum()), rng)
    return make_plan(rng, places, eligible, analytes, params, rows, EXCEED_SHARE, 4)


def _construction_plan(rng: np.random.Generator, places: pl.DataFrame, rows: int) -> Plan:
    """Which construction sites report (risk level 2 and 3), and how many events."""
    eligible = (
        (places["kind"] == "Construction")
        & (places["risk"] >= 2)
        & (places["end"] > MONITORING_SINCE + 60)
    ).to_numpy()
    analytes = construction_analytes()
    params = construction_sets(analytes, int(eligible.sum()), rng)
    return make_plan(rng, places, eligible, analytes, params, rows, 0.0, 4)


def write_monitoring(
    out: Path,
    rng: np.random.Generator,
    places: pl.DataFrame,
    parameters: pl.DataFrame,
    rows: dict[str, int],
    stream: TextIO | None = None,
) -> dict[str, int]:
    """Write both monitoring files; `rows` gives the target rows per dataset name."""
    fmt = Fmt(rng, SAMPLE_NULL_SHARES)
    written = {}
    for name in ("industrial_monitoring", "construction_monitoring"):
        plan = (
            _industrial_plan(rng, places, parameters, rows[name])
            if name.startswith("ind")
            else _construction_plan(rng, places, rows[name])
        )
        headers = [c.source for c in dataset(name).columns]
        ids = [2_000_000, 10_000_000] if name.startswith("ind") else [5_000_000, 30_000_000]
        with CsvFile(out / f"{name}.csv", headers, total=rows[name], stream=stream) as csv:
            for i, (a, b) in enumerate(chunks(plan)):
                csv.write(_chunk(fmt, plan, places, name, a, b, ids, i == 0))
            written[csv.path.name] = csv.close()
    return written


def _chunk(
    fmt: Fmt,
    plan: Plan,
    places: pl.DataFrame,
    name: str,
    a: int,
    b: int,
    ids: list[int],
    first: bool,
) -> dict[str, pl.Series]:
    """The columns of one chunk of either monitoring file."""
    if name.startswith("ind"):
        return industrial_chunk(fmt, plan, skeleton(fmt.rng, plan, a, b, ids), places, first)
    n_rep = int(plan.reports[a:b].sum())
    event_days = fmt.rng.choice([0, 1, 2, 3], n_rep, p=[0.5, 0.3, 0.15, 0.05])
    sk = skeleton(fmt.rng, plan, a, b, ids, event_days)
    return construction_chunk(fmt, plan, sk, places, first, event_days)
