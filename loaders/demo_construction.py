"""The construction facility file of the built-in sample: owner, developer and site blocks,
project dates, kind of construction and the risk level that decides monitoring.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from loaders import demo_vocab as vocab
from loaders.demo_facilities import contact_block
from loaders.demo_format import Fmt, person_names, pick

CONSTRUCTION_TYPES = (
    "Residential",
    "Commercial",
    "Industrial",
    "Transportation",
    "Utility",
    "Reconstruction",
    "Other",
)
CONSTRUCTION_TYPE_SHARES = (0.42, 0.24, 0.06, 0.1, 0.1, 0.03, 0.05)
OTHER_WORK = (
    "Demolition",
    "Grading only",
    "Park improvements",
    "Levee repair",
    "Golf course renovation",
    "Habitat restoration",
)


def _flags_for(fmt: Fmt, chosen: np.ndarray) -> pl.Series:
    """Y where a project is of a kind, N elsewhere, with a few unknowns."""
    return fmt.text(np.where(chosen, "Y", "N"), fmt.mask(len(chosen), 0.02))


def _construction_kind(fmt: Fmt, f: pl.DataFrame) -> dict[str, pl.Series]:
    """Type-of-construction text and the yes/no columns that follow from it."""
    n, rng = f.height, fmt.rng
    kind = rng.choice(len(CONSTRUCTION_TYPES), n, p=CONSTRUCTION_TYPE_SHARES)
    utility = kind == CONSTRUCTION_TYPES.index("Utility")
    other = kind == CONSTRUCTION_TYPES.index("Other")
    lines = {
        name: fmt.text(np.where(rng.random(n) < 0.4, "Y", "N"), ~utility)
        for name in (
            "CONSTRUCTION_ABOVE_GROUND",
            "CONSTRUCTION_BELOW_GROUND",
            "CONSTRUCTION_GAS_LINE",
            "CONSTRUCTION_WATER_SEWER_LINE",
            "CONS_COMMUNICATION_LINE",
            "CONS_CABLE_LINE",
            "CONS_ELECTRICAL_LINE",
        )
    }
    return {
        "TYPE_OF_CONSTRUCTION": pick(CONSTRUCTION_TYPES, kind),
        "CONSTRUCTION_RESIDENTIAL": _flags_for(fmt, kind == 0),
        "CONSTRUCTION_COMMERTIAL": _flags_for(fmt, kind == 1),
        "CONSTRUCTION_INDUSTRIAL": _flags_for(fmt, kind == 2),
        "CONSTRUCTION_RECONSTRUCTION": _flags_for(fmt, kind == 5),
        "CONSTRUCTION_TRANSPORTATION": _flags_for(fmt, kind == 3),
        "TYPE_OF_CONSTRUCTION_UTILITY": _flags_for(fmt, utility),
        "CONSTRUCTION_OTHER": _flags_for(fmt, other),
        "CONSTRUCTION_OTHER_DESRIPTION": fmt.text(
            pick(OTHER_WORK, rng.integers(0, len(OTHER_WORK), n)), ~other
        ),
        **lines,
    }


def _construction_dates(fmt: Fmt, f: pl.DataFrame) -> dict[str, pl.Series]:
    """Commencement, grading and completion dates around the coverage window."""
    n, rng = f.height, fmt.rng
    start = f["noi"].to_numpy() + rng.integers(-60, 90, n)
    end = np.maximum(f["end"].to_numpy(), start + 60)
    grading = start + ((end - start) * rng.uniform(0.2, 0.6, n)).astype(np.int64)
    return {
        "CONSTRUCTION_COMMENCEMENT_DATE": fmt.date(start),
        "COMPLETE_GRADING_DATE": fmt.date(grading, fmt.mask(n, 0.1)),
        "COMPLETE_PROJECT_DATE": fmt.date(end + rng.integers(0, 200, n), fmt.mask(n, 0.05)),
    }


def _construction_risk(fmt: Fmt, f: pl.DataFrame) -> dict[str, pl.Series]:
    """Erosion factors (mostly blank) and the risk level that decides monitoring."""
    n, rng = f.height, fmt.rng
    blank = fmt.mask(n, 0.8)
    r, k, ls = rng.uniform(10, 400, n), rng.uniform(0.05, 0.5, n), rng.lognormal(0, 0.8, n)
    sediment = np.where(
        f["risk"].to_numpy() >= 2, rng.choice(["Medium", "High"], n, p=[0.7, 0.3]), "Low"
    )
    return {
        "R_FACTOR": fmt.num(r, blank),
        "K_FACTOR": fmt.num(k, blank),
        "LS_FACTOR": fmt.num(ls, blank),
        "WATERSHED_EROSION_ESTIMATE": fmt.num(r * k * ls, blank),
        "SITE_SEDIMENT_RISK_FACTOR": fmt.text(sediment, fmt.mask(n, 0.1)),
        "RECEIVING_WATER_RISK": fmt.choice(["Low", "High"], [0.75, 0.25], n, null=0.1),
        "PROJECT_COMBINED_RISK": f["risk_label"],
    }


def _construction_sizes(fmt: Fmt, f: pl.DataFrame) -> dict[str, pl.Series]:
    """Site size, disturbed area and imperviousness before and after."""
    n, rng = f.height, fmt.rng
    size = f["size"].to_numpy()
    disturbed = np.round(size * rng.uniform(0.3, 1.0, n), 2)
    before = rng.uniform(0, 30, n).round()
    return {
        "SITE_TOTAL_SIZE": fmt.num(size),
        "SITE_TOTAL_SIZE_UNIT": f["size_unit"],
        "SITE_TOTAL_DISTURBED_ACREAGE": fmt.num(disturbed),
        "TOTAL_DISTURBED_ACREAGE_UNIT": f["size_unit"],
        "PERCENT_TOTAL_DISTURBED": fmt.num(np.round(100 * disturbed / size)),
        "IMPERVIOUSNESS_BEFORE": fmt.num(before, fmt.mask(n, 0.2)),
        "IMPERVIOUSNESS_AFTER": fmt.num(
            np.minimum(before + rng.uniform(0, 60, n).round(), 100), fmt.mask(n, 0.2)
        ),
    }


def _developer(fmt: Fmt, f: pl.DataFrame) -> dict[str, pl.Series]:
    """The developer block: often the owner itself, at a mailing address in a built-in city."""
    n, rng = f.height, fmt.rng
    owners = f["operator"]
    other = owners.gather(rng.permutation(n))
    name = other.zip_with(pl.Series(rng.random(n) < 0.5), owners)
    city = rng.integers(0, len(vocab.CITIES), n)
    street = pick(vocab.STREETS, rng.integers(0, len(vocab.STREETS), n))
    contacts = contact_block(fmt, n, "DEVELOPER_CONTACT")
    return {
        "DEVELOPER_NAME": fmt.text(name),
        "DEVELOPER_ADDRESS": pl.Series(rng.integers(10, 9999, n)).cast(pl.String) + " " + street,
        "DEVELOPER_ADDRESS_2": fmt.text(
            "Suite " + pl.Series(rng.integers(100, 900, n)).cast(pl.String), fmt.mask(n, 0.85)
        ),
        "DEVELOPER_CITY": pick([c[0] for c in vocab.CITIES], city),
        "DEVELOPER_STATE": pl.Series(["CA"] * n),
        "DEVELOPER_ZIP": pick([c[2] for c in vocab.CITIES], city),
        "DEVELOPER_CONTACT_FIRST_NAME": contacts["DEVELOPER_CONTACT_FIRST_NAME"],
        "DEVELOPER_CONTACT_LAST_NAME": contacts["DEVELOPER_CONTACT_LAST_NAME"],
        "DEVELOPER_TITLE": contacts["DEVELOPER_CONTACT_TITLE"],
        "DEVELOPER_PHONE": contacts["DEVELOPER_CONTACT_PHONE"],
        "DEVELOPER_EMAIL": contacts["DEVELOPER_CONTACT_EMAIL"],
    }


def _site(fmt: Fmt, f: pl.DataFrame) -> dict[str, pl.Series]:
    """The site block: name, address, place, coordinates (mostly missing) and contact."""
    n = f.height
    no_coords = fmt.mask(n, 0.6)
    contacts = contact_block(fmt, n, "SITE_CONTACT", null=0.3)
    return {
        "SITE_NAME": f["name"],
        "SITE_ADDRESS": fmt.text(f["address"]),
        "SITE_ADDRESS_2": fmt.text(f["address2"]),
        "SITE_CITY": fmt.text(f["city"]),
        "SITE_STATE": pl.Series(["CA"] * n),
        "SITE_ZIP": fmt.text(f["zip"]),
        "SITE_LATITUDE": fmt.num(f["lat"].to_numpy(), no_coords, sig=None, decimals=6),
        "SITE_LONGITUDE": fmt.num(f["lon"].to_numpy(), no_coords, sig=None, decimals=6),
        "SITE_COUNTY": f["county"],
        "SITE_CONTACT_FIRST_NAME": contacts["SITE_CONTACT_FIRST_NAME"],
        "SITE_CONTACT_LAST_NAME": contacts["SITE_CONTACT_LAST_NAME"],
        "SITE_TITLE": contacts["SITE_CONTACT_TITLE"],
        "SITE_PHONE": contacts["SITE_CONTACT_PHONE"],
        "SITE_EMAIL": contacts["SITE_CONTACT_EMAIL"],
    }


def _people(fmt: Fmt, f: pl.DataFrame) -> dict[str, pl.Series]:
    """The QSD and the certifier of the application."""
    n, rng = f.height, fmt.rng
    qsd_first, qsd_last = person_names(rng, n, vocab.FIRST_NAMES, vocab.LAST_NAMES)
    cert_first, cert_last = person_names(rng, n, vocab.FIRST_NAMES, vocab.LAST_NAMES)
    no_qsd = fmt.mask(n, 0.25)
    certified = f["noi"].to_numpy() - rng.integers(0, 30, n)
    return {
        "QSD_FIRST_NAME": fmt.text(qsd_first, no_qsd),
        "QSD_LAST_NAME": fmt.text(qsd_last, no_qsd),
        "QSD_CERTIFICATION_NUMBER": fmt.text(
            pl.Series(rng.integers(20000, 29999, n)).cast(pl.String), no_qsd
        ),
        "CERTIFIER_BY": fmt.text(
            pl.Series(cert_first, dtype=pl.String) + " " + pl.Series(cert_last, dtype=pl.String),
            fmt.mask(n, 0.2),
        ),
        "CERTIFIER_TITLE": fmt.text(
            pick(vocab.TITLES, rng.integers(0, len(vocab.TITLES), n)), fmt.mask(n, 0.4)
        ),
        "CERTIFICATION_DATE": fmt.stamp(certified, rng.integers(420, 1080, n), fmt.mask(n, 0.2)),
    }


def construction_columns(fmt: Fmt, f: pl.DataFrame) -> dict[str, pl.Series]:
    """The construction facility file's columns for sites `f`."""
    n, rng = f.height, fmt.rng
    names = f["name"]
    tract = names.str.extract(r"^Tract (\d+)$")
    larger = rng.random(n) < 0.3
    transport = rng.random(n) < 0.05
    mile = "PM " + pl.Series(rng.uniform(0, 60, n).round(1)).cast(pl.String)
    return {
        "PERMIT_TYPE": f["kind"],
        "APP_ID": f["app_id"],
        "WDID": f["wdid"],
        "STATUS": f["status"],
        "NOI_PROCESSED_DATE": fmt.date(f["noi"].to_numpy()),
        "NOT_EFFECTIVE_DATE": fmt.date(f["not_day"].to_numpy(), f["not_day"].to_numpy() < 0),
        "REGION": f["region"],
        "COUNTY": f["county"],
        "OWNER_NAME": fmt.text(f["operator"]),
        **_developer(fmt, f),
        **_site(fmt, f),
        **_construction_sizes(fmt, f),
        "TRACT_NUMBERS": fmt.text(tract),
        "MILE_POST_MARKER": fmt.text(mile, ~transport),
        "PART_OF_A_LARGER_COMMON_PLAN": fmt.text(np.where(larger, "Y", "N"), fmt.mask(n, 0.05)),
        "NAME_OF_PLAN_OR_DEVELOPMENT": fmt.text(names + " Master Plan", ~larger),
        **_construction_dates(fmt, f),
        **_construction_kind(fmt, f),
        **_construction_risk(fmt, f),
        "RECEIVING_WATER_NAME": fmt.text(f["water"]),
        "INDIRECTLY": fmt.text(f["indirectly"]),
        "DIRECTLY": fmt.text(f["directly"]),
        **_people(fmt, f),
    }
