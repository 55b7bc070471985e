"""The built-in sample source: contract headers, determinism, links, quirks and answer key."""

from __future__ import annotations

import codecs
import csv
import json
import os
from pathlib import Path

import duckdb
import pytest

from data_layer.datasets import DATASETS, SMARTS_PACKAGE, dataset
from loaders.demo_source import TRUTH_FILE, default_esmr_years, write_demo_source

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("STORMWATER_REFERENCE", ROOT.parent / "shared" / "reference"))
YEARS = [2023, 2024]
NULLS = ["NA", "NaN", "N/A", ""]
SMARTS_FILES = [f"{d.name}.csv" for d in DATASETS if not d.per_year_sources]
ESMR_FILES = [f"esmr_{y}.csv" for y in YEARS]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """One small sample shared by the read-only tests."""
    out = tmp_path_factory.mktemp("demo")
    rows = write_demo_source(out, scale=0.005, seed=42, reference=REFERENCE, esmr_years=YEARS)
    return out, rows


@pytest.fixture(scope="session")
def db(demo: tuple[Path, dict[str, int]]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per file, every column as text, nulls as NULL."""
    out, _ = demo
    con = duckdb.connect()
    for name in SMARTS_FILES:
        con.execute(f"create view {name[:-4]} as select * from {_reader(out / name)}")
    esmr = ", ".join(f"'{out / f}'" for f in ESMR_FILES)
    con.execute(
        f"create view esmr as select * from read_csv([{esmr}], all_varchar=true, nullstr={NULLS})"
    )
    con.execute(
        f"create view truth as select * from read_csv('{out / TRUTH_FILE}', all_varchar=true)"
    )
    return con


def _reader(path: Path, nulls: list[str] | None = None) -> str:
    """A read_csv call that keeps every value as text."""
    return f"read_csv('{path}', all_varchar=true, header=true, nullstr={nulls or NULLS})"


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    """The single value a query returns."""
    return con.execute(sql).fetchone()[0]


def _header(path: Path) -> list[str]:
    """The first CSV row of a file, without a BOM."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


def test_every_file_has_exactly_the_contract_header(demo):
    out, rows = demo
    assert set(rows) == set(SMARTS_FILES + ESMR_FILES)
    for ds in DATASETS:
        files = ESMR_FILES if ds.per_year_sources else [f"{ds.name}.csv"]
        for name in files:
            assert _header(out / name) == [c.source for c in ds.columns], name


def test_esmr_files_start_with_a_bom_and_smarts_files_do_not(demo):
    out, _ = demo
    for name in ESMR_FILES:
        assert (out / name).read_bytes().startswith(codecs.BOM_UTF8)
    for name in SMARTS_FILES:
        assert not (out / name).read_bytes().startswith(codecs.BOM_UTF8)


def test_every_dataset_has_rows_and_counts_match_the_files(demo, db):
    out, rows = demo
    for name in SMARTS_FILES:
        assert rows[name] > 0
        assert _one(db, f"select count(*) from {name[:-4]}") == rows[name]
    assert _one(db, "select count(*) from esmr") == sum(rows[f] for f in ESMR_FILES)


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path):
    runs = {}
    for label, seed in (("a", 7), ("b", 7), ("c", 8)):
        out = tmp_path / label
        write_demo_source(out, scale=0.002, seed=seed, reference=REFERENCE, esmr_years=[2024])
        runs[label] = {
            p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
        }
    assert runs["a"] == runs["b"]
    assert runs["a"].keys() == runs["c"].keys()
    assert (
        runs["a"][Path("industrial_monitoring.csv")] != runs["c"][Path("industrial_monitoring.csv")]
    )


def test_entity_keys_are_present_and_unique(db):
    for ds in DATASETS:
        if ds.kind != "entity":
            continue
        columns = [ds.column(k).source for k in ds.key]
        missing = " or ".join(f"{c} is null" for c in columns)
        assert _one(db, f"select count(*) from {ds.name} where {missing}") == 0
        key = ", ".join(columns)
        assert _one(db, f"select count(*) - count(distinct ({key})) from {ds.name}") == 0


def test_records_belong_to_existing_facilities(db):
    facilities = (
        "(select wdid, app_id from industrial_facilities union all "
        "select wdid, app_id from construction_facilities)"
    )
    for table in ("violations", "enforcement_actions", "inspections"):
        orphans = _one(
            db, f"select count(*) from {table} anti join {facilities} using (wdid, app_id)"
        )
        assert orphans == 0, table


