"""Industrial and construction facilities for the built-in sample.

Facilities are built first as plain values (`places`: one row per facility of either kind,
with its key, place block and active window as day numbers), because every other file
links to them; `industrial_columns` then spells the industrial file the way the export
does (the construction file is spelled in `demo_construction`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from data_layer.datasets import REGION_CODES
from loaders import demo_vocab as vocab
from loaders.demo_format import Fmt, day, person_names, pick, uniform_days

#: The export's cut-off: nothing in the sample happens after this day.
HORIZON = day("2025-11-30")

IND_STATUS = (
    "Active",
    "Terminated",
    "No Action Required",
    "Undetermined",
    "NOI Required",
    "NEC Required",
    "NONA Submitted",
)
IND_STATUS_SHARES = (0.70, 0.21, 0.03, 0.02, 0.02, 0.01, 0.01)
CON_STATUS = ("Active", "Terminated", "Pending")
CON_STATUS_SHARES = (0.20, 0.78, 0.02)
AREA_CODES = ("213", "310", "415", "510", "559", "619", "707", "714", "805", "909", "916", "951")
PROJECT_NOUNS = (
    "Residential Subdivision",
    "Apartments",
    "Commercial Center",
    "Business Park",
    "Distribution Center",
    "Solar Project",
    "Road Widening Project",
    "Pipeline Replacement",
    "School Modernization",
    "Medical Office Building",
    "Self Storage",
    "Mixed Use Development",
    "Estates Phase 2",
    "Senior Living",
    "Retail Center",
    "Water Main Replacement",
)
OWNER_NOUNS = (
    "Homes",
    "Communities",
    "Development",
    "Builders",
    "Land Company",
    "Properties",
    "Partners",
    "Ventures",
)
RISK_LEVELS = ("Risk Level 1", "Risk Level 2", "Risk Level 3", "LUP Type 1", "LUP Type 2")
RISK_SHARES = (0.42, 0.45, 0.05, 0.05, 0.03)


def efraimidis(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """`n` weighted draws without replacement (with replacement once the pool runs out)."""
    w = np.asarray(weights, dtype=np.float64)
    keys = np.log(rng.random(len(w))) / np.where(w > 0, w, 1e-12)
    order = np.argsort(-keys, kind="stable")
    if n <= len(w):
        return order[:n]
    extra = rng.choice(len(w), n - len(w), p=w / w.sum())
    return np.concatenate([order, extra])


def _coords(rng: np.random.Generator, pool: pl.DataFrame, jitter: float) -> tuple[np.ndarray, ...]:
    """Pool coordinates, filled from the county centre where missing, with a little jitter."""
    centre = {c[0]: (c[3], c[4]) for c in vocab.COUNTIES}
    counties = pool["county"].to_list()
    lat = pool["lat"].fill_null(np.nan).to_numpy().copy()
    lon = pool["lon"].fill_null(np.nan).to_numpy().copy()
    gap = np.isnan(lat) | np.isnan(lon)
    lat[gap] = [centre.get(c, (36.5, -119.5))[0] for c in np.asarray(counties)[gap]]
    lon[gap] = [centre.get(c, (36.5, -119.5))[1] for c in np.asarray(counties)[gap]]
    spread = np.where(gap, 0.05, jitter)
    n = len(lat)
    return (
        np.round(lat + rng.normal(0, 1, n) * spread, 6),
        np.round(lon + rng.normal(0, 1, n) * spread, 6),
    )


def _yn(rng: np.random.Generator, n: int, yes: float, na: float) -> list[str | None]:
    """Y/N values with a share left unknown (None)."""
    u = rng.random(n)
    return [None if x < na else ("Y" if x < na + (1 - na) * yes else "N") for x in u]


def industrial_places(v: vocab.Vocab, n: int, rng: np.random.Generator) -> pl.DataFrame:
    """Industrial facilities as plain values, drawn from the vocabulary's facility pool."""
    pool = v.facilities[efraimidis(rng, v.facilities["weight"].to_numpy(), n)]
    lat, lon = _coords(rng, pool, 0.0)
    status = rng.choice(IND_STATUS, n, p=IND_STATUS_SHARES)
    noi = _industrial_noi(rng, n)
    terminated = status == "Terminated"
    not_day = np.where(terminated, uniform_days(rng, np.minimum(noi + 180, HORIZON), HORIZON), -1)
    unit = rng.choice(["Acres", "SqFt", None], n, p=[0.6, 0.3, 0.1])
    acres = np.round(rng.lognormal(np.log(3.0), 1.2, n), 2)
    size = np.where(unit == "SqFt", np.round(acres * 43560), acres)
    kind = rng.random(n)
    wdid_type = np.where(
        status == "NONA Submitted",
        "NONA",
        np.where((status == "Active") & (kind < 0.04), "NEC", "I"),
    )
    return pool.drop("weight").with_columns(
        pl.lit("Industrial").alias("kind"),
        pl.Series("status", status),
        pl.Series("wdid_type", wdid_type),
        pl.Series("noi", noi),
        pl.Series("not_day", not_day),
        pl.Series("end", np.where(terminated, not_day, HORIZON)),
        pl.Series("lat", lat),
        pl.Series("lon", lon),
        pl.Series("size", size),
        pl.Series("size_unit", unit.tolist(), dtype=pl.String),
        pl.Series("indirectly", _yn(rng, n, 0.75, 0.4), dtype=pl.String),
        pl.Series("directly", _yn(rng, n, 0.2, 0.4), dtype=pl.String),
        pl.Series("risk", np.zeros(n, dtype=np.int64)),
    )


