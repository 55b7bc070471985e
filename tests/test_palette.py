"""The map's colour scale: none is grey, the top count the darkest step, never out of range."""

from __future__ import annotations

import polars as pl

from pages.palette import MAP_NONE, MAP_SCALE, map_colour


def _colours(values: list[int | None], top: int) -> list[tuple[int, ...]]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Int64})
    out = frame.select(map_colour(pl.col("v"), top))
    return [tuple(row) for row in out.iter_rows()]


def test_zero_and_missing_are_grey() -> None:
    assert _colours([0, None], 10) == [(*MAP_NONE, 140)] * 2


def test_scale_runs_from_first_to_last_step() -> None:
    got = _colours([1, 5, 10, 500], 10)
    assert got[0] == (*MAP_SCALE[0], 210)
    assert got[1] == (*MAP_SCALE[2], 210)
    assert got[2] == got[3] == (*MAP_SCALE[-1], 210)


def test_zero_top_does_not_divide_by_zero() -> None:
    assert _colours([3], 0) == [(*MAP_SCALE[-1], 210)]
