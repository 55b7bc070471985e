"""What the built-in sample measures: analytes, their spellings, units and typical results.

Each monitored facility gets a fixed set of analytes (the permit's TSS, pH and oil and
grease, often metals, sometimes others from the real parameter list), one spelling and
unit per analyte (so a file holds `Zinc, Total` beside `Total Zinc`, mg/L beside ug/L),
and a level. A minority of industrial facilities are made to exceed the NALs: an analyte
whose level sits above the annual NAL in some reporting years, TSS or oil and grease above
the instantaneous limit, or pH outside 6-9.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl

#: Short key, spellings with shares, unit, median (in that unit), spread, annual NAL,
#: share of non-detects, reporting limit, method.
TOP_ANALYTES: tuple[tuple, ...] = (
    (
        "TSS",
        (
            ("Total Suspended Solids (TSS)", 0.68),
            ("TSS", 0.12),
            ("Total Suspended Solids", 0.12),
            ("Suspended Solids, Total", 0.08),
        ),
        "mg/L",
        12.0,
        0.8,
        100.0,
        0.08,
        5.0,
        "SM 2540 D",
    ),
    ("pH", (("pH", 0.94), ("pH, Field", 0.06)), "SU", 7.2, 0.3, None, 0.0, None, "SM 4500-H+ B"),
    (
        "O&G",
        (
            ("Oil and Grease", 0.74),
            ("Oil & Grease (HEM)", 0.16),
            ("N-Hexane Extractable Material (HEM)", 0.10),
        ),
        "mg/L",
        2.0,
        0.8,
        15.0,
        0.55,
        5.0,
        "EPA 1664A",
    ),
    (
        "Lead",
        (("Lead, Total", 0.6), ("Lead, Total Recoverable", 0.3), ("Total Lead", 0.1)),
        "mg/L",
        0.012,
        0.9,
        0.262,
        0.45,
        0.005,
        "EPA 200.8",
    ),
    (
        "Zinc",
        (
            ("Zinc, Total", 0.55),
            ("Zinc, Total Recoverable", 0.28),
            ("Total Zinc", 0.12),
            ("Zinc, Total (Recoverable)", 0.05),
        ),
        "mg/L",
        0.035,
        0.8,
        0.26,
        0.12,
        0.02,
        "EPA 200.7",
    ),
    (
        "Copper",
        (("Copper, Total", 0.6), ("Copper, Total Recoverable", 0.3), ("Total Copper", 0.1)),
        "mg/L",
        0.0045,
        0.8,
        0.0332,
        0.3,
        0.002,
        "EPA 200.8",
    ),
)
#: Chance a facility samples each top analyte: gives TSS ~18 %, pH ~17 %, O&G ~15 %,
#: lead and zinc ~10 %, copper ~8 % of rows.
TOP_SHARES = (0.98, 0.93, 0.82, 0.55, 0.55, 0.38)
#: How many other analytes a facility samples (0..4).
OTHER_COUNT_SHARES = (0.3, 0.35, 0.2, 0.1, 0.05)
INSTANT_NAL = {"TSS": 400.0, "O&G": 25.0}

#: Other analytes with an annual NAL (mg/L) and their selection weight; a typical facility
#: runs at `NAL_HEADROOM` times below the NAL.
NAL_OTHERS: tuple[tuple[str, float, float], ...] = (
    (r"^Chemical Oxygen Demand", 120.0, 6.0),
    (r"^Biochemical Oxygen Demand \(BOD\)", 30.0, 1.5),
    (r"^Iron, Total", 1.0, 5.0),
    (r"^Aluminum, Total", 0.75, 5.0),
    (r"^Nitrite Plus Nitrate", 0.68, 4.0),
    (r"^Ammonia, Total", 2.14, 2.0),
    (r"^Phosphorus, Total", 2.0, 1.5),
    (r"^Magnesium, Total", 0.064, 0.3),
    (r"^Arsenic, Total", 0.15, 0.8),
    (r"^Cadmium, Total", 0.0053, 1.0),
    (r"^Cyanide, Total", 0.022, 0.3),
    (r"^Mercury, Total", 0.0014, 0.5),
    (r"^Nickel, Total", 1.02, 1.0),
    (r"^Selenium, Total", 0.005, 0.3),
    (r"^Silver, Total", 0.0183, 0.3),
)
NAL_HEADROOM = 8.0
#: Other analytes worth a higher chance without an NAL.
COMMON_OTHERS = {
    r"^Electrical Conductivity": 2.0,
    r"^Turbidity": 1.0,
    r"^Chromium": 0.5,
    r"^Total Dissolved Solids": 1.0,
    r"^Hardness, Total": 0.5,
}
#: Typical result for an analyte without better knowledge, by unit.
UNIT_MEDIANS = {
    "mg/L": 0.5,
    "ug/L": 1.0,
    "ng/L": 5.0,
    "pg/L": 20.0,
    "MPN/100 mL": 300.0,
    "CFU/100 mL": 300.0,
    "%": 40.0,
    "umhos/cm": 150.0,
    "NTU": 20.0,
    "TUc": 1.0,
    "ml/L": 0.2,
    "SU": 7.0,
    "Degrees C": 15.0,
    "PCi/L": 2.0,
}
UNIT_FACTORS = {"mg/L": 1.0, "ug/L": 1000.0, "ng/L": 1e6, "pg/L": 1e9}
_TOP_NAME = re.compile(
    r"^(pH|Total Suspended Solids \(TSS\)|Oil and Grease|(Lead|Zinc|Copper), Total"
    r"( Recoverable)?)$"
)
_METHOD_BY_UNIT = {
    "mg/L": "EPA 200.7",
    "ug/L": "EPA 625.1",
    "pg/L": "EPA 1613B",
    "ng/L": "EPA 1631E",
    "MPN/100 mL": "SM 9221",
    "NTU": "EPA 180.1",
}


@dataclass(frozen=True)
class Analytes:
    """One row per analyte: spellings (global ids), unit, typical level, limits, method."""

    keys: list[str]
    spellings: list[str]
    spelling_ids: list[np.ndarray]
    spelling_shares: list[np.ndarray]
    unit: list[str]
    median: np.ndarray
    sigma: np.ndarray
    nal: np.ndarray
    nd: np.ndarray
    rl: np.ndarray
    method: list[str]
    other_weight: np.ndarray
    metal: np.ndarray

    def index(self, key: str) -> int:
        """Position of the analyte with short key `key`."""
        return self.keys.index(key)


def _other_level(name: str, unit: str) -> tuple[float, float, float]:
    """Median and NAL (NaN when none) in `unit`, and a selection weight, for an analyte."""
    factor = UNIT_FACTORS.get(unit)
    for pattern, nal, weight in NAL_OTHERS:
        if re.match(pattern, name) and factor:
            return nal * factor / NAL_HEADROOM, nal * factor, weight
    weight = next((w for p, w in COMMON_OTHERS.items() if re.match(p, name)), 0.05)
    return UNIT_MEDIANS.get(unit, 1.0), np.nan, weight


def industrial_analytes(parameters: pl.DataFrame) -> Analytes:
    """The six permit analytes with their spelling variants, then the vocabulary's others."""
    rows = [
        (
            key,
            [s for s, _ in spell],
            [w for _, w in spell],
            unit,
            med,
            sig,
            np.nan if nal is None else nal,
            nd,
            np.nan if rl is None else rl,
            method,
            0.0,
        )
        for key, spell, unit, med, sig, nal, nd, rl, method in TOP_ANALYTES
    ]
    for name, unit in parameters.select("name", "unit").iter_rows():
        if _TOP_NAME.match(name):
            continue
        median, nal, weight = _other_level(name, unit)
        rows.append(
            (
                name,
                [name],
                [1.0],
                unit,
                median,
                0.8,
                nal,
                0.4,
                median / 3,
                _METHOD_BY_UNIT.get(unit, ""),
                weight,
            )
        )
    return _table(rows)