def _industrial_noi(rng: np.random.Generator, n: int) -> np.ndarray:
    """Coverage dates: old permits, the 2015 re-enrolment wave, and steady new filings."""
    era = rng.choice(3, n, p=[0.3, 0.3, 0.4])
    starts = np.array([day("1992-04-01"), day("2015-03-01"), day("2015-08-01")])
    ends = np.array([day("2015-02-28"), day("2015-07-31"), day("2025-10-31")])
    return uniform_days(rng, starts[era], ends[era])


def construction_places(v: vocab.Vocab, n: int, rng: np.random.Generator) -> pl.DataFrame:
    """Construction sites as plain values: real places, made-up project and owner names."""
    pool = v.facilities[rng.integers(0, v.facilities.height, n)]
    lat, lon = _coords(rng, pool, 0.01)
    status = rng.choice(CON_STATUS, n, p=CON_STATUS_SHARES)
    active = status != "Terminated"
    noi = np.where(
        active,
        uniform_days(rng, np.full(n, day("2019-01-01")), HORIZON - 30),
        uniform_days(rng, np.full(n, day("2002-01-01")), np.full(n, day("2024-12-31"))),
    )
    length = rng.integers(120, 1500, n)
    not_day = np.where(active, -1, np.minimum(noi + length, HORIZON))
    risk = rng.choice(len(RISK_LEVELS), n, p=RISK_SHARES)
    return pl.DataFrame(
        {
            "name": _site_names(rng, pool["city"].to_numpy(), n),
            "operator": _owner_names(rng, pool, n),
            "address": _site_addresses(rng, pool, n),
            "address2": [None] * n,
            **{c: pool[c] for c in ("city", "zip", "county", "region", "county_code")},
            "lat": lat,
            "lon": lon,
            "sic1": [None] * n,
            "sic2": [None] * n,
            "sic3": [None] * n,
            "water": pool["water"],
            "kind": ["Construction"] * n,
            "status": status,
            "wdid_type": ["C"] * n,
            "noi": noi,
            "not_day": not_day,
            "end": np.where(active, HORIZON, not_day),
            "size": np.round(rng.lognormal(np.log(6.0), 1.1, n), 2),
            "size_unit": ["Acres"] * n,
            "indirectly": _yn(rng, n, 0.7, 0.3),
            "directly": _yn(rng, n, 0.25, 0.3),
            "risk": np.array([1, 2, 3, 1, 2])[risk],
            "risk_label": np.array(RISK_LEVELS)[risk],
        }
    ).with_columns(
        pl.col("address2", "sic1", "sic2", "sic3", "indirectly", "directly").cast(pl.String)
    )


def _site_names(rng: np.random.Generator, cities: np.ndarray, n: int) -> list[str]:
    """Project names: tract numbers or a place word with a kind of project."""
    word = np.where(
        rng.random(n) < 0.5,
        cities,
        pick(vocab.NAME_WORDS, rng.integers(0, len(vocab.NAME_WORDS), n)).to_numpy(),
    )
    noun = pick(PROJECT_NOUNS, rng.integers(0, len(PROJECT_NOUNS), n)).to_numpy()
    tract = rng.integers(10000, 99999, n)
    is_tract = rng.random(n) < 0.15
    rows = zip(tract, is_tract, word, noun, strict=True)
    return [f"Tract {t}" if is_t else f"{w} {x}" for t, is_t, w, x in rows]


