"""The SQL models in `data_layer/sql/`: one view per file, created in dependency order.

Files are named by layer (`stg_`, `int_`, then marts); a model refers to another by
its bare name, and the order is worked out from those references. Staging views over
Parquet are made in `connection.py`, the only place that knows paths.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
_WORD = re.compile(r"\b[a-z_][a-z0-9_]*\b")


@cache
def _models() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SQL_DIR.glob("*.sql"))}


def render(name: str) -> str:
    """The SQL text of model `name` (comments kept; one statement)."""
    return _models()[name].strip().rstrip(";")


@cache
def model_order() -> tuple[str, ...]:
    """Models sorted so each comes after the models it reads."""
    models = _models()
    deps = {
        n: {w for w in _WORD.findall(sql.lower()) if w in models and w != n}
        for n, sql in models.items()
    }
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in seen:
            return
        if name in path:
            raise ValueError(f"SQL models form a cycle: {' -> '.join((*path, name))}")
        for dep in sorted(deps[name]):
            visit(dep, (*path, name))
        seen.add(name)
        order.append(name)

    for name in sorted(models):
        visit(name)
    return tuple(order)
