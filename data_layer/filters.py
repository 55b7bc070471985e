"""Building WHERE, ORDER BY and paging from user choices without splicing user text into SQL.

Column names come only from a query's whitelist; every value is a bound `?` parameter.
A filter left as None is simply absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from data_layer.identifiers import ident

MAX_LIMIT = 10_000


@dataclass
class Where:
    """An AND of conditions over whitelisted columns, with their bound values."""

    columns: frozenset[str]
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def _col(self, column: str) -> str:
        if column not in self.columns:
            raise ValueError(f"{column!r} is not a filterable column here")
        return ident(column)

    def equals(self, column: str, value: Any) -> Where:
        """column = value; a list or tuple means any of them."""
        if value is None or (isinstance(value, list | tuple | set) and not value):
            return self
        if isinstance(value, list | tuple | set):
            values = list(value)
            self.clauses.append(f"{self._col(column)} IN ({', '.join('?' * len(values))})")
            self.params.extend(values)
        else:
            self.clauses.append(f"{self._col(column)} = ?")
            self.params.append(value)
        return self

    def between(self, column: str, low: dt.date | None, high: dt.date | None) -> Where:
        """low <= column <= high, either end optional."""
        if low is not None:
            self.clauses.append(f"{self._col(column)} >= ?")
            self.params.append(low)
        if high is not None:
            self.clauses.append(f"{self._col(column)} <= ?")
            self.params.append(high)
        return self

    def contains(self, columns: Sequence[str], text: str | None) -> Where:
        """Any of `columns` contains `text`, case-insensitively, taken literally (no wildcards)."""
        if not text:
            return self
        parts = [f"contains(lower({self._col(c)}), lower(?))" for c in columns]
        self.clauses.append("(" + " OR ".join(parts) + ")")
        self.params.extend([text] * len(columns))
        return self

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "true"


def order_by(sort: str, descending: bool, allowed: Sequence[str], tiebreak: Sequence[str]) -> str:
    """ORDER BY a whitelisted column (nulls last), then stable tie-breakers."""
    if sort not in allowed:
        raise ValueError(f"cannot sort by {sort!r}; choose one of {', '.join(allowed)}")
    direction = "DESC" if descending else "ASC"
    keys = [f"{ident(sort)} {direction} NULLS LAST"] + [ident(t) for t in tiebreak if t != sort]
    return ", ".join(keys)


def page_bounds(limit: int, offset: int) -> tuple[int, int]:
    """Limit clamped to 1..MAX_LIMIT and a non-negative offset."""
    return max(1, min(int(limit), MAX_LIMIT)), max(0, int(offset))
