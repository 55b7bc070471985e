"""The shapes that pass between the matcher, the decision store and the Postgres sync.

Scored pairs flow matcher → decision store; the current link set flows decision store →
`links` export, the facility page and the Postgres sync. Both are Polars frames with these
columns, in this order, so each side can be built and tested on its own.
"""

from __future__ import annotations

import polars as pl

#: DESIGN §7 defaults: auto-link at or above, queue for review at or above.
DEFAULT_AUTO_THRESHOLD = 0.92
DEFAULT_REVIEW_THRESHOLD = 0.60

#: One scored candidate pair. `components` is a JSON object, one entry per score part:
#: {"name": {"similarity": 0.93, "weight": 0.5, "contribution": 0.465, "detail": "..."}, ...};
#: the parts' contributions explain `score` (0..1).
PAIR_SCHEMA: dict[str, pl.DataType] = {
    "wdid": pl.String(),
    "app_id": pl.String(),
    "facility_place_id": pl.String(),
    "score": pl.Float64(),
    "components": pl.String(),
    "smarts_name": pl.String(),
    "esmr_name": pl.String(),
}

#: Link methods and statuses of the current link set (DESIGN §4 `links`).
LINK_METHODS = ("auto", "manual")
LINK_STATUSES = ("linked", "queued", "rejected")

#: The current link set, derived from scored pairs plus the audited decision history.
#: `reviewer`, `decided_at` and `note` are null for pairs no human has decided.
LINK_SCHEMA: dict[str, pl.DataType] = {
    "wdid": pl.String(),
    "app_id": pl.String(),
    "facility_place_id": pl.String(),
    "method": pl.String(),
    "score": pl.Float64(),
    "status": pl.String(),
    "reviewer": pl.String(),
    "decided_at": pl.Datetime("us", "UTC"),
    "note": pl.String(),
}
