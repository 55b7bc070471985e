"""Names and addresses reduced to comparable tokens.

Case, accents and punctuation go; common abbreviations become one spelling, also with a
typo in a long word (`Wastewater Treatment Plant`, `WWTF`, `Water Reclamation Facility`
are all `wwtp`; `Cnty` is `county`); legal suffixes at the end of a name (`Co.`, `Corp`)
and noise words (`Inc`, `LLC`, `of`, `Storm Water`) are dropped. The table of spellings is data:
`matching/abbreviations.csv` (kind, phrase, canonical).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz.distance import OSA

ABBREVIATIONS_FILE = Path(__file__).resolve().parent / "abbreviations.csv"
#: Kinds of row in the table: replaced in names, replaced in names and marking a treatment
#: works, dropped anywhere in names, dropped at the end of names, replaced in addresses, and
#: words saying what kind of site a place is (`Plant`, `Yard`), which say little about which.
KINDS = ("abbreviation", "plant", "noise", "legal", "street", "generic")
#: Canonical tokens this short are codes (`sd`, `csd`, `wtp`), matched only exactly.
MAX_CODE_LENGTH = 3

#: Words of the table's phrases at least this long are recognised with one typo
#: (`Wastewwater Treatment Plant` is still `wwtp`).
TYPO_FIX_MIN_LENGTH = 6
#: Shortest cut-off last word taken as the start of a plant phrase's next word.
MIN_CUT_WORD = 3

_APOSTROPHES = re.compile(r"['\u2019`]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_LEADING_NUMBER = re.compile(r"^\s*(\d+)")


@dataclass(frozen=True)
class Spellings:
    """The abbreviation table, compiled: phrases (token tuples) to their canonical tokens;
    `fixes` finds the phrase word a typo stands for, `plant_phrases` and
    `plant_word_starts` find a plant phrase cut short at the end of a name."""

    names: dict[tuple[str, ...], tuple[str, ...]]
    streets: dict[tuple[str, ...], tuple[str, ...]]
    legal: frozenset[tuple[str, ...]]
    plant_tokens: frozenset[str]
    generic_tokens: frozenset[str]
    longest: int
    fixes: dict[str, frozenset[str]]
    plant_phrases: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    plant_word_starts: frozenset[str] = frozenset()
    #: Short canonical codes (`wwtp`, `wtp`, `sd`, `csd`...): each names a different kind of
    #: place, so two of them never count as a typo of each other (`wtp` is not `wwtp`).
    codes: frozenset[str] = frozenset()


def load_spellings(path: Path = ABBREVIATIONS_FILE) -> Spellings:
    """Read the abbreviation table; phrases are normalised the way names are."""
    names: dict[tuple[str, ...], tuple[str, ...]] = {}
    streets: dict[tuple[str, ...], tuple[str, ...]] = {}
    legal: set[tuple[str, ...]] = set()
    plants: set[str] = set()
    generic: set[str] = set()
    codes: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            kind = row["kind"].strip()
            if kind not in KINDS:
                raise ValueError(f"{path}: unknown kind {kind!r} for {row['phrase']!r}")
            phrase = tuple(simple_tokens(row["phrase"]))
            canonical = tuple(simple_tokens(row["canonical"] or ""))
            if kind == "legal":
                legal.add(phrase)
            elif kind == "generic":
                generic.update(canonical)
            elif kind == "street":
                streets[phrase] = canonical
            else:
                names[phrase] = canonical
                codes.update(t for t in canonical if len(t) <= MAX_CODE_LENGTH)
                if kind == "plant":
                    plants.update(canonical)
                    codes.update(canonical)
    longest = max(len(p) for p in [*names, *streets, *legal])
    words = {w for phrase in names for w in phrase if len(w) >= TYPO_FIX_MIN_LENGTH}
    fixes: dict[str, set[str]] = {}
    for word in words:
        for key in _deletions(word):
            fixes.setdefault(key, set()).add(word)
    return Spellings(
        names,
        streets,
        frozenset(legal),
        frozenset(plants),
        frozenset(generic),
        longest,
        {k: frozenset(v) for k, v in fixes.items()},
        tuple((p, c) for p, c in names.items() if len(p) > 1 and set(c) <= plants),
        frozenset(
            w[:n]
            for p, c in names.items()
            if len(p) > 1 and set(c) <= plants
            for w in p[1:]
            for n in range(MIN_CUT_WORD, len(w) + 1)
        ),
        frozenset(codes),
    )


def _deletions(word: str) -> set[str]:
    """The word and each one-letter deletion of it."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def _cut_plant(tokens: list[str], sp: Spellings) -> list[str]:
    """Tokens whose end is a plant phrase cut short (SMARTS cuts names at 30 letters:
    `Richmond City Water Pollution`, `Colfax City Wastewater Trea`) with it replaced."""
    if not tokens or tokens[-1] not in sp.plant_word_starts:
        return tokens
    for phrase, canonical in sp.plant_phrases:
        for k in range(len(phrase) - 1, 0, -1):
            whole = k >= 2 and tuple(tokens[-k:]) == phrase[:k]
            cut = (
                len(tokens) > k
                and len(tokens[-1]) >= MIN_CUT_WORD
                and tuple(tokens[-k - 1 : -1]) == phrase[:k]
                and phrase[k].startswith(tokens[-1])
            )
            if whole:
                return tokens[:-k] + list(canonical)
            if cut:
                return tokens[: -k - 1] + list(canonical)
    return tokens


