"""One mapping of parameter spellings and units to canonical names (DESIGN §6).

SMARTS reports one analyte under several spellings (`Zinc, Total`, `Zinc, Total
Recoverable`, `Total Zinc`); the exceedance rules need one name per analyte, the one
the NAL table uses. Spellings are cleaned by rule (case, spacing, "Total X" word order,
"Total Recoverable") and then looked up in `ALIASES`; anything else keeps its cleaned
spelling. Units are mapped through `UNIT_ALIASES`; an unknown unit maps to None so it
is flagged, never guessed. The tests run every spelling of the real parameter list
through these functions.
"""

from __future__ import annotations

import re

#: Metals reported as total / total recoverable / dissolved.
METALS: tuple[str, ...] = (
    "Aluminum",
    "Antimony",
    "Arsenic",
    "Barium",
    "Beryllium",
    "Boron",
    "Cadmium",
    "Calcium",
    "Chromium",
    "Cobalt",
    "Copper",
    "Iron",
    "Lead",
    "Magnesium",
    "Manganese",
    "Mercury",
    "Molybdenum",
    "Nickel",
    "Potassium",
    "Selenium",
    "Silver",
    "Sodium",
    "Thallium",
    "Tin",
    "Titanium",
    "Vanadium",
    "Zinc",
)

#: Cleaned lower-case spelling -> canonical name (the NAL table's spelling where it has one).
ALIASES: dict[str, str] = {
    "tss": "Total Suspended Solids (TSS)",
    "total suspended solids": "Total Suspended Solids (TSS)",
    "total suspended solids (tss)": "Total Suspended Solids (TSS)",
    "suspended solids, total": "Total Suspended Solids (TSS)",
    "solids, total suspended": "Total Suspended Solids (TSS)",
    "solids, suspended": "Total Suspended Solids (TSS)",
    "oil and grease": "Oil and Grease",
    "oil & grease": "Oil and Grease",
    "oil and grease (hem)": "Oil and Grease",
    "oil & grease (hem)": "Oil and Grease",
    "o&g": "Oil and Grease",
    "n-hexane extractable material (hem)": "Oil and Grease",
    "hem": "Oil and Grease",
    "ph": "pH",
    "ph, field": "pH",
    "ph (field)": "pH",
    "cod": "Chemical Oxygen Demand (COD)",
    "chemical oxygen demand": "Chemical Oxygen Demand (COD)",
    "chemical oxygen demand (cod)": "Chemical Oxygen Demand (COD)",
    "bod": "Biochemical Oxygen Demand (BOD)",
    "bod5": "Biochemical Oxygen Demand (BOD)",
    "biochemical oxygen demand": "Biochemical Oxygen Demand (BOD)",
    "biochemical oxygen demand (bod)": "Biochemical Oxygen Demand (BOD)",
    "biochemical oxygen demand (bod) (5-day @ 20 deg. c)": "Biochemical Oxygen Demand (BOD)",
    "ammonia": "Ammonia (as N)",
    "ammonia (as n)": "Ammonia (as N)",
    "ammonia as n": "Ammonia (as N)",
    "ammonia, total (as n)": "Ammonia (as N)",
    "ammonia-nitrogen": "Ammonia (as N)",
    "nitrate + nitrite nitrogen": "Nitrate + Nitrite Nitrogen",
    "nitrate + nitrite (as n)": "Nitrate + Nitrite Nitrogen",
    "nitrite plus nitrate (as n)": "Nitrate + Nitrite Nitrogen",
    "nitrate plus nitrite (as n)": "Nitrate + Nitrite Nitrogen",
    "n+n": "Nitrate + Nitrite Nitrogen",
    "phosphorus, total": "Phosphorus, Total",
    "phosphorus, total (as p)": "Phosphorus, Total",
    "total phosphorus": "Phosphorus, Total",
    "cyanide, total": "Cyanide, Total",
    "cyanide, total (as cn)": "Cyanide, Total",
    "total cyanide": "Cyanide, Total",
}

#: Lower-case unit spelling -> canonical unit.
UNIT_ALIASES: dict[str, str] = {
    "mg/l": "mg/L",
    "mg / l": "mg/L",
    "ppm": "mg/L",
    "ug/l": "ug/L",
    "µg/l": "ug/L",
    "μg/l": "ug/L",
    "ppb": "ug/L",
    "ng/l": "ng/L",
    "pg/l": "pg/L",
    "su": "SU",
    "s.u.": "SU",
    "ph units": "SU",
    "ph unit": "SU",
    "std units": "SU",
    "ntu": "NTU",
    "umhos/cm": "umhos/cm",
    "us/cm": "umhos/cm",
    "µs/cm": "umhos/cm",
    "mpn/100 ml": "MPN/100 mL",
    "mpn/100ml": "MPN/100 mL",
    "cfu/100 ml": "CFU/100 mL",
    "ml/l": "mL/L",
    "%": "%",
    "pci/l": "pCi/L",
    "tuc": "TUc",
    "mg/kg": "mg/kg",
    "in": "in",
    "inches": "in",
    "mgd": "MGD",
    "gpd": "gpd",
    "deg c": "Deg C",
    "°c": "Deg C",
    "deg f": "Deg F",
}

_SPACES = re.compile(r"\s+")
_METAL = "|".join(METALS)
_TOTAL_FIRST = re.compile(rf"^total (recoverable )?({_METAL})$", re.IGNORECASE)
_METAL_TOTAL = re.compile(
    rf"^({_METAL})(?:,? \(?total(?: \(?recoverable\)?)?\)?| \(total\))?$", re.IGNORECASE
)


def clean_spelling(name: str) -> str:
    """Trim and collapse white space: the first, loss-free step of canonicalisation."""
    return _SPACES.sub(" ", name.replace("\u00a0", " ")).strip()


def canonical_parameter(name: str | None) -> str | None:
    """The canonical name of a parameter spelling (None stays None)."""
    if name is None:
        return None
    cleaned = clean_spelling(name)
    key = cleaned.lower()
    if key in ALIASES:
        return ALIASES[key]
    for pattern in (_TOTAL_FIRST, _METAL_TOTAL):
        match = pattern.match(cleaned)
        if match:
            metal = match.group(match.lastindex or 1)
            return f"{metal.capitalize()}, Total"
    return cleaned


def canonical_unit(unit: str | None) -> str | None:
    """The canonical spelling of a unit, or None when it is unknown (to be flagged)."""
    if unit is None:
        return None
    return UNIT_ALIASES.get(clean_spelling(unit).lower())
