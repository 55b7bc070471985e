"""Maps for the pages: a pydeck Deck that reaches the browser as compact JSON.

pydeck serialises with `indent=2`, which forces Python's pure-Python JSON encoder: for
the statewide map (45,000 points) that is about a second and 20 MB per rerun. The same
document without indentation goes through the C encoder in a fraction of the time.
"""

from __future__ import annotations

import json

import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize


class CompactDeck(pdk.Deck):
    """`pdk.Deck` with compact, C-encoded JSON; otherwise identical."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))
