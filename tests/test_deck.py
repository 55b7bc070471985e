"""The map's deck JSON: rows written by Polars give the same document as pydeck's own rows."""

from __future__ import annotations

import json

import polars as pl
import pydeck as pdk

from pages._deck import CompactDeck, Rows

HOSTILE = pl.DataFrame(
    {
        "wdid": [
            "5S01I000001",
            'O"Brien\\ "East"',
            "line\nbreak",
            "\x00rows-1\x00",
            "Tahoe–Truckee",
        ],
        "latitude": [38.5, None, 33.92512, 0.0, -0.5],
        "radius": pl.Series([1500, 2, 3, 4, 5], dtype=pl.Int32),
        "flag": [True, False, None, True, False],
    }
)


def _deck(data: object, data2: object) -> CompactDeck:
    layers = [
        pdk.Layer("ScatterplotLayer", data=data, id="a", get_position="[longitude, latitude]"),
        pdk.Layer("ScatterplotLayer", data=data2, id="b", get_radius="radius"),
    ]
    return CompactDeck(
        layers=layers,
        initial_view_state=pdk.ViewState(latitude=37.2, longitude=-119.5, zoom=5),
        tooltip={"html": "<b>{wdid}</b>"},
    )


def test_rows_written_by_polars_equal_pydecks_rows():
    other = HOSTILE.reverse()
    fast = _deck(Rows(HOSTILE), Rows(other)).to_json()
    plain = _deck(HOSTILE.to_dicts(), other.to_dicts()).to_json()
    assert json.loads(fast) == json.loads(plain)
    layers = json.loads(fast)["layers"]
    assert [row["wdid"] for row in layers[0]["data"]] == HOSTILE["wdid"].to_list()
    assert layers[1]["data"][0]["wdid"] == "Tahoe–Truckee"


def test_a_deck_without_rows_is_plain_compact_json():
    text = _deck([{"wdid": "x"}], []).to_json()
    assert "\n" not in text
    assert json.loads(text)["layers"][0]["data"] == [{"wdid": "x"}]