def test_place_block_copies_the_facility(db):
    mismatched = _one(
        db,
        """
        select count(*) from violations v join industrial_facilities f using (wdid, app_id)
        where v.place_name <> f.facility_name or v.place_county <> f.facility_county
           or v.regional_board <> f.region_board""",
    )
    assert mismatched == 0


def test_a_third_of_violations_come_from_earlier_inspections_of_the_same_facility(db):
    total = _one(db, "select count(*) from violations")
    inspected = _one(db, "select count(*) from violations where violation_source = 'Inspection'")
    assert 0.25 <= inspected / total <= 0.42
    dangling = _one(
        db,
        """
        select count(*) from violations v where v.violation_source = 'Inspection'
        and not exists (
            select 1 from inspections i
            where i.inspection_id = v.violation_source_id and i.wdid = v.wdid
              and i.app_id = v.app_id
              and coalesce(try_strptime(i.inspection_date, '%Y-%m-%d'),
                           try_strptime(i.inspection_date, '%m/%d/%Y'))
                  <= coalesce(try_strptime(v.occurrence_date, '%Y-%m-%d'),
                              try_strptime(v.occurrence_date, '%m/%d/%Y')))""",
    )
    assert dangling == 0
    sources = {
        r[0] for r in db.execute("select distinct violation_source from violations").fetchall()
    }
    assert sources == {"Inspection", "Annual Report", "Report"}


def test_monitoring_comes_from_facilities_of_the_right_kind(db):
    for table, facilities in (
        ("industrial_monitoring", "industrial_facilities"),
        ("construction_monitoring", "construction_facilities"),
    ):
        orphans = _one(
            db, f"select count(*) from {table} anti join {facilities} using (wdid, app_id)"
        )
        assert orphans == 0, table


def test_monitoring_keys_dates_and_results_are_loadable(db):
    for table, year in (
        ("industrial_monitoring", "reporting_year"),
        ("construction_monitoring", "report_year"),
    ):
        assert (
            _one(
                db,
                f"""select count(*) - count(distinct (report_id, sample_id, parameter))
                           from {table}""",
            )
            == 0
        )
        day = (
            "coalesce(try_strptime(sample_date, '%Y-%m-%d'), try_strptime(sample_date, '%m/%d/%Y'))"
        )
        assert _one(db, f"select count(*) from {table} where {day} is null") == 0
        assert (
            _one(
                db,
                f"""select count(*) from {table} where sample_date not like '2114%'
            and {year}::int <> year({day}) - (month({day}) < 7)::int""",
            )
            == 0
        )
        assert (
            _one(
                db,
                f"""select count(*) from {table} where result is not null
            and try_cast(result as double) is null""",
            )
            == 0
        )
        assert (
            _one(
                db,
                f"""select count(*) from {table}
            where result_qualifier = 'ND' and result is not null""",
            )
            == 0
        )


def test_industrial_monitoring_looks_like_the_export(db):
    share = dict(
        db.execute("""
        select case when parameter ilike '%suspended%' or parameter = 'TSS' then 'TSS'
                    when parameter ilike 'pH%' then 'pH' else 'other' end, count(*)
        from industrial_monitoring group by 1""").fetchall()
    )
    total = sum(share.values())
    assert 0.12 < share["TSS"] / total < 0.24
    assert 0.12 < share["pH"] / total < 0.22
    nd = _one(db, "select avg((result_qualifier = 'ND')::int) from industrial_monitoring")
    assert 0.18 < nd < 0.38
    per_report = _one(
        db,
        """select median(c) from (select report_id, count(*) c
                             from industrial_monitoring group by 1)""",
    )
    assert 5 <= per_report <= 10


def test_truth_pairs_exist_on_both_sides_and_cover_about_8_percent(db):
    pairs = _one(db, "select count(*) from truth")
    industrial = _one(db, "select count(*) from industrial_facilities")
    assert 0.05 <= pairs / industrial <= 0.12
    assert (
        _one(db, "select count(*) from truth anti join industrial_facilities using (wdid, app_id)")
        == 0
    )
    assert _one(db, "select count(*) from truth anti join esmr using (facility_place_id)") == 0
    assert _one(db, "select count(distinct facility_place_id) from esmr") > 2 * pairs