def construction_analytes() -> Analytes:
    """pH and turbidity (nearly every sample), and suspended solids now and then."""
    rows = [
        ("pH", ["pH"], [1.0], "SU", 7.4, 0.6, np.nan, 0.0, np.nan, "Field", 0.0),
        ("Turbidity", ["Turbidity"], [1.0], "NTU", 25.0, 1.3, np.nan, 0.03, 1.0, "EPA 180.1", 0.0),
        (
            "TSS",
            ["Total Suspended Solids (TSS)", "Suspended Sediment Concentration (SSC)"],
            [0.7, 0.3],
            "mg/L",
            60.0,
            1.2,
            np.nan,
            0.05,
            5.0,
            "SM 2540 D",
            0.0,
        ),
    ]
    return _table(rows)


def _table(rows: list[tuple]) -> Analytes:
    """Column arrays from analyte rows, numbering every spelling once."""
    spellings: list[str] = []
    ids, shares = [], []
    for row in rows:
        ids.append(np.arange(len(spellings), len(spellings) + len(row[1])))
        spellings.extend(row[1])
        shares.append(np.asarray(row[2]) / sum(row[2]))
    col = list(zip(*rows, strict=True))
    return Analytes(
        keys=list(col[0]),
        spellings=spellings,
        spelling_ids=ids,
        spelling_shares=shares,
        unit=list(col[3]),
        median=np.array(col[4]),
        sigma=np.array(col[5]),
        nal=np.array(col[6], dtype=np.float64),
        nd=np.array(col[7]),
        rl=np.array(col[8], dtype=np.float64),
        method=list(col[9]),
        other_weight=np.array(col[10]),
        metal=np.array(
            [
                bool(re.match(r"^(Total )?[A-Z][a-z]+(, |$)", k)) and u == "mg/L"
                for k, u in zip(col[0], col[3], strict=True)
            ]
        ),
    )


