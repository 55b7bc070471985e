"""SQL expressions that type, check and derive one column: the contract's types made concrete.

Every function returns an expression over a raw VARCHAR column (already NULL for the
null spellings). A typed value that is NULL while its raw text is not means the text
did not parse, which `problem_sql` turns into a reject reason naming the column.
"""

from __future__ import annotations

from collections.abc import Callable

from data_layer.datasets import (
    DATE_FORMATS,
    FALSE_TOKENS,
    REGION_CODES,
    TRUE_TOKENS,
    Column,
)
from data_layer.identifiers import ident, literal, literal_list

_NUMBER_TEXT = "replace(replace(trim({c}), ',', ''), '$', '')"


def typed_sql(col: Column, raw: str) -> str:
    """Expression giving `raw` (a quoted identifier) as the column's store type."""
    c = raw
    if col.type == "text":
        return c
    if col.type == "double":
        return _number(c)
    if col.type == "int":
        number = _number(c)
        return f"CASE WHEN {number} = round({number}) THEN {number}::BIGINT::INTEGER END"
    if col.type == "bool":
        up = f"upper(trim({c}))"
        return (
            f"CASE WHEN {up} IN {_tuple(TRUE_TOKENS)} THEN true"
            f" WHEN {up} IN {_tuple(FALSE_TOKENS)} THEN false END"
        )
    if col.type in ("date", "timestamp"):
        parsed = f"try_strptime(trim({c}), {literal_list(DATE_FORMATS)})"
        return f"{parsed}::DATE" if col.type == "date" else parsed
    raise ValueError(f"no SQL type for {col.type!r}")


def _number(c: str) -> str:
    """A number, trying the plain spelling first and `$1,234.50` only when that fails."""
    return f"coalesce(try_cast({c} AS DOUBLE), try_cast({_NUMBER_TEXT.format(c=c)} AS DOUBLE))"


def problem_sql(col: Column, raw: str, typed: str, required: bool) -> str:
    """Expression giving a reject reason for this column, or NULL when the value is fine."""
    label = literal(col.source)
    checks = []
    if required:
        checks.append(f"WHEN {raw} IS NULL THEN 'missing ' || {label}")
    if col.type != "text":
        kind = {"date": "date", "timestamp": "date", "bool": "Y/N flag"}.get(col.type, "number")
        checks.append(
            f"WHEN {raw} IS NOT NULL AND {typed} IS NULL"
            f" THEN 'bad {kind} in ' || {label} || ': ' || left({raw}, 40)"
        )
    if not checks:
        return "NULL"
    return "CASE " + " ".join(checks) + " END"


def nd_problem_sql(qualifier: str, result: str) -> str:
    """Reject reason for a non-detect that carries a numeric result (DESIGN §5)."""
    return (
        f"CASE WHEN upper(trim({ident(qualifier)})) = 'ND' AND {ident(result)} IS NOT NULL"
        " AND NOT isnan({r}) THEN 'ND result carries a value: ' || {r}::VARCHAR END"
    ).format(r=ident(result))


def region_code_sql(expr: str) -> str:
    """A Regional Board code (`4`, `5S`...) from a board column such as `5S` or `Region 4`."""
    text = f"upper(trim({expr}))"
    found = f"regexp_extract({text}, '([1-9][ABFRS]?)\\b', 1)"
    return f"CASE WHEN {found} IN {_tuple(REGION_CODES)} THEN {found} END"


def region_from_wdid_sql(expr: str) -> str:
    """The Regional Board code that opens a WDID (`4 19I000033` -> 4, `5S34I012345` -> 5S)."""
    found = f"regexp_extract(upper(trim({expr})), '^([1-9][ABFRS]?)', 1)"
    return f"CASE WHEN {found} IN {_tuple(REGION_CODES)} THEN {found} END"


def reporting_year_sql(expr: str) -> str:
    """The permit's July–June reporting year, labelled by the year it starts in."""
    return f"CASE WHEN month({expr}) >= 7 THEN year({expr}) ELSE year({expr}) - 1 END"


#: Derived columns computed row by row while staging: partitions are chosen by them.
ROW_RULES: dict[str, Callable[[str], str]] = {
    "reporting_year": reporting_year_sql,
}

#: Derived columns that depend on one column's value only: computed once per distinct value
#: (ten thousand WDIDs, not five million rows) and looked up when the rows are written.
VALUE_RULES: dict[str, Callable[[str], str]] = {
    "region_code": region_code_sql,
    "region_from_wdid": region_from_wdid_sql,
}


def newline_count_sql(raws: list[str]) -> str:
    """Embedded newlines in a record: turns record numbers into source line numbers."""
    parts = [
        f"CASE WHEN contains({r}, chr(10)) THEN length({r}) - length(replace({r}, chr(10), ''))"
        " ELSE 0 END"
        for r in raws
    ]
    return " + ".join(parts) if parts else "0"


def _tuple(tokens: tuple[str, ...]) -> str:
    return "(" + ", ".join(literal(t) for t in tokens) + ")"
