"""Maps for the pages: a pydeck Deck that reaches the browser as compact JSON.

pydeck serialises with `indent=2`, which forces Python's pure-Python JSON encoder: for
the statewide map (45,000 points) that is about a second and 20 MB per rerun. The same
document without indentation goes through the C encoder in a fraction of the time, and a
layer's rows given as `Rows` are written by Polars itself instead of becoming 45,000
Python dicts first.
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize


class Rows:
    """A layer's data as a Polars frame, written as a JSON array of row objects."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame


class CompactDeck(pdk.Deck):
    """`pdk.Deck` with compact, C-encoded JSON and `Rows` written by Polars."""

    def to_json(self) -> str:
        rows: dict[str, str] = {}

        def encode(obj: Any) -> Any:
            if isinstance(obj, Rows):
                token = f"\x00rows-{len(rows)}\x00"
                rows[json.dumps(token)] = obj.frame.write_json()
                return token
            return default_serialize(obj)

        text = json.dumps(self, sort_keys=True, default=encode, separators=(",", ":"))
        if not rows:
            return text
        # One pass over the document as encoded, so no inserted row is searched again.
        tokens = re.compile("|".join(re.escape(token) for token in rows))
        return tokens.sub(lambda m: rows[m.group(0)], text)