@dataclass(frozen=True)
class Levels:
    """Per facility and analyte slot: what is sampled, how it is spelled, and how high it runs."""

    params: np.ndarray  # F x P analyte ids, -1 past the end
    n_params: np.ndarray  # F
    spelling: np.ndarray  # F x P global spelling id
    unit: np.ndarray  # F x P unit text id into `units`
    multiplier: np.ndarray  # F x P (1000 where reported in ug/L instead of mg/L)
    factor: np.ndarray  # F x P facility level relative to the median
    limits: np.ndarray  # F x P reports MDL/RL
    mdl_share: np.ndarray  # F x P MDL as a share of RL
    target: np.ndarray  # F slot made to exceed, -1 for none
    boost: np.ndarray  # F multiplier on the target slot in target years
    years: np.ndarray  # F bit mask of reporting years (bit 0 = 2015) with the boost
    ph_mean: np.ndarray  # F
    units: list[str]


def _unit_choices(
    a: Analytes, analyte: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Unit spelling per slot: metals sometimes in ug/L (values x1000), `mg/l` now and then."""
    units = sorted(set(a.unit) | {"mg/l", "ug/L", "pH Units", "S.U.", "ntu"})
    base = np.array([units.index(u) for u in a.unit])[np.maximum(analyte, 0)]
    u = rng.random(analyte.shape)
    metal = a.metal[np.maximum(analyte, 0)]
    unit_text = np.array(a.unit, dtype=object)[np.maximum(analyte, 0)]
    micro = metal & (u < 0.15)
    lower = (unit_text == "mg/L") & ~micro & (u > 0.95)
    ph_alt = (unit_text == "SU") & (u > 0.9)
    ntu_alt = (unit_text == "NTU") & (u > 0.95)
    ids = np.where(micro, units.index("ug/L"), np.where(lower, units.index("mg/l"), base))
    ids = np.where(ph_alt, np.where(u > 0.96, units.index("S.U."), units.index("pH Units")), ids)
    ids = np.where(ntu_alt, units.index("ntu"), ids)
    return ids, np.where(micro, 1000.0, 1.0), units


def _spellings(a: Analytes, analyte: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One spelling per facility and analyte, drawn with the analyte's shares."""
    out = np.zeros(analyte.shape, dtype=np.int64)
    for i, (ids, shares) in enumerate(zip(a.spelling_ids, a.spelling_shares, strict=True)):
        where = analyte == i
        if where.any():
            out[where] = ids[rng.choice(len(ids), int(where.sum()), p=shares)]
    return out


def industrial_sets(a: Analytes, n: int, rng: np.random.Generator) -> np.ndarray:
    """F x 10 analyte ids per facility: permit analytes by chance, then others by weight."""
    top = rng.random((n, len(TOP_SHARES))) < np.asarray(TOP_SHARES)
    n_other = rng.choice(len(OTHER_COUNT_SHARES), n, p=OTHER_COUNT_SHARES)
    n_other = np.maximum(n_other, 3 - top.sum(axis=1))
    weights = a.other_weight
    others = np.flatnonzero(weights > 0)
    keys = np.log(rng.random((n, len(others)))) / weights[others]
    best = np.argsort(-keys, axis=1)[:, :4]
    params = np.full((n, 10), -1, dtype=np.int64)
    for f in range(n):
        chosen = list(np.flatnonzero(top[f])) + list(others[best[f, : n_other[f]]])
        params[f, : len(chosen)] = chosen
    return params


def construction_sets(a: Analytes, n: int, rng: np.random.Generator) -> np.ndarray:
    """F x 3 analyte ids: pH and turbidity mostly, one of them alone, or with TSS."""
    options = np.array([[0, 1, -1], [1, -1, -1], [0, -1, -1], [0, 1, 2]])
    return options[rng.choice(len(options), n, p=[0.9, 0.05, 0.03, 0.02])]


def facility_levels(
    a: Analytes, params: np.ndarray, rng: np.random.Generator, exceed: float
) -> Levels:
    """Spellings, units, levels and NAL targets for facilities sampling `params`."""
    n = params.shape[0]
    unit, multiplier, units = _unit_choices(a, params, rng)
    target, boost, years = _targets(a, params, rng, exceed)
    ph_mean = rng.normal(7.2, 0.25, n)
    ph_target = (
        (target >= 0) & (params[np.arange(n), np.maximum(target, 0)] == a.keys.index("pH"))
        if "pH" in a.keys
        else np.zeros(n, bool)
    )
    ph_mean = np.where(ph_target, np.where(rng.random(n) < 0.7, 5.5, 9.5), ph_mean)
    return Levels(
        params=params,
        n_params=(params >= 0).sum(axis=1),
        spelling=_spellings(a, params, rng),
        unit=unit,
        multiplier=multiplier,
        factor=rng.lognormal(0, 0.3, params.shape),
        limits=rng.random(params.shape) < 0.45,
        mdl_share=rng.uniform(0.2, 0.5, params.shape),
        target=target,
        boost=boost,
        years=years,
        ph_mean=ph_mean,
        units=units,
    )


def _targets(
    a: Analytes, params: np.ndarray, rng: np.random.Generator, exceed: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a share `exceed` of facilities: a slot, a boost putting it over its NAL, the years."""
    n, width = params.shape
    has_nal = np.isfinite(a.nal)[np.maximum(params, 0)] & (params >= 0)
    is_ph = params == (a.keys.index("pH") if "pH" in a.keys else -2)
    eligible = has_nal | is_ph
    chosen = (rng.random(n) < exceed) & eligible.any(axis=1)
    keys = np.where(eligible, rng.random((n, width)), -1.0)
    target = np.where(chosen, keys.argmax(axis=1), -1)
    analyte = params[np.arange(n), np.maximum(target, 0)]
    ratio = a.nal[np.maximum(analyte, 0)] / a.median[np.maximum(analyte, 0)]
    instant = np.isin(analyte, [a.keys.index(k) for k in INSTANT_NAL if k in a.keys])
    boost = ratio * np.where(
        instant & (rng.random(n) < 0.5), rng.uniform(3.0, 6.0, n), rng.uniform(1.3, 3.0, n)
    )
    boost = np.where(np.isfinite(boost), boost, 1.0)
    every_year = rng.random(n) < 0.4
    some = np.zeros(n, dtype=np.int64)
    for _ in range(3):
        some |= 1 << rng.integers(0, 11, n)
    return target, boost, np.where(every_year, (1 << 11) - 1, some)
