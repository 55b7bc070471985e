"""The matcher's parts on small literal cases: normalisation, each score part, blocking,
explanations that add up, competing candidates, hostile input and the input frames."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import psycopg
import pytest

from data_layer import match_sources
from data_layer.connection import open_store
from data_layer.errors import SourceInvalid, SourceUnavailable
from data_layer.store import Store
from matching.block import candidate_pairs
from matching.contract import DEFAULT_AUTO_THRESHOLD, PAIR_SCHEMA
from matching.normalize import (
    address_tokens,
    default_spellings,
    load_spellings,
    name_tokens,
    normalize_name,
)
from matching.pairs import score_candidates
from matching.prepare import (
    prepare_esmr,
    prepare_smarts,
    token_neighbours,
    token_weights,
    water_weights,
)
from matching.score import Part, Scorer, combine
from matching.settings import PARTS, SETTINGS_FILE, load_settings

SETTINGS = load_settings()


def smarts_row(wdid: str = "4 19I000001", app_id: str = "1", **values: object) -> dict:
    return {"wdid": wdid, "app_id": app_id, "permit_family": "Industrial", **values}


def esmr_row(place: str = "900001", **values: object) -> dict:
    return {"facility_place_id": place, **values}


def frames(smarts: list[dict], esmr: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    s = match_sources.conform(pl.DataFrame(smarts), match_sources.SMARTS_FACILITY_SCHEMA)
    e = match_sources.conform(pl.DataFrame(esmr), match_sources.ESMR_FACILITY_SCHEMA)
    return s, e


def scorer(smarts: list[dict], esmr: list[dict]) -> Scorer:
    """A scorer over the given rows, with token rarity counted over these rows only."""
    s, e = frames(smarts, esmr)
    sp = default_spellings()
    a, b = prepare_smarts(s, SETTINGS.kind, sp), prepare_esmr(e, SETTINGS.kind, sp)
    weights = token_weights(a, b, sp.generic_tokens, SETTINGS.name.generic_weight)
    neighbours = token_neighbours(a, b, SETTINGS.name, sp.codes)
    return Scorer(a, b, weights, water_weights(a, b), neighbours, SETTINGS)


#: Filler rows so that token rarity means something in the small cases below.
FILLER_S = [smarts_row(f"9 00I{i:06d}", str(i), name=f"Filler Works {i}") for i in range(30)]
FILLER_E = [
    esmr_row(str(800000 + i), name=f"Town{i} WWTP" if i % 2 else f"Other Plant {i}")
    for i in range(30)
]


def name_part(a: str, b: str) -> Part:
    sc = scorer([smarts_row(name=a), *FILLER_S], [esmr_row(name=b), *FILLER_E])
    return sc.name(0, 0)


def test_a_water_treatment_plant_is_not_a_typo_of_a_wastewater_plant() -> None:
    """`wtp` and `wwtp` differ by one doubled letter, but name different kinds of place."""
    plant = "Humboldt CSD Wastewater Treatment Plant"
    same = name_part(plant, "Humboldt CSD WWTP")
    other = name_part(plant, "Humboldt CSD Water Treatment Plant")
    assert same.similarity == 1.0
    assert other.similarity < same.similarity - 0.15, other


@pytest.mark.parametrize(
    ("raw", "tokens"),
    [
        ("Nevada City WWTP", ("nevada", "city", "wwtp")),
        ("NEVADA CITY Wastewater Treatment Plant", ("nevada", "city", "wwtp")),
        (
            "Fresno Cnty #1-Tamarack Estates WWTF",
            ("fresno", "county", "1", "tamarack", "estates", "wwtp"),
        ),
        ("Toro Co.", ("toro",)),
        (
            "Mitchell Grinding Corporation of California Corp",
            ("mitchell", "grinding", "corporation", "california"),
        ),
        ("O'Neill & Sons, L.L.C.", ("oneill", "sons")),
        ("Café Noël Inc. Storm Water", ("cafe", "noel")),
        ("Dept of Public Works Yard", ("department", "dpw", "yard")),
        ("Acme Intl Mfg Co", ("acme", "international", "manufacturing")),
        ("Carpinteria Sanitary District WWTP", ("carpinteria", "sd", "wwtp")),
        ("Linda Cnty Water District Wastewwater Treatment Plant", ("linda", "cwd", "wwtp")),
        ("Richmond City Water Pollution", ("richmond", "city", "wwtp")),
        ("Company", ("company",)),
        ("", ()),
        (None, ()),
    ],
)
def test_names_normalise_case_punctuation_suffixes_and_abbreviations(raw, tokens):
    assert name_tokens(raw) == tokens


def test_addresses_normalise_street_words():
    assert address_tokens("600 South G Street") == address_tokens("600 S. G St")
    assert normalize_name("  Foo   BAR  ") == "foo bar"


def test_an_unknown_kind_in_the_abbreviation_table_is_refused(tmp_path: Path):
    table = tmp_path / "abbreviations.csv"
    table.write_text("kind,phrase,canonical\nslang,wwtp,plant\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown kind 'slang'"):
        load_spellings(table)


def test_name_part_sees_through_typos_abbreviations_suffixes_and_order():
    assert name_part("Hydro Extruder LLC", "Hydro Extrudder LLC").similarity >= 0.9
    assert (
        name_part("Fresno County #1 Tamarack WWTF", "Fresno Cnty #1-Tamarack WWTP").similarity == 1
    )
    assert name_part("Toro Co", "Toro").similarity == 1
    assert name_part("Springs WWTP, Running", "Running Springs WWTP").similarity == 1
    assert name_part("BCI Coca Cola Bottling", "BCI Coc aCola Bottling").similarity >= 0.9
    assert name_part("Acme Widgets", "Zenith Gravel").similarity == 0


def test_name_of_common_words_only_weighs_less_and_numbers_must_agree():
    generic = name_part("Wastewater Treatment Plant", "Lemoore WWTF")
    rare = name_part("Lemoore WWTF", "Lemoore Wastewater Treatment Facility")
    assert generic.strength < 1 and "common words only" in generic.detail
    assert rare.strength == 1 and rare.similarity == 1
    branch = name_part("United Rentals Branch 557", "United Rentals Branch 045")
    assert branch.similarity < 0.5 and "numbers differ" in branch.detail


def test_operator_counts_when_it_names_the_esmr_facility_and_is_left_out_otherwise():
    sc = scorer(
        [smarts_row(name="Plant Road Facility", operator="Nevada City"), *FILLER_S],
        [esmr_row(name="Nevada City WWTP"), *FILLER_E],
    )
    assert sc.operator(0, 0).similarity == 1
    other = scorer(
        [smarts_row(name="Acme", operator="Craig Smith"), *FILLER_S],
        [esmr_row(name="Acme Inc"), *FILLER_E],
    )
    assert other.operator(0, 0).similarity is None
    agency = scorer(
        [smarts_row(name="Arcata City Works"), *FILLER_S],
        [esmr_row(name="Arcata WWTF", agency="Arcata City"), *FILLER_E],
    )
    assert agency.operator(0, 0).similarity == 1


def test_address_part_needs_the_same_house_number():
    sc = scorer(
        [smarts_row(address="700 Asti Rd"), smarts_row(address="900 Asti Rd"), smarts_row()],
        [esmr_row(address="700  Asti Road")],
    )
    assert sc.address(0, 0).similarity == 1
    assert sc.address(1, 0).similarity <= SETTINGS.address.other_number
    assert sc.address(2, 0).similarity is None


def test_distance_part_is_one_nearby_half_at_five_km_and_absent_without_coordinates():
    sc = scorer([smarts_row()], [esmr_row()])
    assert sc.distance(0.1).similarity == 1
    assert sc.distance(5.0).similarity == pytest.approx(0.5)
    assert 0 < sc.distance(12.0).similarity < 0.5
    assert sc.distance(80.0).similarity == 0
    assert sc.distance(float("nan")).similarity is None


def test_place_region_and_water_parts():
    sc = scorer(
        [
            smarts_row(city="Arcata", county="Humboldt", region="1", receiving_water="Mad River"),
            smarts_row(city="Eureka", county="Humboldt", region="5S"),
            smarts_row(city="Fresno", county="Fresno", region="4"),
            *[smarts_row(f"w{i}", str(i), receiving_water="Pacific Ocean") for i in range(20)],
        ],
        [
            esmr_row(city="Arcata", county="Humboldt", region="1", receiving_water="Mad River"),
            esmr_row(region="5", receiving_water="Pacific Ocean"),
            esmr_row(region="5F"),
        ],
    )
    assert sc.place(0, 0).similarity == 1
    assert sc.place(1, 0).similarity == SETTINGS.place.same_county
    assert sc.place(2, 0).similarity == 0
    assert sc.place(0, 1).similarity is None
    assert sc.region(0, 0).similarity == 1
    assert sc.region(1, 1).similarity == 1  # CIWQS writes the Central Valley as "5"
    assert sc.region(1, 2).similarity == SETTINGS.region.same_family
    assert sc.region(2, 0).similarity == 0
    rare, common = sc.water(0, 0), sc.water(3, 1)
    assert rare.similarity == common.similarity == 1
    assert common.strength < rare.strength


def test_kind_part_rules_out_industry_against_a_treatment_works():
    sc = scorer(
        [
            smarts_row(name="Arcata WWTF", sic="4952-Sewerage Systems"),
            smarts_row(name="Arcata Lumber", sic="2421-Sawmills"),
            smarts_row(name="Arcata Apartments", permit_family="Construction"),
        ],
        [esmr_row(name="Arcata City WWTF"), esmr_row(name="Arcata Lumber Co")],
    )
    assert sc.kind(0, 0).similarity == 1
    mismatch = sc.kind(1, 0)
    assert mismatch.similarity == 0 and mismatch.strength == SETTINGS.kind.mismatch_strength
    assert sc.kind(1, 1).similarity == SETTINGS.kind.similarity["industrial"]["other"]
    assert sc.kind(2, 1).similarity == 0


def test_contributions_add_up_to_the_score_and_weights_to_one():
    parts = {
        "name": Part(0.9, ""),
        "operator": Part(None, ""),
        "address": Part(1.0, ""),
        "distance": Part(0.5, ""),
        "place": Part(1.0, ""),
        "region": Part(1.0, ""),
        "water": Part(1.0, "", 0.3),
        "kind": Part(0.0, "", 2.5),
        "rivals": Part(1.0, ""),
    }
    score, components = combine(parts, SETTINGS.weights)
    assert list(components) == list(PARTS)
    assert sum(c["contribution"] for c in components.values()) == pytest.approx(score, abs=1e-5)
    assert sum(c["weight"] for c in components.values()) == pytest.approx(1, abs=1e-3)
    assert components["operator"]["weight"] == 0 and components["operator"]["similarity"] is None
    assert components["kind"]["weight"] > components["place"]["weight"]


@pytest.fixture(scope="module")
def tiny_sides(tiny_store: Store) -> tuple[pl.DataFrame, pl.DataFrame]:
    conn = open_store(tiny_store.root, "1GB")
    cur = conn.cursor()
    try:
        return match_sources.smarts_facilities(cur), match_sources.esmr_facilities(cur)
    finally:
        cur.close()
        conn.close()


def _truth(source: Path) -> pl.DataFrame:
    return pl.read_csv(source / "_truth/facility_matches.csv", infer_schema=False)


def test_every_scored_pair_explains_its_score(tiny_sides):
    pairs = score_candidates(*tiny_sides, floor=0.0)
    assert pairs.schema == pl.Schema(PAIR_SCHEMA)
    assert pairs.height > 0
    for row in pairs.iter_rows(named=True):
        components = json.loads(row["components"])
        assert list(components) == list(PARTS)
        total = sum(c["contribution"] for c in components.values())
        assert total == pytest.approx(row["score"], abs=1e-5)
        for c in components.values():
            assert set(c) == {"similarity", "weight", "contribution", "detail"}
            assert c["detail"]


def test_blocking_keeps_the_true_pairs_and_stays_far_below_all_pairs(tiny_sides, tiny_source):
    smarts, esmr = tiny_sides
    sp = default_spellings()
    s = prepare_smarts(smarts, SETTINGS.kind, sp)
    e = prepare_esmr(esmr, SETTINGS.kind, sp)
    found = candidate_pairs(s, e, SETTINGS.blocking, SETTINGS.name)
    rows = {
        (smarts["wdid"][i], smarts["app_id"][i], esmr["facility_place_id"][j])
        for i, j in found.iter_rows()
    }
    truth = {tuple(r) for r in _truth(tiny_source).iter_rows()}
    assert truth and truth <= rows
    assert found.height < 0.05 * smarts.height * esmr.height


def test_competing_candidates_are_all_kept_and_none_is_auto_linked():
    plant = {
        "name": "Cloverdale City WWTP",
        "operator": "Cloverdale City",
        "region": "1",
        "address": "700 Asti Rd",
        "city": "Cloverdale",
        "sic": "4952",
    }
    smarts, esmr = frames(
        [
            smarts_row("1 49I000001", "10", status="Terminated", **plant),
            smarts_row("1 49I000002", "11", status="Active", **plant),
            *FILLER_S,
        ],
        [
            esmr_row(
                "214888",
                name="Cloverdale City WWTP",
                agency="Cloverdale City",
                address="700 Asti Road",
                city="Cloverdale",
                region="1",
                sic="4952",
            ),
            *FILLER_E,
        ],
    )
    pairs = score_candidates(smarts, esmr)
    linked = pairs.filter(pl.col("facility_place_id") == "214888")
    assert sorted(linked["app_id"]) == ["10", "11"]
    assert (linked["score"] < DEFAULT_AUTO_THRESHOLD).all()
    assert (linked["score"] >= 0.6).all()
    for row in linked.iter_rows(named=True):
        rivals = json.loads(row["components"])["rivals"]
        assert rivals["similarity"] == 0 and "same place" in rivals["detail"]


def test_two_esmr_places_at_one_address_are_both_candidates():
    smarts, esmr = frames(
        [
            smarts_row(
                name="El Toro WD WWTP",
                address="23542 Moulton Pkwy",
                city="Laguna Hills",
                region="9",
                sic="4952",
            ),
            *FILLER_S,
        ],
        [
            esmr_row("1", name="El Toro WD WRP", address="23542 Moulton Parkway", region="9"),
            esmr_row("2", name="El Toro WD WWRF", address="23542 Moulton Parkway", region="9"),
            *FILLER_E,
        ],
    )
    pairs = score_candidates(smarts, esmr)
    assert sorted(pairs.filter(pl.col("wdid") == "4 19I000001")["facility_place_id"]) == ["1", "2"]


def test_a_single_clear_candidate_is_auto_linked():
    smarts, esmr = frames(
        [
            smarts_row(
                name="Tapia WRF",
                operator="Las Virgenes MWD",
                address="731 Malibu Canyon Rd",
                city="Calabasas",
                region="4",
                latitude=34.0818,
                longitude=-118.7045,
                sic="4952-Sewerage Systems",
            ),
            *FILLER_S,
        ],
        [
            esmr_row(
                "266940",
                name="Tapia WRF",
                agency="Las Virgenes MWD",
                address="731 Malibu Canyon Road",
                city="Calabasas",
                region="4",
                latitude=34.0820,
                longitude=-118.7046,
                sic="4952",
            ),
            *FILLER_E,
        ],
    )
    pairs = score_candidates(smarts, esmr)
    assert pairs.row(0, named=True)["facility_place_id"] == "266940"
    assert pairs["score"][0] >= DEFAULT_AUTO_THRESHOLD


HOSTILE = [
    "<script>alert('x')</script> WWTP",
    "'; DROP TABLE esmr_facilities; --",
    "Ωmega Plant 🚰 Ünïcödé",
    "&&& /// ***",
    "Inc",
    "",
    None,
    "Tahoe " * 800,
    "\x00\x1f\u202e reversed",
]


def test_hostile_strings_score_without_error_and_stay_plain_text():
    smarts, esmr = frames(
        [
            smarts_row(
                f"x{i}", str(i), name=n, operator=n, address=n, city=n, region=n, receiving_water=n
            )
            for i, n in enumerate(HOSTILE)
        ],
        [esmr_row(str(i), name=n, agency=n, address=n, region=n) for i, n in enumerate(HOSTILE)],
    )
    pairs = score_candidates(smarts, esmr, floor=0.0)
    assert pairs.schema == pl.Schema(PAIR_SCHEMA)
    assert pairs["score"].is_between(0, 1).all()
    for row in pairs.iter_rows(named=True):
        assert isinstance(json.loads(row["components"]), dict)
    script = pairs.filter(pl.col("smarts_name").str.contains("<script>", literal=True))
    assert script.height and script["smarts_name"][0] == HOSTILE[0]


@pytest.mark.parametrize("empty", ["smarts", "esmr", "both"])
def test_an_empty_side_gives_no_pairs(empty: str):
    smarts, esmr = frames([smarts_row(name="Hyperion WWTP")], [esmr_row(name="Hyperion WWTP")])
    if empty in ("smarts", "both"):
        smarts = smarts.clear()
    if empty in ("esmr", "both"):
        esmr = esmr.clear()
    pairs = score_candidates(smarts, esmr)
    assert pairs.is_empty() and pairs.schema == pl.Schema(PAIR_SCHEMA)


def test_frames_without_optional_columns_are_scored():
    smarts = pl.DataFrame({"wdid": ["a"], "app_id": ["1"], "name": ["Hyperion WWTP"]})
    esmr = pl.DataFrame({"facility_place_id": ["9"], "name": ["Hyperion WWTP"]})
    pairs = score_candidates(smarts, esmr)
    assert pairs.select("wdid", "facility_place_id").row(0) == ("a", "9")


def test_a_settings_file_with_a_missing_key_is_refused_naming_it(tmp_path: Path):
    text = SETTINGS_FILE.read_text(encoding="utf-8").replace("margin = 0.05\n", "")
    bad = tmp_path / "settings.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[rivals\].*missing \['margin'\]"):
        load_settings(bad)
    weights = SETTINGS_FILE.read_text(encoding="utf-8").replace("rivals = 0.10", "rival = 0.10")
    bad.write_text(weights, encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[weights\]"):
        load_settings(bad)


def test_store_sides_have_one_row_per_facility(tiny_store: Store, tiny_sides):
    smarts, esmr = tiny_sides
    assert smarts.columns == list(match_sources.SMARTS_FACILITY_SCHEMA)
    assert esmr.columns == list(match_sources.ESMR_FACILITY_SCHEMA)
    conn = open_store(tiny_store.root, "1GB")
    cur = conn.cursor()
    try:
        places = cur.sql(
            "SELECT count(DISTINCT facility_place_id) FROM stg_esmr__samples"
        ).fetchall()[0][0]
        facilities = cur.sql("SELECT count(*) FROM int_facilities_unified").fetchall()[0][0]
    finally:
        cur.close()
        conn.close()
    assert esmr.height == esmr["facility_place_id"].n_unique() == places
    assert smarts.height == facilities
    assert esmr["name"].null_count() == 0
    assert esmr["address"].null_count() == esmr.height  # eSMR rows carry no address


def test_esmr_facilities_from_postgres_have_the_store_shape(pg_url: str):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            'CREATE TABLE esmr_facilities ("facilityPlaceId" integer PRIMARY KEY,'
            ' "facilityName" text, "regionCode" text, latitude double precision,'
            ' longitude double precision, "receivingWaterBody" text)'
        )
        conn.execute(
            "INSERT INTO esmr_facilities VALUES (206164, 'Arcata City WWTF', 'Region 1',"
            " 40.86643, -124.08665, 'Humboldt Bay'), (214888, 'Cloverdale City WWTP', '1',"
            " 95.0, 0.0, NULL)"
        )
    frame = match_sources.esmr_facilities_pg(pg_url).sort("facility_place_id")
    assert frame.columns == list(match_sources.ESMR_FACILITY_SCHEMA)
    assert frame["facility_place_id"].to_list() == ["206164", "214888"]
    assert frame["region"].to_list() == ["1", "1"]
    assert frame["latitude"].to_list() == [40.86643, None]  # outside California: unknown


def test_an_unreachable_postgres_is_one_line():
    with pytest.raises(SourceUnavailable) as err:
        match_sources.esmr_facilities_pg("postgresql://nobody@127.0.0.1:1/none")
    assert "\n" not in str(err.value)


def test_ciwqs_export_is_read_into_the_esmr_shape(tmp_path: Path):
    export = tmp_path / "ciwqs.csv"
    export.write_text(
        "REGION,FACILITY ID,FACILITY NAME,AGENCY NAME,PLACE ADDRESS,PLACE CITY,PLACE ZIP,"
        "PLACE COUNTY,LATITUDE DECIMAL DEGREES,LONGITUDE DECIMAL DEGREES,SIC CODE 1\n"
        "1,206164,Arcata City WWTF,Arcata City,600 South G Street,Arcata,95521,Humboldt,"
        "40.86643,-124.08665,4952\n"
        "1,206164,Arcata City WWTF (again),Arcata City,,,,,NA,NA,\n",
        encoding="utf-8",
    )
    frame = match_sources.ciwqs_facilities_csv(export)
    assert frame.height == 1
    row = frame.row(0, named=True)
    assert (row["agency"], row["city"], row["sic"], row["region"]) == (
        "Arcata City",
        "Arcata",
        "4952",
        "1",
    )
    (tmp_path / "other.csv").write_text("A,B\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceInvalid, match="not a CIWQS facility export"):
        match_sources.ciwqs_facilities_csv(tmp_path / "other.csv")
