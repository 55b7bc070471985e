"""Quoting for the only text ever spliced into SQL: identifiers and paths from the contract.

User input never goes through here; it is always a bound parameter.
"""

from __future__ import annotations

from collections.abc import Iterable


def ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A single-quoted SQL string literal (for contract constants and store paths)."""
    return "'" + str(text).replace("'", "''") + "'"


def literal_list(items: Iterable[str]) -> str:
    """A SQL list literal of strings: `['a', 'b']`."""
    return "[" + ", ".join(literal(i) for i in items) + "]"
