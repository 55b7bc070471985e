"""Vocabulary for the built-in sample: real names and places when the reference files are at
hand, a small curated stand-in when they are not.

The sample reads the reference files at run time and never copies them into the project.
Every table has the same columns in both cases, so the generator has one code path; the
stand-in is built with its own fixed seed, so a fresh machine still gets deterministic,
plausible output.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from data_layer.datasets import REGION_CODES

log = logging.getLogger(__name__)

FACILITIES_FILE = "real/industrial_facilities_2019-03-12.csv"
PARAMETERS_FILE = "real/industrial_monitoring_parameters_units.csv"
PLANTS_FILE = "real/ciwqs_wastewater_facilities_2024-09-06.csv"

#: California counties: name, WDID county code, usual Regional Board, rough centre (lat, lon).
COUNTIES: tuple[tuple[str, str, str, float, float], ...] = (
    ("Alameda", "01", "2", 37.65, -121.92),
    ("Alpine", "02", "6A", 38.60, -119.82),
    ("Amador", "03", "5S", 38.45, -120.65),
    ("Butte", "04", "5R", 39.67, -121.60),
    ("Calaveras", "05", "5S", 38.20, -120.55),
    ("Colusa", "06", "5S", 39.18, -122.24),
    ("Contra Costa", "07", "2", 37.92, -121.95),
    ("Del Norte", "08", "1", 41.74, -124.10),
    ("El Dorado", "09", "5S", 38.78, -120.52),
    ("Fresno", "10", "5F", 36.75, -119.77),
    ("Glenn", "11", "5R", 39.60, -122.39),
    ("Humboldt", "12", "1", 40.80, -124.15),
    ("Imperial", "13", "7", 32.85, -115.57),
    ("Inyo", "14", "6B", 36.60, -117.87),
    ("Kern", "15", "5F", 35.37, -119.02),
    ("Kings", "16", "5F", 36.33, -119.65),
    ("Lake", "17", "5S", 39.05, -122.77),
    ("Lassen", "18", "6A", 40.42, -120.65),
    ("Los Angeles", "19", "4", 34.05, -118.24),
    ("Madera", "20", "5F", 36.96, -120.06),
    ("Marin", "21", "2", 38.03, -122.62),
    ("Mariposa", "22", "5F", 37.48, -119.97),
    ("Mendocino", "23", "1", 39.15, -123.21),
    ("Merced", "24", "5F", 37.30, -120.48),
    ("Modoc", "25", "5R", 41.49, -120.54),
    ("Mono", "26", "6B", 37.64, -118.97),
    ("Monterey", "27", "3", 36.68, -121.65),
    ("Napa", "28", "2", 38.30, -122.29),
    ("Nevada", "29", "5S", 39.26, -121.02),
    ("Orange", "30", "8", 33.74, -117.87),
    ("Placer", "31", "5S", 38.90, -121.08),
    ("Plumas", "32", "5R", 39.94, -120.95),
    ("Riverside", "33", "8", 33.95, -117.40),
    ("Sacramento", "34", "5S", 38.58, -121.49),
    ("San Benito", "35", "3", 36.85, -121.40),
    ("San Bernardino", "36", "8", 34.11, -117.29),
    ("San Diego", "37", "9", 32.72, -117.16),
    ("San Francisco", "38", "2", 37.77, -122.42),
    ("San Joaquin", "39", "5S", 37.96, -121.29),
    ("San Luis Obispo", "40", "3", 35.28, -120.66),
    ("San Mateo", "41", "2", 37.56, -122.32),
    ("Santa Barbara", "42", "3", 34.42, -119.70),
    ("Santa Clara", "43", "2", 37.35, -121.89),
    ("Santa Cruz", "44", "3", 36.97, -122.03),
    ("Shasta", "45", "5R", 40.59, -122.39),
    ("Sierra", "46", "5S", 39.58, -120.52),
    ("Siskiyou", "47", "1", 41.73, -122.63),
    ("Solano", "48", "2", 38.25, -122.04),
    ("Sonoma", "49", "1", 38.44, -122.71),
    ("Stanislaus", "50", "5S", 37.64, -120.99),
    ("Sutter", "51", "5S", 39.14, -121.62),
    ("Tehama", "52", "5R", 40.18, -122.24),
    ("Trinity", "53", "1", 40.73, -122.94),
    ("Tulare", "54", "5F", 36.33, -119.29),
    ("Tuolumne", "55", "5S", 37.98, -120.38),
    ("Ventura", "56", "4", 34.28, -119.23),
    ("Yolo", "57", "5S", 38.68, -121.77),
    ("Yuba", "58", "5S", 39.14, -121.59),
)
COUNTY_BY_CODE = {c[1]: c for c in COUNTIES}
COUNTY_BY_NAME = {c[0].lower(): c for c in COUNTIES}

FIRST_NAMES = (
    "Maria",
    "James",
    "Linda",
    "Robert",
    "Ana",
    "David",
    "Susan",
    "Jose",
    "Karen",
    "Michael",
    "Lisa",
    "Daniel",
    "Nancy",
    "Carlos",
    "Emily",
    "Steven",
    "Grace",
    "Kevin",
    "Rosa",
    "Brian",
    "Helen",
    "Victor",
    "Julie",
    "Thomas",
)
LAST_NAMES = (
    "Garcia",
    "Nguyen",
    "Smith",
    "Hernandez",
    "Lee",
    "Johnson",
    "Martinez",
    "Chen",
    "Brown",
    "Lopez",
    "Wong",
    "Miller",
    "Gonzalez",
    "Patel",
    "Davis",
    "Ramirez",
    "Kim",
    "Wilson",
    "Torres",
    "Anderson",
    "Flores",
    "Taylor",
    "Singh",
    "Moore",
)
TITLES = (
    "Environmental Manager",
    "Plant Manager",
    "Owner",
    "Operations Manager",
    "EHS Coordinator",
    "General Manager",
    "Facility Manager",
    "President",
    "Compliance Specialist",
)
STREETS = (
    "Industrial Way",
    "Commerce St",
    "Harbor Blvd",
    "Airport Rd",
    "Mill St",
    "Railroad Ave",
    "Main St",
    "Ocean View Rd",
    "Santa Fe Ave",
    "Alameda St",
    "Valley Blvd",
    "Foothill Blvd",
    "Grant Line Rd",
    "River Rd",
    "Mission Blvd",
    "Pacific Ave",
    "El Camino Real",
    "Business Park Dr",
    "Cherry Ave",
    "Washington Blvd",
    "Slauson Ave",
    "Lincoln Ave",
    "Oak St",
    "Canal St",
)
CITIES: tuple[tuple[str, str, str], ...] = (
    ("Oakland", "Alameda", "94607"),
    ("Fremont", "Alameda", "94538"),
    ("Richmond", "Contra Costa", "94804"),
    ("San Jose", "Santa Clara", "95112"),
    ("Los Angeles", "Los Angeles", "90021"),
    ("Long Beach", "Los Angeles", "90813"),
    ("Vernon", "Los Angeles", "90058"),
    ("Carson", "Los Angeles", "90745"),
    ("Fontana", "San Bernardino", "92335"),
    ("Ontario", "San Bernardino", "91761"),
    ("Riverside", "Riverside", "92507"),
    ("Anaheim", "Orange", "92806"),
    ("Santa Ana", "Orange", "92705"),
    ("San Diego", "San Diego", "92121"),
    ("Chula Vista", "San Diego", "91911"),
    ("Sacramento", "Sacramento", "95815"),
    ("Stockton", "San Joaquin", "95206"),
    ("Fresno", "Fresno", "93706"),
    ("Bakersfield", "Kern", "93308"),
    ("Modesto", "Stanislaus", "95358"),
    ("Redding", "Shasta", "96001"),
    ("Eureka", "Humboldt", "95501"),
    ("Santa Rosa", "Sonoma", "95407"),
    ("Salinas", "Monterey", "93901"),
    ("Oxnard", "Ventura", "93030"),
    ("Visalia", "Tulare", "93291"),
    ("El Centro", "Imperial", "92243"),
    ("Chico", "Butte", "95928"),
    ("Napa", "Napa", "94558"),
    ("Vallejo", "Solano", "94590"),
    ("San Luis Obispo", "San Luis Obispo", "93401"),
    ("Santa Maria", "Santa Barbara", "93454"),
    ("Merced", "Merced", "95341"),
    ("Woodland", "Yolo", "95776"),
)
NAME_WORDS = (
    "Pacific",
    "Golden State",
    "Sierra",
    "Bay Area",
    "Valley",
    "Coastal",
    "Western",
    "Sunrise",
    "Mission",
    "Redwood",
    "Central",
    "Summit",
    "Harbor",
    "Delta",
    "Inland",
    "Southland",
    "Diamond",
    "Eagle",
    "Cal",
    "Premier",
    "United",
    "Allied",
    "Pioneer",
    "Orchard",
)
#: SIC code, its label and nouns a business of that kind is named with.
SIC_CODES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("5093", "Scrap and Waste Materials", ("Metal Recycling", "Scrap Metals", "Recyclers")),
    ("4212", "Local Trucking Without Storage", ("Trucking", "Transport", "Freight Lines")),
    (
        "4581",
        "Airports, Flying Fields, and Airport Terminal Services",
        ("Airport", "Aviation Services", "Air Terminal"),
    ),
    ("2421", "Sawmills and Planing Mills, General", ("Lumber", "Sawmill", "Forest Products")),
    ("4953", "Refuse Systems", ("Disposal", "Landfill", "Transfer Station")),
    ("5015", "Motor Vehicle Parts, Used", ("Auto Wreckers", "Auto Dismantlers", "U-Pull Parts")),
    ("4213", "Trucking, Except Local", ("Logistics", "Express", "Carriers")),
    ("3273", "Ready-Mixed Concrete", ("Ready Mix", "Concrete", "Materials")),
    ("4225", "General Warehousing and Storage", ("Distribution Center", "Warehouse", "Storage")),
    (
        "3471",
        "Electroplating, Plating, Polishing, Anodizing, and Coloring",
        ("Plating", "Anodizing", "Metal Finishing"),
    ),
    ("1442", "Construction Sand and Gravel", ("Aggregates", "Sand & Gravel", "Rock Products")),
    ("2084", "Wines, Brandy, and Brandy Spirits", ("Winery", "Vineyards", "Cellars")),
    ("3089", "Plastics Products, NEC", ("Plastics", "Molding", "Polymers")),
    ("4151", "School Buses", ("Bus Yard", "Student Transportation", "Transit Yard")),
    ("5171", "Petroleum Bulk Stations and Terminals", ("Fuel Terminal", "Petroleum", "Oil Co")),
    ("3441", "Fabricated Structural Metal", ("Steel", "Iron Works", "Fabricators")),
)
LEGAL_SUFFIXES = ("Inc", "LLC", "Co.", "Inc.", "Corporation", "Company", "LP")
RECEIVING_WATERS = (
    "Pacific Ocean",
    "Los Angeles River",
    "Santa Ana River",
    "San Francisco Bay",
    "San Gabriel River",
    "Coyote Creek",
    "Sacramento River",
    "San Joaquin River",
    "Dominguez Channel",
    "Tijuana River",
    "American River",
    "Kern River",
    "Russian River",
)
#: Stand-in parameter list: name and the unit it is usually reported in.
PARAMETERS: tuple[tuple[str, str], ...] = (
    ("Chemical Oxygen Demand (COD)", "mg/L"),
    ("Iron, Total", "mg/L"),
    ("Aluminum, Total", "mg/L"),
    ("Nitrite Plus Nitrate (as N)", "mg/L"),
    ("Ammonia, Total (as N)", "mg/L"),
    ("Biochemical Oxygen Demand (BOD) (5-day @ 20 Deg. C)", "mg/L"),
    ("Electrical Conductivity @ 25 Deg. C", "umhos/cm"),
    ("Phosphorus, Total (as P)", "mg/L"),
    ("Magnesium, Total", "mg/L"),
    ("Nickel, Total", "mg/L"),
    ("Cadmium, Total", "mg/L"),
    ("Chromium, Total", "mg/L"),
    ("Arsenic, Total", "mg/L"),
    ("Mercury, Total", "ug/L"),
    ("Selenium, Total", "ug/L"),
    ("Silver, Total", "mg/L"),
    ("Cyanide, Total", "mg/L"),
    ("Turbidity", "NTU"),
    ("Total Dissolved Solids (TDS)", "mg/L"),
    ("Nitrate, Total (as N)", "mg/L"),
    ("Total Kjeldahl Nitrogen (TKN) (as N)", "mg/L"),
    ("Diesel Oil", "mg/L"),
    ("Naphthalene", "ug/L"),
    ("Benzene", "ug/L"),
    ("Toluene", "ug/L"),
    ("Settleable Solids", "ml/L"),
    ("Coliform, Fecal", "MPN/100 mL"),
    ("Iron, Dissolved", "mg/L"),
    ("Zinc, Dissolved", "mg/L"),
    ("Copper, Dissolved", "ug/L"),
)
PLANT_KINDS = ("WWTP", "WWTF", "WRF", "Regional WRP", "Water Pollution Control Plant", "STP")

FACILITY_COLUMNS = (
    "name",
    "operator",
    "address",
    "address2",
    "city",
    "zip",
    "county",
    "region",
    "county_code",
    "lat",
    "lon",
    "sic1",
    "sic2",
    "sic3",
    "water",
    "weight",
)
PLANT_COLUMNS = (
    "place_id",
    "name",
    "agency",
    "address",
    "city",
    "zip",
    "county",
    "region",
    "lat",
    "lon",
)

#: Boosts that bring the SIC mix of today's exports out of the 2019 file.
_SIC_BOOST = {
    "5093": 2.5,
    "4212": 3.0,
    "4581": 9.0,
    "2421": 9.0,
    "4953": 2.2,
    "5015": 0.3,
    "2084": 0.4,
    "4213": 0.6,
    "4952": 0.0,
}
_POTW_WORDS = r"(?i)wwt|wastewater|sanitation|sanitary|reclamation|sewer|water pollution|potw"


@dataclass(frozen=True)
class Vocab:
    """Tables the sample draws from; `real` says whether they came from the reference files."""

    facilities: pl.DataFrame
    parameters: pl.DataFrame
    plants: pl.DataFrame
    real: bool


def load_vocab(reference: Path | None) -> Vocab:
    """Real vocabulary from `reference`, falling back per file to the built-in one."""
    base = reference if reference is not None and reference.is_dir() else None
    found = {
        name: base / name
        for name in (FACILITIES_FILE, PARAMETERS_FILE, PLANTS_FILE)
        if base is not None and (base / name).is_file()
    }
    if len(found) < 3:
        log.info("reference files missing (%s); using the built-in vocabulary for those", reference)
    facilities = (
        _real_facilities(found[FACILITIES_FILE])
        if FACILITIES_FILE in found
        else fallback_facilities()
    )
    parameters = (
        _real_parameters(found[PARAMETERS_FILE])
        if PARAMETERS_FILE in found
        else pl.DataFrame(PARAMETERS, schema=["name", "unit"], orient="row")
    )
    plants = _real_plants(found[PLANTS_FILE]) if PLANTS_FILE in found else fallback_plants()
    return Vocab(facilities, parameters, plants, real=len(found) == 3)


def county_region(county: str | None, region: str | None = None) -> str:
    """A valid Regional Board code for a county, refining a bare `5`/`6` from CIWQS."""
    default = COUNTY_BY_NAME.get((county or "").lower(), ("", "", "5S"))[2]
    if region in REGION_CODES:
        return region
    if region in ("5", "6") and default.startswith(region):
        return default
    return {"5": "5S", "6": "6B"}.get(region or "", default)


def _read(path: Path) -> pl.DataFrame:
    """A reference CSV as text columns, `NA` and empty read as null."""
    return pl.read_csv(path, infer_schema=False, null_values=["NA", ""], encoding="utf8-lossy")


def _coord(expr: pl.Expr, low: float, high: float) -> pl.Expr:
    """A coordinate column, null when unparseable or outside California."""
    value = expr.cast(pl.Float64, strict=False)
    return pl.when(value.is_between(low, high)).then(value).otherwise(None)


def _real_facilities(path: Path) -> pl.DataFrame:
    """Industrial facility rows with a clean WDID prefix; sewerage plants are left out."""
    raw = _read(path)
    prefix = pl.col("WDID").str.extract_groups(r"^([1-9][ABFRS]?) ?(\d\d)")
    frame = raw.with_columns(
        prefix.struct.field("1").alias("region"),
        prefix.struct.field("2").alias("county_code"),
        pl.col("PRIMARY_SIC").str.slice(0, 4).alias("sic_code"),
    ).filter(
        pl.col("region").is_in(REGION_CODES)
        & pl.col("county_code").is_in(list(COUNTY_BY_CODE))
        & pl.col("FACILITY_NAME").is_not_null()
        & (pl.col("sic_code").fill_null("") != "4952")
        & ~pl.col("FACILITY_NAME").str.contains(_POTW_WORDS)
    )
    county = pl.col("county_code").replace_strict({k: v[0] for k, v in COUNTY_BY_CODE.items()})
    boost = pl.col("sic_code").replace_strict(_SIC_BOOST, default=1.0, return_dtype=pl.Float64)
    return frame.select(
        pl.col("FACILITY_NAME").alias("name"),
        pl.coalesce("OPERATOR_NAME", "FACILITY_NAME").alias("operator"),
        pl.col("FACILITY_ADDRESS").fill_null("Unknown").alias("address"),
        pl.col("FACILITY_ADDRESS_2").alias("address2"),
        pl.col("FACILITY_CITY").fill_null("Unknown").alias("city"),
        pl.col("FACILITY_ZIP").str.extract(r"^(\d{5})").alias("zip"),
        county.alias("county"),
        "region",
        "county_code",
        _coord(pl.col("FACILITY_LATITUDE"), 32.4, 42.1).alias("lat"),
        _coord(pl.col("FACILITY_LONGITUDE"), -124.6, -114.1).alias("lon"),
        pl.col("PRIMARY_SIC").alias("sic1"),
        pl.col("SECONDARY_SIC").alias("sic2"),
        pl.col("TERTIARY_SIC").alias("sic3"),
        pl.col("RECEIVING_WATER_NAME").alias("water"),
        boost.alias("weight"),
    )


def _real_parameters(path: Path) -> pl.DataFrame:
    """Parameter spellings and the unit each is most often reported in."""
    raw = _read(path)
    return raw.select(pl.col("PARAMETER").alias("name"), pl.col("max.unit").alias("unit")).filter(
        pl.col("name").is_not_null() & pl.col("unit").is_not_null()
    )


def _real_plants(path: Path) -> pl.DataFrame:
    """CIWQS wastewater facilities: the eSMR side's names, agencies and places."""
    raw = _read(path).filter(pl.col("FACILITY NAME").is_not_null())
    regions = [county_region(c, r) for c, r in zip(raw["PLACE COUNTY"], raw["REGION"], strict=True)]
    return raw.select(
        pl.col("FACILITY ID").cast(pl.Int64).alias("place_id"),
        pl.col("FACILITY NAME").alias("name"),
        pl.coalesce("AGENCY NAME", "FACILITY NAME").alias("agency"),
        pl.col("PLACE ADDRESS").str.replace_all(r"\s+", " ").alias("address"),
        pl.col("PLACE CITY").alias("city"),
        pl.col("PLACE ZIP").str.extract(r"^(\d{5})").alias("zip"),
        pl.col("PLACE COUNTY").fill_null("Unknown").alias("county"),
        pl.Series("region", regions),
        _coord(pl.col("LATITUDE DECIMAL DEGREES"), 32.4, 42.1).alias("lat"),
        _coord(pl.col("LONGITUDE DECIMAL DEGREES"), -124.6, -114.1).alias("lon"),
    ).unique("place_id", keep="first", maintain_order=True)


