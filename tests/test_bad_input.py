"""Every kind of bad input: a clear error or quarantined rows, and the previous version serves."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from data_layer.store import Store, store_at
from loaders import convert
from loaders.refresh import FAILED, PUBLISHED
from tests.factories import rows_for, write_csv
from tests.test_refresh import read, run

REAL = Path(__file__).resolve().parents[2] / "shared" / "reference" / "real"
HEADERS = None


@pytest.fixture
def served(tmp_path: Path) -> tuple[Store, Path, str]:
    """A store already serving a good version of violations, and its source directory."""
    store = store_at(tmp_path / "store")
    src = tmp_path / "src"
    write_csv(src / "violations.csv", "violations", rows_for("violations", 200))
    version = run(store, src, "violations")["violations"].version
    return store, src, version


def rejects(store: Store, name: str) -> list[tuple]:
    return duckdb.sql(
        f"SELECT line, reason FROM read_parquet('{store.rejects_glob(name)}') ORDER BY line"
    ).fetchall()


def replace_source(src: Path, text: bytes) -> None:
    (src / "violations.csv").write_bytes(text)


def assert_still_serving(store: Store, version: str, rows: int = 200) -> None:
    assert store.current_version("violations") == version
    assert read(store, "violations", "SELECT count(*) FROM t") == [(rows,)]


def test_html_page_instead_of_csv(served) -> None:
    store, src, version = served
    replace_source(src, b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>")
    out = run(store, src, "violations")["violations"]
    assert out.outcome == FAILED and "HTML page" in out.error and "\n" not in out.error
    assert_still_serving(store, version)


def test_empty_file(served) -> None:
    store, src, version = served
    replace_source(src, b"")
    out = run(store, src, "violations")["violations"]
    assert out.outcome == FAILED and "is empty" in out.error
    assert_still_serving(store, version)


def test_header_only_file(served) -> None:
    store, src, version = served
    write_csv(src / "violations.csv", "violations", [])
    out = run(store, src, "violations")["violations"]
    assert out.outcome == FAILED and "no data rows" in out.error
    assert_still_serving(store, version)


def test_truncated_file_quarantines_the_cut_row(served) -> None:
    store, src, _ = served
    data = (src / "violations.csv").read_bytes()
    replace_source(src, data[: len(data) - 40])
    out = run(store, src, "violations")["violations"]
    assert out.outcome == PUBLISHED and out.rows_out == 199 and out.rejects == 1
    [(line, reason)] = rejects(store, "violations")
    assert line == 201 and "COLUMNS" in reason


def test_truncated_inside_quotes(served) -> None:
    store, src, version = served
    rows = rows_for("violations", 200)
    rows[-1]["DESCRIPTION"] = "a long, quoted\ndescription " * 5
    write_csv(src / "violations.csv", "violations", rows)
    data = (src / "violations.csv").read_bytes()
    replace_source(src, data[: data.rindex(b"quoted") + 3])
    out = run(store, src, "violations")["violations"]
    assert out.outcome == PUBLISHED and out.rows_out == 199 and out.rejects == 1


def test_missing_key_column(served) -> None:
    store, src, version = served
    headers = [c.source for c in store_dataset("violations").columns if c.source != "VIOLATION_ID"]
    write_csv(src / "violations.csv", "violations", rows_for("violations", 10), headers=headers)
    out = run(store, src, "violations")["violations"]
    assert out.outcome == FAILED and "no VIOLATION_ID column" in out.error
    assert_still_serving(store, version)


def store_dataset(name: str):
    from data_layer.datasets import dataset

    return dataset(name)


def test_renamed_and_extra_and_reordered_columns(served) -> None:
    store, src, _ = served
    headers = [c.source for c in store_dataset("violations").columns]
    headers = list(reversed(headers))
    headers[headers.index("PLACE_NAME")] = "FACILITY_SITE_NAME"
    headers.append("NEW_FIELD")
    rows = rows_for("violations", 200)
    for row in rows:
        row["FACILITY_SITE_NAME"] = "Renamed Co"
        row["NEW_FIELD"] = "hello"
    write_csv(src / "violations.csv", "violations", rows, headers=headers)
    out = run(store, src, "violations")["violations"]
    assert out.outcome == PUBLISHED and out.rows_out == 200
    assert any("PLACE_NAME" in w for w in out.warnings)
    assert any("new_field" in w for w in out.warnings)
    got = read(
        store,
        "violations",
        "SELECT count(place_name), any_value(new_field), any_value(facility_site_name),"
        " any_value(violation_type) FROM t",
    )
    assert got == [(0, "hello", "Renamed Co", "Late Report")]


def test_bom_is_handled(served) -> None:
    store, src, _ = served
    write_csv(src / "violations.csv", "violations", rows_for("violations", 200), bom=True)
    out = run(store, src, "violations", force=True)["violations"]
    assert out.outcome == PUBLISHED and out.rows_out == 200


def test_bad_dates_are_quarantined_with_line_and_reason(served) -> None:
    store, src, _ = served
    rows = rows_for("violations", 300)
    rows[9]["OCCURRENCE_DATE"] = "31/31/2020"
    rows[4]["DESCRIPTION"] = "spans\ntwo lines"
    rows[20]["OCCURRENCE_DATE"] = "3/4/2021"
    write_csv(src / "violations.csv", "violations", rows)
    out = run(store, src, "violations")["violations"]
    assert out.outcome == PUBLISHED and out.rejects == 1 and out.rows_out == 299
    assert rejects(store, "violations") == [(12, "bad date in OCCURRENCE_DATE: 31/31/2020")]
    assert read(
        store, "violations", "SELECT occurrence_date::VARCHAR FROM t WHERE violation_id = 'V000021'"
    ) == [("2021-03-04",)]


def test_too_many_bad_rows_are_not_published(served) -> None:
    store, src, version = served
    rows = rows_for("violations", 200)
    for row in rows[:10]:
        row["OCCURRENCE_DATE"] = "yesterday"
    write_csv(src / "violations.csv", "violations", rows)
    out = run(store, src, "violations")["violations"]
    assert out.outcome == FAILED and "above the 1.0% threshold" in out.error
    assert_still_serving(store, version)
    kept = list((store.state_dir / "rejects").glob("violations-*/all.parquet"))
    assert len(kept) == 1


def test_duplicate_keys_later_row_wins(served) -> None:
    store, src, _ = served
    rows = rows_for("violations", 200)
    changed = dict(rows[0], VIOLATION_STATUS="Dismissed")
    rows.append(changed)
    rows.append(dict(rows[5]))
    write_csv(src / "violations.csv", "violations", rows)
    out = run(store, src, "violations")["violations"]
    assert out.outcome == PUBLISHED and out.rows_out == 200 and out.rejects == 1
    manifest = store.manifest("violations")["sources"]["all"]
    assert manifest["exact_duplicates"] == 1 and manifest["duplicate_keys"] == 1
    assert rejects(store, "violations")[0][0] == 2
    assert read(
        store, "violations", "SELECT violation_status FROM t WHERE violation_id = 'V000001'"
    ) == [("Dismissed",)]


def test_latin1_bytes_in_utf8_file(served) -> None:
    store, src, _ = served
    rows = rows_for("violations", 200)
    rows[3]["PLACE_NAME"] = "Café Industrial"
    path = write_csv(src / "violations.csv", "violations", rows)
    path.write_bytes(path.read_bytes().replace("Café".encode(), "Café".encode("latin-1")))
    out = run(store, src, "violations")["violations"]
    assert out.outcome == PUBLISHED and out.rows_out == 200 and out.rejects == 0
    assert any("Windows-1252" in w for w in out.warnings)
    assert read(store, "violations", "SELECT place_name FROM t WHERE violation_id = 'V000004'") == [
        ("Café Industrial",)
    ]


def monitoring_source(tmp_path: Path, rows: list[dict[str, str]]) -> tuple[Store, Path]:
    src = tmp_path / "msrc"
    write_csv(src / "industrial_monitoring.csv", "industrial_monitoring", rows)
    return store_at(tmp_path / "mstore"), src


def test_non_numeric_results_and_nd_with_value_are_rejected(tmp_path: Path) -> None:
    rows = rows_for("industrial_monitoring", 300)
    rows[7]["RESULT"] = "high"
    rows[8].update(RESULT_QUALIFIER="ND", RESULT="0.5")
    rows[9].update(RESULT_QUALIFIER="ND", RESULT="NaN")
    store, src = monitoring_source(tmp_path, rows)
    out = run(store, src, "industrial_monitoring", threshold=0.05)["industrial_monitoring"]
    assert out.outcome == PUBLISHED and out.rows_out == 298
    got = duckdb.sql(
        f"SELECT line, reason FROM read_parquet("
        f"'{store.rejects_glob('industrial_monitoring')}') ORDER BY line"
    ).fetchall()
    assert got == [(9, "bad number in RESULT: high"), (10, "ND result carries a value: 0.5")]


def test_monitoring_duplicates_are_kept_and_flagged(tmp_path: Path) -> None:
    rows = rows_for("industrial_monitoring", 100)
    rows.append(dict(rows[0], RESULT="0.45"))
    rows.append(dict(rows[1]))
    store, src = monitoring_source(tmp_path, rows)
    out = run(store, src, "industrial_monitoring")["industrial_monitoring"]
    assert out.outcome == PUBLISHED and out.rows_out == 101 and out.rejects == 0
    flagged = read(
        store,
        "industrial_monitoring",
        "SELECT sample_id, result FROM t WHERE duplicate_sample ORDER BY result",
    )
    assert flagged == [("S000001", 0.31), ("S000001", 0.45)]
    ((year, canon),) = read(
        store, "industrial_monitoring", "SELECT DISTINCT reporting_year, parameter_canonical FROM t"
    )
    assert (year, canon) == (2020, "Zinc, Total")


@pytest.mark.skipif(
    not REAL.is_dir(),
    reason="real reference data (../shared/reference/real) is not present on this machine",
)
def test_real_2019_industrial_file_loads(tmp_path: Path) -> None:
    src = tmp_path / "real"
    src.mkdir()
    (src / "industrial_facilities.csv").symlink_to(REAL / "industrial_facilities_2019-03-12.csv")
    store = store_at(tmp_path / "store")
    out = run(store, src, "industrial_facilities")["industrial_facilities"]
    assert out.outcome == PUBLISHED, out.error
    assert out.rows_in == 36338 and out.rejects < 40
    assert any("QUESTION_TMDL_ANSWER" in w for w in out.warnings)
    stats = read(
        store,
        "industrial_facilities",
        """
        SELECT count(DISTINCT status), count(*) FILTER (WHERE certification_date IS NOT NULL),
               min(noi_processed_date)::VARCHAR, count(*) FILTER (WHERE region IS NULL),
               count(*) FILTER (WHERE permit_type <> 'Industrial')
        FROM t""",
    )
    statuses, certified, oldest, no_region, odd_permit = stats[0]
    assert statuses == 12 and certified > 10000
    assert oldest.startswith("0201-09-07")
    assert no_region <= 11 and odd_permit == 88
    reasons = {r for _, r in rejects(store, "industrial_facilities")}
    assert reasons <= {"missing WDID"} | {r for r in reasons if r.startswith("duplicate key")}


def test_killed_conversion_leaves_store_consistent(served, tmp_path: Path) -> None:
    store, src, version = served
    write_csv(src / "violations.csv", "violations", rows_for("violations", 300_000))
    code = (
        "import sys; from loaders.refresh import RefreshOptions, refresh;"
        "from data_layer.store import store_at;"
        f"refresh(store_at({str(store.root)!r}), RefreshOptions({str(src)!r}, ['violations']))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[1])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(
        store.versions_dir("violations").glob("*.partial")
    ):
        time.sleep(0.02)
    time.sleep(0.3)
    proc.kill()
    proc.wait()
    assert_still_serving(store, version)
    out = run(store, src, "violations")["violations"]
    assert out.outcome == PUBLISHED and out.rows_out == 300_000
    assert not list(store.versions_dir("violations").glob("*.partial"))


def test_reject_lines_stay_right_in_a_file_read_in_several_buffers(tmp_path: Path) -> None:
    """A file larger than the reader's buffer is read in parallel pieces; order must hold."""
    rows = rows_for("industrial_monitoring", 400_000)
    rows[3]["MONITOR_LOCATION_DESCRIPTION"] = "north gate,\nbehind the shed"  # one more line
    bad = (10, 200_000, 399_990)
    for i in bad:
        rows[i]["SAMPLE_DATE"] = "31/31/2021"
    rows[250_000]["RESULT"] = "lots"
    store, src = monitoring_source(tmp_path, rows)
    path = src / "industrial_monitoring.csv"
    assert convert._buffer_size(path) is not None  # the file spans more than one buffer
    out = run(store, src, "industrial_monitoring")["industrial_monitoring"]
    assert out.outcome == PUBLISHED and out.rows_out == 400_000 - 4
    got = duckdb.sql(
        f"SELECT line, record, reason FROM read_parquet("
        f"'{store.rejects_glob('industrial_monitoring')}') ORDER BY line"
    ).fetchall()
    # Line = header + record number + the embedded newline of record 4.
    assert got == [
        (12 + 1, 11, "bad date in SAMPLE_DATE: 31/31/2021"),
        (200_002 + 1, 200_001, "bad date in SAMPLE_DATE: 31/31/2021"),
        (250_002 + 1, 250_001, "bad number in RESULT: lots"),
        (399_992 + 1, 399_991, "bad date in SAMPLE_DATE: 31/31/2021"),
    ]
    assert all(isinstance(line, int) for line, _, _ in got)
    text = path.read_text().splitlines()
    assert all("31/31/2021" in text[line - 1] for line, _, reason in got if "date" in reason)
