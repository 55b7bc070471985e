"""Each side's facilities as comparable fields, computed once per run.

Both sides get the same shape (`Side`): canonical name tokens, the other name the
source gives (SMARTS operator, eSMR agency), address tokens and house number, city,
county, region, coordinates, receiving water, and whether the place is a treatment
works. Token weights say how rare each name token is on either side.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import numpy as np
import polars as pl
from rapidfuzz.distance import OSA

from matching.normalize import (
    Spellings,
    address_tokens,
    is_treatment_works,
    name_tokens,
    sic_code,
    simple_tokens,
    street_number,
)
from matching.settings import KindRules, NameRules

T = TypeVar("T")

#: Regions that are parts of one Regional Board area (Central Valley, Lahontan).
_REGION_FAMILY = {"5F": "5", "5R": "5", "5S": "5", "6A": "6", "6B": "6"}


@dataclass(frozen=True)
class Side:
    """One side's rows as Python lists (index = row of the input frame)."""

    name: list[tuple[str, ...]]
    other: list[tuple[str, ...]]
    address: list[tuple[str, ...]]
    number: list[str | None]
    city: list[str | None]
    zip: list[str | None]
    county: list[str | None]
    region: list[str | None]
    lat: np.ndarray
    lon: np.ndarray
    water: list[str | None]
    kind: list[str]

    def __len__(self) -> int:
        return len(self.name)


def _each_once(values: list[str | None], convert: Callable[[str | None], T]) -> list[T]:
    """`convert` of each value, each distinct value converted once (names, cities and
    waters repeat a lot)."""
    seen: dict[str | None, T] = {}
    out = []
    for v in values:
        if v not in seen:
            seen[v] = convert(v)
        out.append(seen[v])
    return out


def _text(value: str | None) -> str | None:
    """Lower-case words joined by one space; None for empty."""
    return " ".join(simple_tokens(value)) or None


def region_family(region: str | None) -> str | None:
    """`5S` -> `5`; other regions are their own family."""
    return _REGION_FAMILY.get(region or "", region) if region else None


def _side(frame: pl.DataFrame, other: str, spellings: Spellings) -> Side:
    """Fields both sides share; `kind` is filled in by the side's own rule."""
    addresses = frame["address"].to_list()
    names = partial(name_tokens, spellings=spellings)
    return Side(
        name=_each_once(frame["name"].to_list(), names),
        other=_each_once(frame[other].to_list(), names),
        address=_each_once(addresses, partial(address_tokens, spellings=spellings)),
        number=_each_once(addresses, street_number),
        city=_each_once(frame["city"].to_list(), _text),
        zip=[(z or "")[:5] or None for z in frame["zip"].to_list()],
        county=_each_once(frame["county"].to_list(), _text),
        region=[r.upper() if r else None for r in frame["region"].to_list()],
        lat=frame["latitude"].fill_null(np.nan).to_numpy().astype(np.float64),
        lon=frame["longitude"].fill_null(np.nan).to_numpy().astype(np.float64),
        water=_each_once(frame["receiving_water"].to_list(), _text),
        kind=[],
    )


def _is_works(
    side: Side, sics: list[str | None], rules: KindRules, spellings: Spellings
) -> list[bool]:
    return [
        is_treatment_works(t, spellings) or sic_code(s) in rules.works_sic
        for t, s in zip(side.name, sics, strict=True)
    ]


def prepare_smarts(frame: pl.DataFrame, rules: KindRules, spellings: Spellings) -> Side:
    """SMARTS facilities (`SMARTS_FACILITY_SCHEMA`) as a `Side`; kinds works / industrial /
    construction."""
    side = _side(frame, "operator", spellings)
    works = _is_works(side, frame["sic"].to_list(), rules, spellings)
    families = frame["permit_family"].to_list()
    side.kind.extend(
        "works" if w else "construction" if (f or "").lower() == "construction" else "industrial"
        for w, f in zip(works, families, strict=True)
    )
    return side


def prepare_esmr(frame: pl.DataFrame, rules: KindRules, spellings: Spellings) -> Side:
    """eSMR facilities (`ESMR_FACILITY_SCHEMA`) as a `Side`; kinds works / utility / other."""
    side = _side(frame, "agency", spellings)
    works = _is_works(side, frame["sic"].to_list(), rules, spellings)
    utility = set(rules.utility_tokens)
    side.kind.extend(
        "works" if w else "utility" if utility & (set(n) | set(o)) else "other"
        for w, n, o in zip(works, side.name, side.other, strict=True)
    )
    return side


@dataclass(frozen=True)
class TokenWeights:
    """How much a shared name token says, 0..1: rare on both sides is 1, common near 0.

    A token's information is -log2 of the geometric mean of its document shares on the
    two sides (a token common among eSMR plants, like `wwtp`, says little even where
    SMARTS names rarely use it), relative to that of a token found in one name on each
    side, capped at 1, so weights mean about the same at any size of input.
    """

    weights: dict[str, float]

    def __call__(self, token: str) -> float:
        return self.weights.get(token, 1.0)