def _owner_names(rng: np.random.Generator, pool: pl.DataFrame, n: int) -> list[str]:
    """Owners: developers, cities, Caltrans, or an operator name from the pool."""
    kind = rng.choice(4, n, p=[0.6, 0.15, 0.05, 0.2])
    words = rng.integers(0, len(vocab.NAME_WORDS), n)
    nouns = rng.integers(0, len(OWNER_NOUNS), n)
    legal = rng.integers(0, len(vocab.LEGAL_SUFFIXES), n)
    district = rng.integers(1, 13, n)
    out = []
    for i in range(n):
        if kind[i] == 0:
            out.append(
                f"{vocab.NAME_WORDS[words[i]]} {OWNER_NOUNS[nouns[i]]} "
                f"{vocab.LEGAL_SUFFIXES[legal[i]]}"
            )
        elif kind[i] == 1:
            out.append(f"City of {pool['city'][i]}")
        elif kind[i] == 2:
            out.append(f"Caltrans District {district[i]}")
        else:
            out.append(pool["operator"][i])
    return out


def _site_addresses(rng: np.random.Generator, pool: pl.DataFrame, n: int) -> list[str]:
    """Street addresses, or an intersection the way site addresses are often given."""
    streets = np.array(vocab.STREETS, dtype=object)
    a, b = streets[rng.integers(0, len(streets), n)], streets[rng.integers(0, len(streets), n)]
    number = rng.integers(100, 29999, n)
    style = rng.random(n)
    pool_address = pool["address"].to_list()
    return [
        pool_address[i]
        if style[i] < 0.4
        else (f"NWC of {a[i]} and {b[i]}" if style[i] < 0.5 else f"{number[i]} {a[i]}")
        for i in range(n)
    ]


