"""The score of one candidate pair, built from named parts a reviewer can read.

Each part compares one kind of evidence and gives a similarity in 0..1 with a short
detail, or nothing when either side lacks the data:

- `name`: the facility names' canonical tokens, each weighted by its rarity, a typo or
  an abbreviation counting nearly in full; a name made of common words only
  (`Wastewater Treatment Plant`) weighs less, so the other parts decide.
- `operator`: the SMARTS operator against the eSMR name or agency, and the SMARTS name
  against the eSMR agency (the best of those). Operators are often a parent company or
  a person, so when they share no word at all the part is left out, not held against.
- `address`: house number and street; `distance`: between coordinates; `place`: same
  city, zip or county; `region`: same Regional Board; `water`: same receiving water.
- `kind`: what each side is (a treatment works by SIC 4952 or a name saying WWTP...,
  a utility district, an industrial site, a construction project).
- `rivals`: whether another candidate of either facility, at another place, scores as
  high (then a reviewer should choose; see `matching/rivals.py`).

The score is the weighted mean over the parts present (weights in `settings.toml`,
rescaled to the parts present), so the contributions add up to the score.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from matching.normalize import default_spellings
from matching.prepare import Side, TokenWeights, region_family
from matching.settings import MatchSettings


class Part(NamedTuple):
    """A part's verdict: similarity (None when either side lacks the data), a detail, and
    how strong this evidence is (its weight is multiplied by it: sharing a common receiving
    water says less than sharing a rare one)."""

    similarity: float | None
    detail: str
    strength: float = 1.0


@dataclass
class Scorer:
    """Scores pairs between two prepared sides with one settings object.

    `neighbours` maps a token to the tokens it nearly matches (`prepare.token_neighbours`).
    """

    smarts: Side
    esmr: Side
    weights: TokenWeights
    water_weights: TokenWeights
    neighbours: dict[str, dict[str, float]]
    settings: MatchSettings

    def covered(self, tokens: tuple[str, ...], other: tuple[str, ...]) -> tuple[float, float]:
        """(weight of `tokens` found in `other`, total weight of `tokens`); a token matched
        only by a typo or an abbreviation counts that similarity of its weight."""
        weights, neighbours = self.weights.weights, self.neighbours
        found = total = 0.0
        for t in tokens:
            w = weights.get(t, 1.0)
            total += w
            if t in other:
                found += w
                continue
            near = neighbours.get(t)
            if near:
                found += w * max([near.get(o, 0.0) for o in other], default=0.0)
        return found, total

    def _names(self, a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, float]:
        """(soft weighted Dice of two token lists, how much the names can tell: 1 when both
        hold a rare word, less when one is made of common words only)."""
        fa, ta = self.covered(a, b)
        fb, tb = self.covered(b, a)
        dice = (fa + fb) / (ta + tb) if ta + tb else 0.0
        telling = min(1.0, min(ta, tb) / self.settings.name.full_information)
        return dice, telling

    def _compact_typo(self, a: tuple[str, ...], b: tuple[str, ...]) -> bool:
        """Whether the names, spaces removed, are a few typos apart (`Coc aCola`) — never
        when they differ in a code (`wtp` / `wwtp` name different kinds of place)."""
        if (set(a) ^ set(b)) & default_spellings().codes:
            return False
        x, y = "".join(a), "".join(b)
        edits = min(2, min(len(x), len(y)) // self.settings.name.compact_letters_per_edit)
        return edits > 0 and OSA.distance(x, y, score_cutoff=edits) <= edits

    def name(self, i: int, j: int) -> Part:
        a, b = self.smarts.name[i], self.esmr.name[j]
        if not a or not b:
            return Part(None, "a name is missing")
        rules = self.settings.name
        dice, telling = self._names(a, b)
        shared = sorted(set(a) & set(b))
        detail = f"'{' '.join(a)}' vs '{' '.join(b)}'; shared {', '.join(shared) or 'none'}"
        if telling < 1.0:
            detail += f"; common words only, counts {telling:.2f}"
        numbers_a = {t for t in a if t.isdigit()}
        numbers_b = {t for t in b if t.isdigit()}
        if numbers_a and numbers_b and not numbers_a & numbers_b:
            return Part(dice * rules.numbers_differ, detail + "; numbers differ", telling)
        if dice < rules.typo_similarity and self._compact_typo(a, b):
            return Part(rules.typo_similarity, detail + "; a typo apart", telling)
        return Part(dice, detail, telling)

    def operator(self, i: int, j: int) -> Part:
        op, agency = self.smarts.other[i], self.esmr.other[j]
        name_s, name_e = self.smarts.name[i], self.esmr.name[j]
        options: list[tuple[float, str]] = []
        if op and name_e:
            found, total = self.covered(op, name_e)
            options.append((self._informed(found, total), "operator within the eSMR name"))
        if op and agency:
            dice, telling = self._names(op, agency)
            options.append((dice * telling, "operator vs agency"))
        if agency and name_s:
            found, total = self.covered(agency, name_s)
            options.append((self._informed(found, total), "agency within the SMARTS name"))
        if not options:
            return Part(None, "no operator or agency")
        best = max(options)
        if best[0] <= 0.0:
            return Part(None, "operator and agency share no word with the other side's names")
        return Part(best[0], f"{best[1]}: '{' '.join(op or agency)}'")

    def _informed(self, found: float, total: float) -> float:
        if not total:
            return 0.0
        return found / total * min(1.0, found / self.settings.name.full_information)

    def address(self, i: int, j: int) -> Part:
        a, b = self.smarts.address[i], self.esmr.address[j]
        if not a or not b:
            return Part(None, "an address is missing")
        street = (
            fuzz.token_sort_ratio(
                " ".join(t for t in a if not t.isdigit()), " ".join(t for t in b if not t.isdigit())
            )
            / 100
        )
        na, nb = self.smarts.number[i], self.esmr.number[j]
        if na and nb and na != nb:
            return Part(
                street * self.settings.address.other_number, f"numbers differ ({na} vs {nb})"
            )
        if na and nb:
            return Part(street, f"same number {na}, street {street:.2f}")
        return Part(street, f"street {street:.2f}, a number missing")

    def distance(self, km: float) -> Part:
        if math.isnan(km):
            return Part(None, "coordinates missing")
        rules = self.settings.distance
        if km <= rules.full_km:
            return Part(1.0, f"{km * 1000:.0f} m apart")
        if km <= rules.half_km:
            fall = math.log(km / rules.full_km) / math.log(rules.half_km / rules.full_km)
            return Part(1.0 - 0.5 * fall, f"{km:.1f} km apart")
        fall = math.log(km / rules.half_km) / math.log(rules.zero_km / rules.half_km)
        return Part(max(0.0, 0.5 - 0.5 * fall), f"{km:.1f} km apart")

    def place(self, i: int, j: int) -> Part:
        s, e, rules = self.smarts, self.esmr, self.settings.place
        if s.city[i] and s.city[i] == e.city[j]:
            return Part(1.0, f"same city ({s.city[i]})")
        if s.zip[i] and s.zip[i] == e.zip[j]:
            return Part(1.0, f"same zip ({s.zip[i]})")
        if s.county[i] and s.county[i] == e.county[j]:
            return Part(rules.same_county, f"same county ({s.county[i]})")
        if not (s.city[i] or s.county[i]) or not (e.city[j] or e.county[j]):
            return Part(None, "city and county missing")
        return Part(0.0, f"{s.city[i] or s.county[i]} vs {e.city[j] or e.county[j]}")

    def region(self, i: int, j: int) -> Part:
        a, b = self.smarts.region[i], self.esmr.region[j]
        if not a or not b:
            return Part(None, "a region is missing")
        if a == b or b == region_family(a) or a == region_family(b):
            return Part(1.0, f"region {a} and {b}" if a != b else f"both region {a}")
        if region_family(a) == region_family(b):
            return Part(self.settings.region.same_family, f"regions {a} and {b}")
        return Part(0.0, f"regions {a} and {b}")

    def water(self, i: int, j: int) -> Part:
        a, b = self.smarts.water[i], self.esmr.water[j]
        if not a or not b:
            return Part(None, "a receiving water is missing")
        strength = self.water_weights(a)
        detail = f"'{a}' vs '{b}'" + (f"; common water ({strength:.2f})" if strength < 1 else "")
        return Part(fuzz.token_sort_ratio(a, b) / 100, detail, strength)

    def kind(self, i: int, j: int) -> Part:
        a, b = self.smarts.kind[i], self.esmr.kind[j]
        rules = self.settings.kind
        similarity = rules.similarity[a].get(b)
        strength = rules.mismatch_strength if similarity == 0.0 else 1.0
        return Part(similarity, f"SMARTS {a}, eSMR {b}", strength)

    def parts(self, i: int, j: int, km: float) -> dict[str, Part]:
        """Every part's verdict but `rivals` (see `matching/rivals.py`) for SMARTS row `i`
        and eSMR row `j`, `km` apart (NaN: unknown), in the order of `PARTS`."""
        return {
            "name": self.name(i, j),
            "operator": self.operator(i, j),
            "address": self.address(i, j),
            "distance": self.distance(km),
            "place": self.place(i, j),
            "region": self.region(i, j),
            "water": self.water(i, j),
            "kind": self.kind(i, j),
        }


def weighted_score(parts: dict[str, Part], weights: dict[str, float]) -> float:
    """The score alone: the mean of the present parts' similarities, weighted by part
    weight times strength."""
    total = score = 0.0
    for p, part in parts.items():
        if part.similarity is not None:
            w = weights[p] * part.strength
            total += w
            score += w * part.similarity
    return score / total if total else 0.0


def combine(parts: dict[str, Part], weights: dict[str, float]) -> tuple[float, dict[str, dict]]:
    """The score and its components: each part's similarity, weight (part weight times
    strength, rescaled over the present parts to sum to 1), contribution (similarity x
    weight) and detail; absent parts weigh 0. The score is the sum of the (rounded)
    contributions."""
    raw = {
        p: weights[p] * part.strength if part.similarity is not None else 0.0
        for p, part in parts.items()
    }
    total = sum(raw.values()) or 1.0
    components: dict[str, dict] = {}
    score = 0.0
    for p, part in parts.items():
        weight = raw[p] / total
        if part.similarity is not None and weight > 0:
            contribution = round(part.similarity * weight, 6)
            score += contribution
            components[p] = {
                "similarity": round(part.similarity, 4),
                "weight": round(weight, 4),
                "contribution": contribution,
                "detail": part.detail,
            }
        else:
            components[p] = {
                "similarity": None,
                "weight": 0.0,
                "contribution": 0.0,
                "detail": part.detail,
            }
    return round(score, 6), components


def components_json(components: dict[str, dict]) -> str:
    """The components as the compact JSON stored with a pair."""
    return json.dumps(components, separators=(",", ":"), ensure_ascii=False)