def _document_counts(side: Side) -> Counter[str]:
    counts: Counter[str] = Counter()
    for a, b in zip(side.name, side.other, strict=True):
        counts.update(set(a) | set(b))
    return counts


def _relative_information(
    counts: tuple[Counter[str], Counter[str]], sizes: tuple[int, int]
) -> dict[str, float]:
    """Each value's information (-log2 of the geometric mean of its shares on the two
    sides) relative to that of a value seen once on each side, capped at 1."""
    (cs, ce), (ns, ne) = counts, (max(sizes[0], 1), max(sizes[1], 1))

    def information(df_s: int, df_e: int) -> float:
        return -0.5 * math.log2((df_s + 1) / (ns + 1) * (df_e + 1) / (ne + 1))

    once = information(1, 1) or 1.0
    return {v: min(1.0, information(cs[v], ce[v]) / once) for v in set(cs) | set(ce)}


def token_weights(
    smarts: Side, esmr: Side, generic: frozenset[str] = frozenset(), generic_weight: float = 1.0
) -> TokenWeights:
    """Weights of every token in either side's names and second names; `generic` tokens
    (site-kind words) weigh at most `generic_weight`."""
    weights = _relative_information(
        (_document_counts(smarts), _document_counts(esmr)), (len(smarts), len(esmr))
    )
    for t in generic & weights.keys():
        weights[t] = min(weights[t], generic_weight)
    return TokenWeights(weights)


def water_weights(smarts: Side, esmr: Side) -> TokenWeights:
    """How much sharing a receiving water says, by how many facilities name it
    (`Los Angeles River` is shared by many, a small creek by few)."""
    counts = (Counter(w for w in smarts.water if w), Counter(w for w in esmr.water if w))
    return TokenWeights(_relative_information(counts, (len(smarts), len(esmr))))


#: Shortest word whose doubled letters are taken as a typo (`ABB` / `ABBB`).
SHORTEST_DOUBLED = 3
_DOUBLED = re.compile(r"(.)\1+")


def _single_letters(token: str) -> str:
    """The token with each run of one letter written once: `abbb` -> `ab`."""
    return _DOUBLED.sub(r"\1", token)


def token_similarity(a: str, b: str, rules: NameRules) -> float:
    """1 for the same token; `typo_similarity` one edit apart (both at least
    `typo_min_length` letters) or differing only in doubled letters; `prefix_similarity`
    when one abbreviates the other (starts it, at least `min_prefix_length` letters);
    else 0. Numbers only match exactly."""
    if a == b:
        return 1.0
    if a.isdigit() or b.isdigit():
        return 0.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= rules.typo_min_length and OSA.distance(a, b, score_cutoff=1) <= 1:
        return rules.typo_similarity
    if len(short) >= SHORTEST_DOUBLED and _single_letters(a) == _single_letters(b):
        return rules.typo_similarity
    if len(short) >= rules.min_prefix_length and long_.startswith(short):
        return rules.prefix_similarity
    return 0.0


def token_neighbours(
    smarts: Side, esmr: Side, rules: NameRules, codes: frozenset[str] = frozenset()
) -> dict[str, dict[str, float]]:
    """For each token of either side's names, the other tokens it nearly matches (a typo
    or an abbreviation apart) with their similarity, found once through an index of
    one-letter deletions and doubled letters, and a sorted word list, instead of comparing
    every two words. `codes` (`wtp`, `wwtp`, `sd`...) match only themselves."""
    vocabulary = sorted(
        {
            t
            for side in (smarts, esmr)
            for rows in (side.name, side.other)
            for tokens in rows
            for t in tokens
        }
    )
    by_deletion: defaultdict[str, list[str]] = defaultdict(list)
    for t in vocabulary:
        if len(t) >= rules.typo_min_length and not t.isdigit():
            for key in {t, *(t[:i] + t[i + 1 :] for i in range(len(t)))}:
                by_deletion[key].append(t)
    for t in vocabulary:
        if len(t) >= SHORTEST_DOUBLED and not t.isdigit():
            by_deletion["=" + _single_letters(t)].append(t)
    found: set[tuple[str, str]] = set()
    for group in by_deletion.values():
        found.update((a, b) for a in group for b in group if a < b)
    for t in vocabulary:
        if len(t) >= rules.min_prefix_length and not t.isdigit():
            start = bisect.bisect_right(vocabulary, t)
            for longer in vocabulary[start:]:
                if not longer.startswith(t):
                    break
                found.add((t, longer))
    neighbours: defaultdict[str, dict[str, float]] = defaultdict(dict)
    for a, b in found:
        if a in codes or b in codes:  # different codes are different kinds of place
            continue
        similarity = token_similarity(a, b, rules)
        if similarity > 0:
            neighbours[a][b] = neighbours[b][a] = similarity
    return dict(neighbours)
