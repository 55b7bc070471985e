"""Name variants for facility matching: how one facility is spelled in SMARTS and in eSMR.

Abbreviations (WWTP, WRP, SD, CSD, Cnty), legal suffixes dropped or added, keyboard slips,
reordered words and renamed plants: the differences a matcher must see through.
"""

from __future__ import annotations

import re

import numpy as np

from loaders import demo_vocab as vocab

#: Plant and district abbreviations, spelled out by `expand` and used by `abbreviate`.
PLANT_ABBREVIATIONS = (
    ("Wastewater Treatment Plant", "WWTP"),
    ("Wastewater Treatment Facility", "WWTF"),
    ("Water Reclamation Plant", "WRP"),
    ("Water Reclamation Facility", "WRF"),
    ("Water Treatment Plant", "WTP"),
    ("Water Pollution Control Plant", "WPCP"),
    ("Water Pollution Control Facility", "WPCF"),
    ("Sewage Treatment Plant", "STP"),
    ("Water Resource Recovery Facility", "WRRF"),
    ("Community Services District", "CSD"),
    ("Sanitation District", "SD"),
    ("Sanitary District", "SD"),
    ("Publicly Owned Treatment Works", "POTW"),
    ("Treatment Plant", "TP"),
    ("County", "Cnty"),
)
#: Business-name abbreviations, used by `abbreviate` only.
NAME_ABBREVIATIONS = (("Company", "Co."), ("Corporation", "Corp"))
#: A legal suffix at the end of a business name, with its comma if any.
LEGAL_SUFFIX = re.compile(
    r",?\s+(Inc\.?|LLC|L\.L\.C\.|Co\.?|Company|Corp\.?|Corporation|LP|L\.P\.|Ltd\.?)$",
    re.IGNORECASE,
)
RENAMES = ("Water Resource Recovery Facility", "Water Pollution Control Plant", "Clean Water Plant")


def expand(name: str) -> str:
    """Spell out abbreviations: `Arcata City WWTF` -> `... Wastewater Treatment Facility`."""
    for full, short in PLANT_ABBREVIATIONS:
        name = re.sub(rf"\b{re.escape(short)}(?=\s|$)", full, name)
    return name


def abbreviate(name: str) -> str:
    """Use the short forms: `... Wastewater Treatment Plant` -> `... WWTP`, `County` -> `Cnty`."""
    for full, short in PLANT_ABBREVIATIONS + NAME_ABBREVIATIONS:
        name = re.sub(rf"\b{re.escape(full)}\b", short, name, flags=re.IGNORECASE)
    return name


def typo(name: str, rng: np.random.Generator) -> str:
    """One keyboard slip: two letters swapped, one dropped or one doubled."""
    letters = [i for i, c in enumerate(name) if c.isalpha() and i > 0]
    if len(letters) < 3:
        return name + "."
    i = letters[int(rng.integers(0, len(letters) - 1))]
    kind = int(rng.integers(0, 3))
    if kind == 0 and i + 1 < len(name):
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]


def reorder(name: str) -> str:
    """`City of X Y` <-> `X City Y`, otherwise the catalogue form `Rest, First`."""
    m = re.match(r"^City of (\S+(?: \S+)?) (.*)$", name)
    if m:
        return f"{m.group(1)} City {m.group(2)}"
    m = re.match(r"^(.+?) City (.*)$", name)
    if m:
        return f"City of {m.group(1)} {m.group(2)}"
    words = name.split()
    return f"{' '.join(words[1:])}, {words[0]}" if len(words) > 1 else name


def change_suffix(name: str, rng: np.random.Generator) -> str:
    """Drop the legal suffix, or add one where there is none."""
    if LEGAL_SUFFIX.search(name):
        return LEGAL_SUFFIX.sub("", name)
    return f"{name} {vocab.LEGAL_SUFFIXES[int(rng.integers(0, len(vocab.LEGAL_SUFFIXES)))]}"


def rename(name: str, rng: np.random.Generator) -> str:
    """A renamed plant: the kind of works changes, or the site gets a new last word."""
    full = expand(name)
    for old in (
        "Wastewater Treatment Plant",
        "Wastewater Treatment Facility",
        "Water Reclamation Plant",
        "Water Reclamation Facility",
        "Treatment Plant",
    ):
        if old in full:
            return full.replace(old, RENAMES[int(rng.integers(0, len(RENAMES)))])
    words = LEGAL_SUFFIX.sub("", name).split()
    tail = ("Plant", "Facility", "Works", "Terminal", "Yard")[int(rng.integers(0, 5))]
    return " ".join(words[:-1] + [tail]) if len(words) > 1 else f"{name} {tail}"


def potw_smarts_name(plant: str, rng: np.random.Generator) -> str:
    """How a SMARTS record names a CIWQS plant: spelled out, reordered, renamed, shouted."""
    kind = rng.choice(5, p=[0.45, 0.2, 0.15, 0.1, 0.1])
    variants = (
        lambda: expand(plant),
        lambda: reorder(plant),
        lambda: rename(plant, rng),
        lambda: typo(expand(plant), rng),
        lambda: plant.upper(),
    )
    out = variants[kind]()
    return out if out != plant else expand(plant) + " Storm Water"


def industrial_esmr_name(name: str, rng: np.random.Generator) -> str:
    """How the eSMR record names an industrial discharger known to SMARTS as `name`."""
    kind = rng.choice(6, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.1])
    variants = (
        lambda: change_suffix(name, rng),
        lambda: typo(name, rng),
        lambda: reorder(name),
        lambda: rename(name, rng),
        lambda: abbreviate(name),
        lambda: name.upper(),
    )
    out = variants[kind]()
    return out if out != name else change_suffix(name, rng)
