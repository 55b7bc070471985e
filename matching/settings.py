"""Matcher settings as data: blocking rules, score parts' parameters and weights.

The values live in `matching/settings.toml`; this module reads them into frozen
dataclasses (one per section) and checks them, so a bad edit fails at start-up with
the key named, not halfway through a run. `as_dict` gives the settings back as plain
data, to save beside a match run.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

SETTINGS_FILE = Path(__file__).resolve().parent / "settings.toml"

#: The score's parts, in the order a reviewer reads them.
PARTS: tuple[str, ...] = (
    "name",
    "operator",
    "address",
    "distance",
    "place",
    "region",
    "water",
    "kind",
    "rivals",
)


@dataclass(frozen=True)
class Blocking:
    """Which pairs are scored at all: shared rare name tokens, or being close."""

    min_token_length: int
    max_token_share: float
    common_floor: int
    max_key_pairs: int
    near_km: float
    token_max_km: float


@dataclass(frozen=True)
class NameRules:
    """How two names' tokens are compared."""

    typo_min_length: int
    typo_similarity: float
    prefix_similarity: float
    min_prefix_length: int
    compact_letters_per_edit: int
    numbers_differ: float
    generic_weight: float
    full_information: float


@dataclass(frozen=True)
class DistanceRules:
    """Distance to similarity: 1 up to `full_km`, 0.5 at `half_km`, 0 from `zero_km`,
    log-linear in between."""

    full_km: float
    half_km: float
    zero_km: float


@dataclass(frozen=True)
class RivalRules:
    """When another candidate competes with a pair."""

    margin: float
    good_name: float
    same_place_km: float


#: What a facility can be on each side (see [kind] in settings.toml).
SMARTS_KINDS: tuple[str, ...] = ("works", "industrial", "construction")
ESMR_KINDS: tuple[str, ...] = ("works", "utility", "other")


@dataclass(frozen=True)
class KindRules:
    """What each side is, and how alike each pair of kinds is (a pair not in `similarity`
    says nothing either way)."""

    works_sic: tuple[str, ...]
    mismatch_strength: float
    utility_tokens: tuple[str, ...]
    similarity: dict[str, dict[str, float]]


@dataclass(frozen=True)
class RegionRules:
    same_family: float


@dataclass(frozen=True)
class PlaceRules:
    same_county: float


@dataclass(frozen=True)
class AddressRules:
    other_number: float


@dataclass(frozen=True)
class MatchSettings:
    """Everything the matcher reads; `weights` has one entry per part in `PARTS`."""

    blocking: Blocking
    name: NameRules
    distance: DistanceRules
    kind: KindRules
    region: RegionRules
    place: PlaceRules
    address: AddressRules
    rivals: RivalRules
    weights: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain data (JSON-ready)."""
        return asdict(self)


_SECTIONS: dict[str, type] = {
    "blocking": Blocking,
    "name": NameRules,
    "distance": DistanceRules,
    "kind": KindRules,
    "region": RegionRules,
    "place": PlaceRules,
    "address": AddressRules,
    "rivals": RivalRules,
}


def _section(raw: dict[str, Any], key: str, cls: type) -> Any:
    values = raw.get(key)
    if not isinstance(values, dict):
        raise ValueError(f"matcher settings: section [{key}] is missing")
    names = {f.name for f in fields(cls)}
    unknown, missing = set(values) - names, names - set(values)
    if unknown or missing:
        raise ValueError(
            f"matcher settings [{key}]: unknown {sorted(unknown)}, missing {sorted(missing)}"
        )
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def load_settings(path: Path = SETTINGS_FILE) -> MatchSettings:
    """Read and check the settings file (default: the shipped `settings.toml`)."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    weights = raw.get("weights", {})
    if set(weights) != set(PARTS) or any(float(w) < 0 for w in weights.values()):
        raise ValueError(f"matcher settings [weights]: need one weight >= 0 for each of {PARTS}")
    if sum(weights.values()) <= 0:
        raise ValueError("matcher settings [weights]: at least one weight must be positive")
    sections = {key: _section(raw, key, cls) for key, cls in _SECTIONS.items()}
    table = sections["kind"].similarity
    if set(table) != set(SMARTS_KINDS) or any(
        not set(r) <= set(ESMR_KINDS) for r in table.values()
    ):
        raise ValueError(
            f"matcher settings [kind.similarity]: one table per {SMARTS_KINDS}, keys among"
            f" {ESMR_KINDS}"
        )
    return MatchSettings(weights={p: float(weights[p]) for p in PARTS}, **sections)