def assign_ids(places: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """WDIDs (region, county code, type, serial) and APP_IDs numbered in filing order."""
    n = places.height
    app = np.sort(rng.choice(840_000, n, replace=False) + 150_000)
    order = np.argsort(places["noi"].to_numpy(), kind="stable")
    app_id = np.empty(n, dtype=np.int64)
    app_id[order] = app
    serial = rng.choice(900_000, n, replace=False) + 100_000
    short = rng.choice(100_000, n, replace=False)
    region = places["region"]
    board = pl.when(region.str.len_chars() == 1).then(region + " ").otherwise(region)
    frame = places.with_columns(pl.Series("serial", serial), pl.Series("short", short))
    wdid = (
        pl.when(pl.col("wdid_type") == "NONA")
        .then(pl.lit("NONA") + pl.col("short").cast(pl.String).str.zfill(5))
        .otherwise(pl.col("wdid_type") + pl.col("serial").cast(pl.String))
    )
    return frame.with_columns(
        (board + pl.col("county_code") + wdid).alias("wdid"),
        pl.Series("app_id", app_id).cast(pl.String),
    ).drop("serial", "short")


def check_regions(places: pl.DataFrame) -> None:
    """Fail early if a facility got a region the contract does not know."""
    bad = places.filter(~pl.col("region").is_in(REGION_CODES))
    if bad.height:
        raise ValueError(f"unknown region codes: {bad['region'].unique().to_list()}")


def contact_block(fmt: Fmt, n: int, prefix: str, null: float = 0.1) -> dict[str, pl.Series]:
    """A contact block: first and last name, title, phone and e-mail."""
    rng = fmt.rng
    first, last = person_names(rng, n, vocab.FIRST_NAMES, vocab.LAST_NAMES)
    area = pick(AREA_CODES, rng.integers(0, len(AREA_CODES), n))
    phone = (
        "(" + area + ") 555-01" + pl.Series(rng.integers(0, 100, n)).cast(pl.String).str.zfill(2)
    )
    email = (
        pl.Series(first, dtype=pl.String) + "." + pl.Series(last, dtype=pl.String)
    ).str.to_lowercase() + "@example.com"
    gone = fmt.mask(n, null)
    return {
        f"{prefix}_FIRST_NAME": fmt.text(first, gone),
        f"{prefix}_LAST_NAME": fmt.text(last, gone),
        f"{prefix}_TITLE": fmt.text(
            pick(vocab.TITLES, rng.integers(0, len(vocab.TITLES), n)), fmt.mask(n, 0.3)
        ),
        f"{prefix}_PHONE": fmt.text(phone, gone),
        f"{prefix}_EMAIL": fmt.text(email, gone | fmt.mask(n, 0.2)),
    }


def _other_sics(fmt: Fmt, sic1: pl.Series, share: float) -> pl.Series:
    """A secondary SIC code for a share of facilities, drawn from the primaries seen."""
    n = len(sic1)
    known = sic1.drop_nulls()
    drawn = known.gather(fmt.rng.integers(0, max(len(known), 1), n)) if len(known) else sic1
    return fmt.text(drawn, ~fmt.mask(n, share))


def industrial_columns(fmt: Fmt, f: pl.DataFrame) -> dict[str, pl.Series]:
    """The industrial facility file's columns for facilities `f`."""
    n, rng = f.height, fmt.rng
    no_coords = fmt.mask(n, 0.05)
    size = f["size"].to_numpy()
    activity = size * rng.uniform(0.2, 1.0, n)
    certifier_first, certifier_last = person_names(rng, n, vocab.FIRST_NAMES, vocab.LAST_NAMES)
    certified = uniform_days(rng, f["noi"].to_numpy(), f["end"].to_numpy())
    contacts = contact_block(fmt, n, "FACILITY_CONTACT")
    contacts["FACILITY_TITLE"] = contacts.pop("FACILITY_CONTACT_TITLE")
    contacts["FACILITY_PHONE"] = contacts.pop("FACILITY_CONTACT_PHONE")
    contacts["FACILITY_EMAIL"] = contacts.pop("FACILITY_CONTACT_EMAIL")
    return {
        "PERMIT_TYPE": f["kind"],
        "APP_ID": f["app_id"],
        "WDID": f["wdid"],
        "STATUS": f["status"],
        "NOI_PROCESSED_DATE": fmt.date(f["noi"].to_numpy()),
        "NOT_EFFECTIVE_DATE": fmt.date(f["not_day"].to_numpy(), f["not_day"].to_numpy() < 0),
        "REGION_BOARD": f["region"],
        "COUNTY": f["county"],
        "OPERATOR_NAME": fmt.text(f["operator"]),
        "FACILITY_NAME": f["name"],
        "FACILITY_ADDRESS": fmt.text(f["address"]),
        "FACILITY_ADDRESS_2": fmt.text(f["address2"]),
        "FACILITY_CITY": fmt.text(f["city"]),
        "FACILITY_STATE": pl.Series(["CA"] * n),
        "FACILITY_ZIP": fmt.text(f["zip"]),
        "FACILITY_LATITUDE": fmt.num(f["lat"].to_numpy(), no_coords, sig=None, decimals=6),
        "FACILITY_LONGITUDE": fmt.num(f["lon"].to_numpy(), no_coords, sig=None, decimals=6),
        "FACILITY_COUNTY": f["county"],
        **contacts,
        "FACILITY_TOTAL_SIZE": fmt.num(size, f["size_unit"].is_null().to_numpy()),
        "FACILITY_TOTAL_SIZE_UNIT": fmt.text(f["size_unit"]),
        "FACILITY_AREA_ACTIVITY": fmt.num(
            activity, f["size_unit"].is_null().to_numpy() | fmt.mask(n, 0.3)
        ),
        "FACILITY_AREA_ACTIVITY_UNIT": fmt.text(f["size_unit"]),
        "PERCENT_OF_SITE_IMPERVIOUSNESS": fmt.num(
            rng.uniform(5, 100, n).round(), fmt.mask(n, 0.35)
        ),
        "PRIMARY_SIC": fmt.text(f["sic1"], fmt.mask(n, 0.02)),
        "SECONDARY_SIC": _other_sics(fmt, f["sic1"], 0.4),
        "TERTIARY_SIC": _other_sics(fmt, f["sic1"], 0.1),
        "RECEIVING_WATER_NAME": fmt.text(f["water"]),
        "INDIRECTLY": fmt.text(f["indirectly"]),
        "DIRECTLY": fmt.text(f["directly"]),
        "CERTIFIER_BY": fmt.text(
            pl.Series(certifier_first, dtype=pl.String)
            + " "
            + pl.Series(certifier_last, dtype=pl.String),
            fmt.mask(n, 0.3),
        ),
        "CERTIFIER_TITLE": fmt.text(
            pick(vocab.TITLES, rng.integers(0, len(vocab.TITLES), n)), fmt.mask(n, 0.4)
        ),
        "CERTIFICATION_DATE": fmt.stamp(certified, rng.integers(420, 1080, n), fmt.mask(n, 0.3)),
        "QUESTION_TMDL_ANSWER": fmt.flag(n, 0.2, 0.5),
    }