def test_package_json_lists_every_file_with_its_size(demo):
    out, rows = demo
    package = json.loads((out / "package.json").read_text())
    assert package["success"] is True
    result = package["result"]
    assert result["name"] == SMARTS_PACKAGE
    by_url = {r["url"]: r for r in result["resources"]}
    assert set(by_url) == set(rows)
    for url, res in by_url.items():
        assert res["size"] == (out / url).stat().st_size
        assert res["format"] == "CSV" and res["mimetype"] == "text/csv"
        assert res["id"] and res["last_modified"].startswith("20")
    assert by_url["violations.csv"]["name"] == dataset("violations").title
    assert by_url["industrial_monitoring.csv"]["name"] == (
        "Industrial Ad Hoc Reports - Parameter Data"
    )
    assert by_url["esmr_2024.csv"]["name"] == "eSMR Analytical Data 2024"


def test_export_quirks_are_present(demo, db):
    out, _ = demo
    assert _one(db, "select count(*) from industrial_monitoring where sample_date like '%/%'") > 0
    raw = (out / "violations.csv").read_text(encoding="utf-8")
    for token in (",NA,", ",NaN,", ",N/A,", ",,"):
        assert token in raw, token
    notes = _one(
        db,
        """select count(*) from inspections
                        where general_notes like '%' || chr(10) || '%'""",
    )
    notes += _one(
        db,
        "select count(*) from violations where description like '%' || chr(10) "
        "|| '%' or memo like '%' || chr(10) || '%'",
    )
    assert notes > 0
    zinc = _one(
        db,
        """select count(distinct parameter) from industrial_monitoring
                       where parameter ilike '%zinc%' and parameter not ilike '%dissolved%'""",
    )
    assert zinc > 1
    units = {
        r[0] for r in db.execute("select distinct units from industrial_monitoring").fetchall()
    }
    assert {"mg/L", "ug/L"} <= units


def test_wdids_carry_their_region_and_kind(db):
    assert (
        _one(
            db,
            """select count(*) from industrial_facilities
                       where not starts_with(wdid, region_board)
                          or not regexp_matches(wdid, '^([1-9] |[5-6][ABFRS])\\d\\d(I|NEC|NONA)\\d')
                    """,
        )
        == 0
    )
    assert (
        _one(
            db,
            """select count(*) from construction_facilities
                       where not regexp_matches(wdid, '^([1-9] |[5-6][ABFRS])\\d\\dC\\d{6}$')
                    """,
        )
        == 0
    )


def test_some_but_not_most_industrial_facilities_exceed_a_nal(db):
    exceeding = _one(
        db,
        """
        with s as (
            select wdid, app_id, reporting_year ry, try_cast(result as double)
                       / case when lower(units) = 'ug/l' then 1000 else 1 end as mg,
                   case when parameter ilike '%zinc%' then 0.26
                        when parameter ilike '%copper%' then 0.0332
                        when parameter ilike '%lead%' then 0.262
                        when parameter ilike '%suspended solids%' or parameter = 'TSS' then 100
                        when parameter ilike 'oil%' then 15 end as nal
            from industrial_monitoring
            where result_qualifier <> 'ND' and parameter not ilike '%dissolved%'),
        annual as (select wdid, app_id from s where nal is not null
                   group by wdid, app_id, ry, nal having avg(mg) > nal),
        ph as (select wdid, app_id from industrial_monitoring where parameter ilike 'pH%'
               and (try_cast(result as double) < 6 or try_cast(result as double) > 9)
               group by wdid, app_id, reporting_year having count(*) >= 2)
        select count(*) from (select * from annual union select * from ph)""",
    )
    monitored = _one(db, "select count(distinct (wdid, app_id)) from industrial_monitoring")
    assert exceeding >= 1
    assert exceeding / monitored < 0.35


def test_works_without_the_reference_files(tmp_path):
    rows = write_demo_source(
        tmp_path, scale=0.002, seed=3, reference=tmp_path / "missing", esmr_years=[2024]
    )
    assert all(n > 0 for n in rows.values())
    assert _header(tmp_path / "violations.csv") == [c.source for c in dataset("violations").columns]
    truth = (tmp_path / TRUTH_FILE).read_text().splitlines()
    assert truth[0] == "wdid,app_id,facility_place_id" and len(truth) > 1


def test_default_esmr_years_are_the_five_ending_this_year():
    import datetime as dt

    assert default_esmr_years(dt.date(2026, 3, 1)) == [2022, 2023, 2024, 2025, 2026]
