"""Reviewer sign-in: hashed passwords from Streamlit secrets or the environment (DESIGN §7).

Passwords are never stored, only scrypt hashes with a random salt, in the form
`scrypt$N$r$p$SALT$HASH` (base64), made by `python cli.py hash-password`. Configure them as a
`[reviewers]` table in `.streamlit/secrets.toml` (`alice = "scrypt$..."`) or as
`STORMWATER_REVIEWERS="alice:scrypt$...,bob:scrypt$..."`; secrets win for a name in both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from data_layer.errors import StormwaterError

REVIEWERS_ENV = "STORMWATER_REVIEWERS"
SECRETS_TABLE = "reviewers"
SCHEME = "scrypt"
#: scrypt cost: 2**14 blocks of 8 (16 MB, tens of milliseconds), one lane; 16-byte salt.
COST = {"n": 2**14, "r": 8, "p": 1}
SALT_BYTES = 16
#: Refuse stored costs above this (a hash is configuration, but still bounded work).
MAX_N = 2**20
KEY_BYTES = 32


class CredentialsInvalid(StormwaterError):
    """Reviewer credentials are configured in a form that cannot be used (e.g. plain text)."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=KEY_BYTES
    )


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`, in the form the reviewer configuration takes."""
    if not password:
        raise CredentialsInvalid("an empty password cannot be used")
    salt = os.urandom(SALT_BYTES)
    key = _derive(password, salt, **COST)
    return f"{SCHEME}${COST['n']}${COST['r']}${COST['p']}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    """The parameters, salt and key of a stored hash, or None if it is not one of ours."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = (int(v) for v in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    if (
        not 2 <= n <= MAX_N
        or n & (n - 1)
        or not 0 < r <= 64
        or not 0 < p <= 16
        or not salt
        or not key
    ):
        return None
    return n, r, p, salt, key


def is_hash(value: str) -> bool:
    """Whether `value` is a password hash (and not, say, a password pasted in by mistake)."""
    return _parse(value) is not None


def verify(username: str, password: str, credentials: Mapping[str, str]) -> bool:
    """True only for a configured reviewer whose password matches its hash (constant-time)."""
    parsed = _parse(credentials.get(username, ""))
    if parsed is None:
        # Same work as a real check, so timing does not tell which names exist.
        _derive(password, b"\0" * SALT_BYTES, **COST)
        return False
    n, r, p, salt, key = parsed
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)


def _from_env(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        name, sep, stored = item.strip().partition(":")
        if not sep or not name.strip():
            raise CredentialsInvalid(f"{REVIEWERS_ENV}: expected name:hash pairs, got {item!r}")
        found[name.strip()] = stored.strip()
    return found


def load_credentials(
    env: Mapping[str, str], secrets: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Reviewer name → password hash from `env[STORMWATER_REVIEWERS]` and `secrets["reviewers"]`.

    A value that is not a hash is refused with a one-line error naming the reviewer, so a
    plain password put in the configuration by mistake is never used.
    """
    found = _from_env(env.get(REVIEWERS_ENV, ""))
    table = (secrets or {}).get(SECRETS_TABLE) or {}
    found.update({str(name): str(stored) for name, stored in dict(table).items()})
    for name, stored in found.items():
        if not is_hash(stored):
            raise CredentialsInvalid(
                f"reviewer {name!r}: the configured value is not a password hash;"
                " make one with `python cli.py hash-password`"
            )
    return found