def _city_places(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Random built-in cities with their county, region and coordinates near the centre."""
    pick = rng.integers(0, len(CITIES), n)
    city = np.array([CITIES[i][0] for i in pick], dtype=object)
    county = np.array([CITIES[i][1] for i in pick], dtype=object)
    info = [COUNTY_BY_NAME[c.lower()] for c in county]
    return {
        "city": city,
        "county": county,
        "zip": np.array([CITIES[i][2] for i in pick], dtype=object),
        "region": np.array([c[2] for c in info], dtype=object),
        "county_code": np.array([c[1] for c in info], dtype=object),
        "lat": np.round(np.array([c[3] for c in info]) + rng.normal(0, 0.05, n), 6),
        "lon": np.round(np.array([c[4] for c in info]) + rng.normal(0, 0.05, n), 6),
    }


def _words(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    """`n` draws from a word list."""
    return np.array(options, dtype=object)[rng.integers(0, len(options), n)]


def fallback_facilities(n: int = 1500) -> pl.DataFrame:
    """A stand-in facility pool recombined from the curated word lists (fixed seed)."""
    rng = np.random.default_rng(20190312)
    places = _city_places(rng, n)
    sic = rng.integers(0, len(SIC_CODES), n)
    noun = np.array([SIC_CODES[i][2][rng.integers(0, 3)] for i in sic], dtype=object)
    word = _words(rng, NAME_WORDS, n)
    legal = _words(rng, LEGAL_SUFFIXES, n)
    names = [f"{w} {x}" for w, x in zip(word, noun, strict=True)]
    number = rng.integers(100, 19999, n)
    streets = _words(rng, STREETS, n)
    frame = {
        "name": names,
        "operator": [f"{nm} {sx}" for nm, sx in zip(names, legal, strict=True)],
        "address": [f"{k} {s}" for k, s in zip(number, streets, strict=True)],
        "address2": [None] * n,
        **places,
        "sic1": [f"{SIC_CODES[i][0]}-{SIC_CODES[i][1]}" for i in sic],
        "sic2": [None] * n,
        "sic3": [None] * n,
        "water": list(_words(rng, RECEIVING_WATERS, n)),
        "weight": [_SIC_BOOST.get(SIC_CODES[i][0], 1.0) for i in sic],
    }
    text = pl.col("address2", "sic2", "sic3").cast(pl.String)
    return pl.DataFrame(frame).select(FACILITY_COLUMNS).with_columns(text)


def fallback_plants() -> pl.DataFrame:
    """Stand-in CIWQS wastewater plants: one or two per built-in city (fixed seed)."""
    rng = np.random.default_rng(20240906)
    rows = []
    for i, (city, county, zip_) in enumerate(CITIES):
        info = COUNTY_BY_NAME[county.lower()]
        for j in range(1 + i % 2):
            kind = PLANT_KINDS[(i + j) % len(PLANT_KINDS)]
            agency = f"{city} City" if j == 0 else f"{county} County Sanitation District"
            name = f"{city} City {kind}" if j == 0 else f"{county} Cnty SD {kind}"
            lat = round(info[3] + rng.normal(0, 0.05), 6)
            lon = round(info[4] + rng.normal(0, 0.05), 6)
            address = f"{rng.integers(100, 9999)} {STREETS[(i + j) % len(STREETS)]}"
            rows.append(
                (
                    200000 + 37 * len(rows),
                    name,
                    agency,
                    address,
                    city,
                    zip_,
                    county,
                    info[2],
                    lat,
                    lon,
                )
            )
    return pl.DataFrame(rows, schema=list(PLANT_COLUMNS), orient="row")
