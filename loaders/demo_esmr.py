"""The eSMR side of the built-in sample: effluent facilities, one CSV per year, and the
answer key of which industrial facility is which eSMR facility.

About 8 % of industrial facilities also hold an eSMR facility. Some are wastewater plants
taken from the CIWQS list (the SMARTS record spells the plant out, reorders or renames
it); the rest are industrial dischargers whose eSMR name drops or adds a legal suffix,
has a typo, is abbreviated, reordered or renamed. Coordinates sit tens of metres away,
kilometres away, or are missing. Hard negatives make matching honest: the other CIWQS
plants, the same agency at another site, and a different operator next door.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import polars as pl

from data_layer.datasets import dataset
from loaders import demo_vocab as vocab
from loaders.demo_format import CsvFile, Fmt, clock, day, hhmm, pick, uniform_days
from loaders.demo_names import LEGAL_SUFFIX, industrial_esmr_name, potw_smarts_name

PAIR_SHARE = 0.08
POTW_SHARE = 0.35
OTHER_SITES = (
    "North Plant",
    "Water Treatment Plant",
    "Recycled Water Facility",
    "Corporation Yard",
    "Reclamation Plant No. 2",
)
#: eSMR parameter, unit, centre, spread, and whether the spread is additive (normal).
PARAMETERS: tuple[tuple[str, str, float, float, bool], ...] = (
    ("Flow", "MGD", 2.0, 0.6, False),
    ("pH", "SU", 7.2, 0.3, True),
    ("Total Suspended Solids (TSS)", "mg/L", 8.0, 0.7, False),
    ("Biochemical Oxygen Demand (BOD) (5-day @ 20 Deg. C)", "mg/L", 6.0, 0.7, False),
    ("Ammonia, Total (as N)", "mg/L", 0.8, 1.0, False),
    ("Chlorine, Total Residual", "mg/L", 0.02, 1.0, False),
    ("Coliform, Total", "MPN/100 mL", 2.0, 1.5, False),
    ("Temperature", "Deg C", 21.0, 3.0, True),
    ("Oxygen, Dissolved", "mg/L", 7.5, 0.8, True),
    ("Electrical Conductivity @ 25 Deg. C", "umhos/cm", 900.0, 0.3, False),
    ("Copper, Total Recoverable", "ug/L", 5.0, 0.6, False),
    ("Zinc, Total Recoverable", "ug/L", 40.0, 0.6, False),
    ("Nitrate, Total (as N)", "mg/L", 5.0, 0.8, False),
    ("Oil and Grease", "mg/L", 2.0, 0.5, False),
    ("Turbidity", "NTU", 1.5, 0.8, False),
    ("Settleable Solids", "ml/L", 0.1, 1.0, False),
    ("Total Dissolved Solids (TDS)", "mg/L", 600.0, 0.3, False),
)
ALWAYS_DETECTED = (
    "Flow",
    "pH",
    "Temperature",
    "Oxygen, Dissolved",
    "Electrical Conductivity @ 25 Deg. C",
)
LOCATIONS = (
    ("EFF-001", "Effluent Monitoring", "Final effluent after disinfection"),
    ("INF-001", "Influent Monitoring", "Influent at the headworks, before screening"),
    ("RSW-001U", "Receiving Water Monitoring", "Receiving water, 100 ft upstream"),
    ("EFF-002", "Effluent Monitoring", "Emergency outfall, Discharge Point 002"),
)
#: Analytical method code and name per eSMR parameter.
METHODS = {
    "Flow": ("DU", "Data Unavailable [DU]"),
    "pH": ("SM4500-H+B", "SM 4500-H+ B"),
    "Total Suspended Solids (TSS)": ("SM2540D", "SM 2540 D"),
    "Biochemical Oxygen Demand (BOD) (5-day @ 20 Deg. C)": ("SM5210B", "SM 5210 B"),
    "Ammonia, Total (as N)": ("E350.1", "EPA 350.1"),
    "Chlorine, Total Residual": ("SM4500-CLG", "SM 4500-Cl G"),
    "Coliform, Total": ("SM9221B", "SM 9221 B"),
    "Temperature": ("SM2550B", "SM 2550 B"),
    "Oxygen, Dissolved": ("SM4500-OG", "SM 4500-O G"),
    "Electrical Conductivity @ 25 Deg. C": ("SM2510B", "SM 2510 B"),
    "Copper, Total Recoverable": ("E200.8", "EPA 200.8"),
    "Zinc, Total Recoverable": ("E200.8", "EPA 200.8"),
    "Nitrate, Total (as N)": ("E300.0", "EPA 300.0"),
    "Oil and Grease": ("E1664A", "EPA 1664A"),
    "Turbidity": ("E180.1", "EPA 180.1"),
    "Settleable Solids": ("SM2540F", "SM 2540 F"),
    "Total Dissolved Solids (TDS)": ("SM2540C", "SM 2540 C"),
}
COMMENTS = (
    "Sample collected after the plant upset, see narrative.",
    'Result flagged by the lab, "matrix interference" suspected.',
    "Composite sampler malfunction; grab sample taken instead.",
    "Flow estimated, meter out of service.",
    "Reported under the new permit, Order R5-2020-0012.",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class EsmrPlan:
    """eSMR facilities, the updated facility places, and the true pairs (place row, id)."""

    facilities: pl.DataFrame
    places: pl.DataFrame
    truth: pl.DataFrame


def offset(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, low_m: float, high_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points `low_m`..`high_m` metres away in a random direction."""
    n = len(lat)
    dist = rng.uniform(low_m, high_m, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    dlat = dist * np.cos(angle) / 111_320
    dlon = dist * np.sin(angle) / (111_320 * np.cos(np.radians(np.nan_to_num(lat, nan=36.0))))
    return np.round(lat + dlat, 6), np.round(lon + dlon, 6)


def _new_ids(rng: np.random.Generator, taken: np.ndarray, n: int) -> np.ndarray:
    """Facility place ids not used by any CIWQS plant."""
    free = np.setdiff1d(np.arange(100_000, 1_000_000), taken)
    return rng.choice(free, n, replace=False)


def plan_esmr(
    rng: np.random.Generator, places: pl.DataFrame, plants: pl.DataFrame, scale: float
) -> EsmrPlan:
    """Choose the paired facilities, rewrite POTW pairs into plants, add hard negatives."""
    industrial = (places["kind"] == "Industrial").to_numpy()
    able = np.flatnonzero(
        industrial
        & (places["wdid_type"] == "I").to_numpy()
        & places["status"].is_in(["Active", "Terminated"]).to_numpy()
    )
    n_pairs = min(len(able), max(2, round(PAIR_SHARE * industrial.sum())))
    chosen = rng.choice(able, n_pairs, replace=False)
    n_potw = min(max(1, round(POTW_SHARE * n_pairs)), plants.height // 2)
    plant_rows = rng.choice(plants.height, n_potw, replace=False)
    places = _rewrite_as_plants(rng, places, chosen[:n_potw], plants[plant_rows])
    ids = _new_ids(rng, plants["place_id"].to_numpy(), 3 * n_pairs + 3)
    pairs = pl.concat(
        [
            _potw_side(rng, places, chosen[:n_potw], plants[plant_rows]),
            _industrial_side(rng, places, chosen[n_potw:], ids[: n_pairs - n_potw]),
        ]
    )
    rest = np.setdiff1d(np.arange(plants.height), plant_rows)
    n_neg = min(len(rest), max(6, round(0.6 * plants.height * scale)))
    negatives = _plant_side(plants[np.sort(rng.choice(rest, n_neg, replace=False))])
    decoys = _decoys(rng, places, chosen, ids[n_pairs - n_potw :])
    facilities = pl.concat([pairs.drop("place_row"), negatives, decoys])
    truth = pairs.select("place_row", "place_id")
    return EsmrPlan(facilities.sort("place_id"), places, truth)


def _rewrite_as_plants(
    rng: np.random.Generator, places: pl.DataFrame, rows: np.ndarray, plants: pl.DataFrame
) -> pl.DataFrame:
    """Turn chosen industrial facilities into the SMARTS records of CIWQS sewage plants."""
    centre = {c[0]: (c[3], c[4]) for c in vocab.COUNTIES}
    lat = np.array(
        [
            la if la is not None else centre.get(c, (36.5, -119.5))[0]
            for la, c in zip(plants["lat"], plants["county"], strict=True)
        ]
    )
    lon = np.array(
        [
            lo if lo is not None else centre.get(c, (36.5, -119.5))[1]
            for lo, c in zip(plants["lon"], plants["county"], strict=True)
        ]
    )
    lat, lon = offset(rng, lat, lon, 10, 80)
    code = [vocab.COUNTY_BY_NAME.get(c.lower(), ("", "34"))[1] for c in plants["county"]]
    update = {
        "name": [potw_smarts_name(p, rng) for p in plants["name"]],
        "operator": plants["agency"].to_list(),
        "address": plants["address"].to_list(),
        "address2": [None] * len(rows),
        "city": plants["city"].to_list(),
        "zip": plants["zip"].to_list(),
        "county": plants["county"].to_list(),
        "region": plants["region"].to_list(),
        "county_code": code,
        "lat": lat,
        "lon": lon,
        "sic1": ["4952-Sewerage Systems"] * len(rows),
        "sic2": [None] * len(rows),
        "sic3": [None] * len(rows),
        "status": ["Active"] * len(rows),
    }
    cols = {}
    for name, values in update.items():
        series = places[name].clone()
        cols[name] = series.scatter(rows, pl.Series(values, dtype=series.dtype))
    end = places["end"].to_numpy().copy()
    end[rows] = np.max(end)
    not_day = places["not_day"].to_numpy().copy()
    not_day[rows] = -1
    return places.with_columns(**cols, end=pl.Series(end), not_day=pl.Series(not_day))


def _facility_frame(
    ids: np.ndarray,
    names: list[str],
    region: list[str],
    lat: np.ndarray,
    lon: np.ndarray,
    water: list,
    role: str,
) -> pl.DataFrame:
    """eSMR facilities in one shape."""
    return pl.DataFrame(
        {
            "place_id": np.asarray(ids, dtype=np.int64),
            "name": names,
            "region": region,
            "lat": np.asarray(lat, dtype=np.float64),
            "lon": np.asarray(lon, dtype=np.float64),
            "water": pl.Series(water, dtype=pl.String),
            "role": [role] * len(names),
        }
    )


def _coords_kind(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Paired coordinates: near (tens of metres), kilometres off, or missing."""
    kind = rng.choice(3, len(lat), p=[0.45, 0.2, 0.35])
    near = offset(rng, lat, lon, 10, 80)
    far = offset(rng, lat, lon, 2000, 12000)
    out_lat = np.where(kind == 0, near[0], np.where(kind == 1, far[0], np.nan))
    out_lon = np.where(kind == 0, near[1], np.where(kind == 1, far[1], np.nan))
    return out_lat, out_lon


def _potw_side(
    rng: np.random.Generator, places: pl.DataFrame, rows: np.ndarray, plants: pl.DataFrame
) -> pl.DataFrame:
    """Paired plants keep their CIWQS id and name; coordinates near, off or missing."""
    lat, lon = _coords_kind(rng, places["lat"].to_numpy()[rows], places["lon"].to_numpy()[rows])
    frame = _facility_frame(
        plants["place_id"].to_numpy(),
        plants["name"].to_list(),
        plants["region"].to_list(),
        lat,
        lon,
        places["water"].gather(rows).to_list(),
        "pair",
    )
    return frame.with_columns(pl.Series("place_row", rows))


def _industrial_side(
    rng: np.random.Generator, places: pl.DataFrame, rows: np.ndarray, ids: np.ndarray
) -> pl.DataFrame:
    """Paired industrial dischargers under a variant of their SMARTS name."""
    lat, lon = _coords_kind(rng, places["lat"].to_numpy()[rows], places["lon"].to_numpy()[rows])
    names = [industrial_esmr_name(n, rng) for n in places["name"].gather(rows)]
    frame = _facility_frame(
        ids,
        names,
        places["region"].gather(rows).to_list(),
        lat,
        lon,
        places["water"].gather(rows).to_list(),
        "pair",
    )
    return frame.with_columns(pl.Series("place_row", rows))


def _plant_side(plants: pl.DataFrame) -> pl.DataFrame:
    """Unpaired CIWQS plants: generic names, the commonest kind of non-match."""
    return _facility_frame(
        plants["place_id"].to_numpy(),
        plants["name"].to_list(),
        plants["region"].to_list(),
        plants["lat"].fill_null(np.nan).to_numpy(),
        plants["lon"].fill_null(np.nan).to_numpy(),
        [None] * plants.height,
        "plant",
    )


def _decoys(
    rng: np.random.Generator, places: pl.DataFrame, chosen: np.ndarray, ids: np.ndarray
) -> pl.DataFrame:
    """The same operator at another site (km away), and someone else next door."""
    k = max(1, round(0.3 * len(chosen)))
    same, door = rng.choice(chosen, k, replace=False), rng.choice(chosen, k, replace=False)
    lat, lon = places["lat"].to_numpy(), places["lon"].to_numpy()
    far = offset(rng, lat[same], lon[same], 3000, 25000)
    site = pick(OTHER_SITES, rng.integers(0, len(OTHER_SITES), k))
    operators = places["operator"].gather(same)
    same_names = [f"{LEGAL_SUFFIX.sub('', o)} {s}" for o, s in zip(operators, site, strict=True)]
    door_names = _neighbour_names(rng, k)
    near = offset(rng, lat[door], lon[door], 30, 150)
    region = places["region"].to_numpy()
    return pl.concat(
        [
            _facility_frame(
                ids[:k], same_names, list(region[same]), far[0], far[1], [None] * k, "same_operator"
            ),
            _facility_frame(
                ids[k : 2 * k],
                door_names,
                list(region[door]),
                near[0],
                near[1],
                [None] * k,
                "next_door",
            ),
        ]
    )


def _neighbour_names(rng: np.random.Generator, n: int) -> list[str]:
    """Names for other dischargers next door: a place word, a trade, a legal suffix."""
    word = rng.integers(0, len(vocab.NAME_WORDS), n)
    trade = rng.integers(0, len(vocab.SIC_CODES), n)
    legal = rng.integers(0, len(vocab.LEGAL_SUFFIXES), n)
    return [
        f"{vocab.NAME_WORDS[w]} {vocab.SIC_CODES[t][2][0]} {vocab.LEGAL_SUFFIXES[g]}"
        for w, t, g in zip(word, trade, legal, strict=True)
    ]


@dataclass(frozen=True)
class Sites:
    """Per eSMR facility: its locations and parameters, fixed across years."""

    n_loc: np.ndarray
    loc_xy: np.ndarray  # F x 4: the location reports coordinates
    loc_id: np.ndarray  # F x 4 location place ids
    n_par: np.ndarray
    params: np.ndarray  # F x 10 parameter ids
    desc: np.ndarray  # F: location descriptions given


def make_sites(rng: np.random.Generator, fac: pl.DataFrame) -> Sites:
    """Locations (EFF-001 always) and 4-10 parameters (flow and pH always) per facility."""
    n = fac.height
    has_xy = ~np.isnan(fac["lat"].to_numpy())
    n_par = rng.integers(4, 11, n)
    keys = rng.random((n, len(PARAMETERS)))
    keys[:, :2] = 2.0
    params = np.argsort(-keys, axis=1)[:, :10]
    return Sites(
        n_loc=rng.choice([1, 2, 3, 4], n, p=[0.3, 0.4, 0.2, 0.1]),
        loc_xy=has_xy[:, None] & (rng.random((n, 4)) < 0.17),
        loc_id=np.arange(n * 4).reshape(n, 4) + 700_000,
        n_par=n_par,
        params=params,
        desc=rng.random(n) < 0.6,
    )


def _rows_per_facility(rng: np.random.Generator, n_fac: int, rows: int) -> np.ndarray:
    """At least a few rows for every facility, the rest by a skewed activity weight."""
    floor = 4
    extra = max(rows - floor * n_fac, 0)
    weight = rng.lognormal(0, 0.7, n_fac)
    return floor + rng.multinomial(extra, weight / weight.sum())


def year_columns(
    fmt: Fmt, fac: pl.DataFrame, sites: Sites, year: int, rows: int
) -> dict[str, pl.Series]:
    """One year of eSMR rows: several parameters per facility and month."""
    rng = fmt.rng
    per = _rows_per_facility(rng, fac.height, rows)
    f = np.repeat(np.arange(fac.height), per)
    days = uniform_days(
        rng, np.full(len(f), day(f"{year}-01-01")), np.full(len(f), day(f"{year}-12-31"))
    )
    order = np.lexsort((days, f))
    f, days = f[order], days[order]
    n = len(f)
    loc = np.minimum((rng.random(n) ** 2 * sites.n_loc[f]).astype(np.int64), sites.n_loc[f] - 1)
    par = sites.params[f, (rng.random(n) * sites.n_par[f]).astype(np.int64)]
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    return {
        **_place_columns(fmt, fac, sites, f, loc),
        **_value_columns(fmt, par, n),
        **_time_columns(fmt, days),
        "report_name": pick(MONTHS, month) + f" {year} SMR (Monthly)",
        "smr_document_id": pl.Series(10_000_000 + (year % 100) * 200_000 + f * 12 + month).cast(
            pl.String
        ),
    }


def _place_columns(
    fmt: Fmt, fac: pl.DataFrame, sites: Sites, f: np.ndarray, loc: np.ndarray
) -> dict[str, pl.Series]:
    """Facility, location and coordinates (present for about one row in eight)."""
    xy = sites.loc_xy[f, loc]
    step = (loc + 1) * 3e-4
    names = fac["name"].gather(f)
    return {
        "region": "Region " + fac["region"].gather(f),
        "location": pick([x[0] for x in LOCATIONS], loc),
        "location_place_id": pl.Series(sites.loc_id[f, loc]).cast(pl.String),
        "location_place_type": pick([x[1] for x in LOCATIONS], loc),
        "facility_name": names,
        "facility_place_id": fac["place_id"].gather(f).cast(pl.String),
        "latitude": fmt.num(fac["lat"].to_numpy()[f] + step, ~xy, sig=None, decimals=6, token=None),
        "longitude": fmt.num(
            fac["lon"].to_numpy()[f] - step, ~xy, sig=None, decimals=6, token=None
        ),
        "receiving_water_body": fmt.text(fac["water"].gather(f), loc != 2, token=None),
        "location_desc": fmt.text(pick([x[2] for x in LOCATIONS], loc), ~sites.desc[f], token=None),
    }


def _value_columns(fmt: Fmt, par: np.ndarray, n: int) -> dict[str, pl.Series]:
    """Parameter, qualifier, result, units, limits, methods, QA codes and comments."""
    rng = fmt.rng
    centre = np.array([p[2] for p in PARAMETERS])[par]
    spread = np.array([p[3] for p in PARAMETERS])[par]
    normal = np.array([p[4] for p in PARAMETERS])[par]
    z = rng.standard_normal(n)
    value = np.where(normal, centre + spread * z, centre * np.exp(spread * z))
    detected = np.isin(np.array([p[0] for p in PARAMETERS])[par], ALWAYS_DETECTED)
    q = rng.choice(4, n, p=[0.72, 0.1, 0.13, 0.05])
    q = np.where(detected, 0, q)
    rl = np.where(detected, np.nan, centre * 0.3)
    value = np.select([q == 1, q == 2, q == 3], [rl, np.nan, rl * rng.uniform(0.3, 0.9, n)], value)
    limits = ~detected & (rng.random(n) < 0.5)
    names = [p[0] for p in PARAMETERS]
    no_method = fmt.mask(n, 0.6)
    return {
        "parameter": pick([p[0] for p in PARAMETERS], par),
        "qualifier": pick(["=", "<", "ND", "DNQ"], q),
        "result": fmt.num(value, None, sig=3, token=None),
        "units": pick([p[1] for p in PARAMETERS], par),
        "mdl": fmt.num(rl * 0.3, ~limits, sig=2, token=None),
        "ml": fmt.num(rl * 0.6, ~limits | fmt.mask(n, 0.5), sig=2, token=None),
        "rl": fmt.num(rl, ~limits, sig=2, token=None),
        "analytical_method_code": fmt.text(
            pick([METHODS[p][0] for p in names], par), no_method, token=None
        ),
        "analytical_method": fmt.text(
            pick([METHODS[p][1] for p in names], par), no_method, token=None
        ),
        "calculated_method": fmt.choice(
            ["Single", "Daily Average (Mean)", "Monthly Average (Mean)", "Daily Maximum"],
            [0.8, 0.08, 0.07, 0.05],
            n,
        ),
        "review_priority_indicator": fmt.text(
            np.where(rng.random(n) < 0.02, "Y", "N"), fmt.mask(n, 0.08), token=None
        ),
        "qa_codes": fmt.text(
            pick(["J", "U", "B", "BU"], rng.integers(0, 4, n)), ~fmt.mask(n, 0.08), token=None
        ),
        "comments": fmt.free_text(COMMENTS, n, null=0.94, newline=0.05, token=None),
    }


def _time_columns(fmt: Fmt, days: np.ndarray) -> dict[str, pl.Series]:
    """Sampling and analysis dates and times."""
    rng = fmt.rng
    n = len(days)
    analysed = days + rng.integers(0, 10, n)
    return {
        "sampling_date": fmt.date(days),
        "sampling_time": fmt.text(hhmm(clock(rng, n, 6, 15)), fmt.mask(n, 0.1), token=None),
        "analysis_date": fmt.date(analysed, fmt.mask(n, 0.2), token=None),
        "analysis_time": fmt.text(hhmm(clock(rng, n, 8, 17)), fmt.mask(n, 0.3), token=None),
    }


def write_esmr(
    out: Path,
    rng: np.random.Generator,
    plan: EsmrPlan,
    years: list[int],
    rows: int,
    stream: TextIO | None = None,
) -> dict[str, int]:
    """One BOM-prefixed CSV per year under the esmr_samples contract header."""
    fmt = Fmt(rng)
    headers = [c.source for c in dataset("esmr_samples").columns]
    sites = make_sites(rng, plan.facilities)
    written = {}
    for year in years:
        path = out / f"esmr_{year}.csv"
        with CsvFile(path, headers, bom=True, total=rows, stream=stream) as csv:
            csv.write(year_columns(fmt, plan.facilities, sites, year, rows))
            written[path.name] = csv.close()
    return written