def _fix_typo(token: str, sp: Spellings) -> str:
    """`token`, or the one phrase word it is a typo of (one edit apart)."""
    if len(token) < TYPO_FIX_MIN_LENGTH or token in sp.fixes.get(token, ()):
        return token
    found = {w for key in _deletions(token) for w in sp.fixes.get(key, ())}
    found = {w for w in found if OSA.distance(token, w, score_cutoff=1) <= 1}
    return found.pop() if len(found) == 1 else token


@cache
def default_spellings() -> Spellings:
    """The shipped abbreviation table, read once."""
    return load_spellings()


def simple_tokens(text: str | None) -> list[str]:
    """Lower-case ASCII words: accents folded, `&` read as `and`, other punctuation a space."""
    if not text:
        return []
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    folded = _APOSTROPHES.sub("", folded.lower().replace("&", " and "))
    return [t for t in _NOT_WORD.split(folded) if t]


def _replace(
    tokens: list[str], table: dict[tuple[str, ...], tuple[str, ...]], longest: int
) -> list[str]:
    """Tokens with every phrase of `table` replaced, longest phrase first, left to right."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            phrase = tuple(tokens[i : i + size])
            if phrase in table:
                out.extend(table[phrase])
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _strip_legal(tokens: list[str], legal: frozenset[tuple[str, ...]], longest: int) -> list[str]:
    """Tokens without legal suffixes at the end (several in a row, e.g. `Co Inc`)."""
    stripped = True
    while stripped and tokens:
        stripped = False
        for size in range(min(longest, len(tokens) - 1), 0, -1):
            if tuple(tokens[-size:]) in legal:
                tokens = tokens[:-size]
                stripped = True
                break
    return tokens


def name_tokens(text: str | None, spellings: Spellings | None = None) -> tuple[str, ...]:
    """A facility, operator or agency name as canonical tokens, in their original order.

    A legal suffix is kept when it is the whole name, so `Company` alone stays a name.
    """
    sp = spellings or default_spellings()
    words = [_fix_typo(t, sp) for t in simple_tokens(text)]
    words = [w for t in words for w in sp.names.get((t,), (t,))]
    tokens = _cut_plant(_replace(words, sp.names, sp.longest), sp)
    return tuple(_strip_legal(tokens, sp.legal, sp.longest))


def normalize_name(text: str | None, spellings: Spellings | None = None) -> str:
    """`name_tokens` joined by single spaces (empty for a missing name)."""
    return " ".join(name_tokens(text, spellings))


def is_treatment_works(tokens: tuple[str, ...], spellings: Spellings | None = None) -> bool:
    """Whether name tokens call the place a wastewater treatment works (`wwtp` and kin)."""
    sp = spellings or default_spellings()
    return any(t in sp.plant_tokens for t in tokens)


def address_tokens(text: str | None, spellings: Spellings | None = None) -> tuple[str, ...]:
    """A street address as canonical tokens: `600 South G Street` -> `600 s g st`."""
    sp = spellings or default_spellings()
    return tuple(_replace(simple_tokens(text), sp.streets, sp.longest))


def street_number(text: str | None) -> str | None:
    """The leading house number of an address, if it has one."""
    m = _LEADING_NUMBER.match(text or "")
    return m.group(1).lstrip("0") or "0" if m else None


def sic_code(text: str | None) -> str | None:
    """The four-digit SIC code at the start of `4952-Sewerage Systems` or `4952`."""
    m = re.match(r"^\s*(\d{4})", text or "")
    return m.group(1) if m else None
