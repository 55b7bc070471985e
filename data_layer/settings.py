"""Configuration: environment variables read once into a frozen object.

Only `cli.py` and `app.py` call `Settings.from_env()`; everything else takes the
values it needs as arguments. Every variable here is listed in the README.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CKAN_URL = "https://data.ca.gov"
#: Values of STORMWATER_LOG_FORMAT: JSON lines unless stderr is a terminal, or always one kind.
LOG_FORMATS: tuple[str, ...] = ("auto", "json", "text")
FEATURE_FLAGS: tuple[str, ...] = (
    "ENABLE_SMARTS_VIOLATIONS",
    "ENABLE_ENFORCEMENT_TRACKING",
    "ENABLE_INSPECTIONS",
    "ENABLE_FACILITY_MATCHING",
)
_FALSE = {"0", "false", "no", "off"}
#: Real reference data (dictionaries, real export rows) the demo draws vocabulary from.
_DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def _flag(env: Mapping[str, str], name: str, default: str = "1") -> bool:
    return env.get(name, default).strip().lower() not in _FALSE


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (the first is the default); ValueError naming the variable otherwise."""
    value = env.get(name, "").strip().lower() or allowed[0]
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _esmr_years(env: Mapping[str, str], today: dt.date) -> tuple[int, ...]:
    """eSMR years: `STORMWATER_ESMR_YEARS` ("2021,2022" or "2020-2024"); default the last five."""
    raw = env.get("STORMWATER_ESMR_YEARS", "").strip()
    if not raw:
        return tuple(range(today.year - 4, today.year + 1))
    years: set[int] = set()
    for part in raw.split(","):
        lo, _, hi = part.strip().partition("-")
        years.update(range(int(lo), int(hi or lo) + 1))
    return tuple(sorted(years))


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with safe defaults."""

    store: Path
    state_url: str
    pg_url: str | None
    ckan_url: str
    esmr_years: tuple[int, ...]
    reject_threshold: float
    memory_limit: str
    reference: Path
    flags: dict[str, bool] = field(default_factory=dict)
    log_format: str = "auto"
    alert_webhook: str | None = field(default=None, repr=False)
    smtp_url: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    alert_email_to: tuple[str, ...] = ()
    alert_email_from: str | None = None
    #: STORMWATER_REVIEWERS: `name:hash,...` reviewer sign-ins (matching/auth.py).
    reviewers: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment once (or a given mapping, for tests)."""
        env = os.environ if env is None else env
        store = Path(env.get("STORMWATER_STORE", "./parquet_store")).expanduser().resolve()
        state_url = env.get("STORMWATER_STATE_URL") or f"sqlite:///{store / '_state' / 'state.db'}"
        return cls(
            store=store,
            state_url=state_url,
            pg_url=env.get("STORMWATER_PG_URL") or None,
            ckan_url=env.get("STORMWATER_CKAN_URL", DEFAULT_CKAN_URL).rstrip("/"),
            esmr_years=_esmr_years(env, dt.date.today()),
            reject_threshold=float(env.get("STORMWATER_REJECT_THRESHOLD", "0.01")),
            memory_limit=env.get("STORMWATER_MEMORY_LIMIT", "2GB"),
            reference=Path(env.get("STORMWATER_REFERENCE", _DEFAULT_REFERENCE)).expanduser(),
            flags={name: _flag(env, name) for name in FEATURE_FLAGS},
            log_format=_choice(env, "STORMWATER_LOG_FORMAT", LOG_FORMATS),
            alert_webhook=env.get("STORMWATER_ALERT_WEBHOOK") or None,
            smtp_url=env.get("STORMWATER_SMTP_URL") or None,
            smtp_starttls=_flag(env, "STORMWATER_SMTP_STARTTLS", "0"),
            alert_email_to=tuple(
                a.strip() for a in env.get("STORMWATER_ALERT_EMAIL_TO", "").split(",") if a.strip()
            ),
            alert_email_from=env.get("STORMWATER_ALERT_EMAIL_FROM") or None,
            reviewers=env.get("STORMWATER_REVIEWERS") or None,
        )
