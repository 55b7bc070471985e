"""Inspections, violations and enforcement actions for the built-in sample, linked the way
the real exports link them.

Each record belongs to an existing facility (WDID + APP_ID) and copies its place block.
About a third of violations are found in an inspection: their `VIOLATION_SOURCE_ID` is that
inspection's id and their dates fall on or after it. Most enforcement actions answer a
violation at the same facility, and `COUNT_OF_VIOLATIONS` counts that facility's recent ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from loaders import demo_vocab as vocab
from loaders.demo_facilities import HORIZON
from loaders.demo_format import Fmt, clock, day, hhmm, person_names, pick, uniform_days

RECORDS_SINCE = day("2002-01-01")

INSPECTION_PURPOSES = (
    "B Type Compliance",
    "Enforcement Follow-up",
    "Complaint",
    "Non-Filer/NONA",
    "A Type Compliance",
    "Non-Compliance Follow-up",
    "NOT (Notice of Termination)",
    "NEC (No Exposure Certification)",
    "Inspection from Vehicle",
)
INSPECTION_PURPOSE_SHARES = (0.60, 0.15, 0.10, 0.08, 0.025, 0.02, 0.01, 0.01, 0.005)
VIOLATION_TYPES = (
    "Late Report",
    "Deficient Report",
    "Deficient BMP Implementation",
    "Unauthorized Non-Storm Water Discharge",
    "Failure to Obtain Permit",
    "Effluent",
    "Deficient SWPPP",
    "Deficient Monitoring",
    "Failure to Submit Report",
    "Failure to Pay Fees",
    "Failure to Implement ERA",
    "Deficient Sampling",
    "Record Keeping",
    "Unauthorized Discharge",
    "Other Codes",
)
REPORT_TYPE_SHARES = (
    0.30,
    0.20,
    0.03,
    0.02,
    0.04,
    0.10,
    0.02,
    0.07,
    0.10,
    0.04,
    0.04,
    0.02,
    0.01,
    0.005,
    0.005,
)
INSPECTION_TYPE_SHARES = (
    0.01,
    0.02,
    0.35,
    0.10,
    0.04,
    0.02,
    0.20,
    0.08,
    0.0,
    0.0,
    0.03,
    0.05,
    0.05,
    0.04,
    0.01,
)
ENFORCEMENT_TYPES = (
    "Notice of Non-Compliance",
    "Notice of Violation",
    "Cleanup and Abatement Order",
    "Staff Enforcement Letter",
    "Verbal Communication",
    "13267 Letter",
    "ACL Complaint",
    "Expedited Payment Letter",
    "Admin Civil Liability",
    "Time Schedule Order",
    "Settlement Agreement",
    "Oral Communication",
)
ENFORCEMENT_SHARES = (0.40, 0.25, 0.10, 0.08, 0.05, 0.04, 0.02, 0.02, 0.015, 0.01, 0.005, 0.01)
PENALTY_TYPES = (
    "ACL Complaint",
    "Expedited Payment Letter",
    "Admin Civil Liability",
    "Settlement Agreement",
)
ORDER_TYPES = (
    "Cleanup and Abatement Order",
    "Time Schedule Order",
    "Admin Civil Liability",
    "ACL Complaint",
)

VIOLATION_NOTES = (
    "Annual report not submitted by the July 15 deadline.",
    "Sampling results for the second half of the reporting year were not uploaded.",
    'Discharger stated the "good housekeeping" program was under review.',
    "Sediment tracked onto the public street at the main gate, no stabilized entrance.",
    "SWPPP site map does not show the vehicle wash area, drains, or sampling points.",
    "Non-storm water discharge observed from the wash rack to the storm drain.",
    "Inlet protection missing at two drop inlets; wattles damaged.",
    "Monitoring Implementation Plan incomplete, see attached letter.",
    "Uncovered scrap piles exposed to rain; leaking drums near the fence line.",
    "Level 1 ERA report not submitted after exceedance of the annual NAL for zinc.",
)
INSPECTION_NOTES = (
    "Met with the facility manager and walked the site.",
    "BMPs generally in place, but secondary containment around the fuel tank is cracked.",
    "Oil sheen observed in the drop inlet near the loading dock, photos taken.",
    'Operator said the "rain event" sampling was missed because no one was on site.',
    "Storm drain inlets protected; good housekeeping observed throughout.",
    "Exposed stockpiles, no covers; sediment leaving the site at the southwest corner.",
    "Facility appears to have ceased operations; gate locked, no activity.",
    "Discussed corrective actions, follow-up inspection in 30 days.",
    "Spill kits present; vehicle maintenance performed indoors.",
    "Complaint from neighbor regarding dust, runoff, and truck traffic.",
)
ENFORCEMENT_NOTES = (
    "Failure to submit the annual report for the reporting year.",
    "Discharger is required to update the SWPPP and implement BMPs.",
    "Notice issued following inspection findings, see inspection report.",
    'Violations of the General Permit, including "unauthorized non-storm water discharges".',
    "Penalty assessed for late reports, per the Enforcement Policy.",
    "Repeated NAL exceedances without an ERA report.",
)
CORRECTIVE_NOTES = (
    "Submit the annual report within 30 days.",
    "Revise the SWPPP, install inlet protection, and certify completion in SMARTS.",
    "Cover stockpiles and scrap bins before the next forecast rain event.",
    "Provide a Level 1 ERA report, prepared by a QISP, by the due date.",
    'Respond in writing, "describing actions taken", and upload photos.',
    "Pay the assessed penalty or request a hearing.",
)


@dataclass(frozen=True)
class Records:
    """Plain values for the three record files, each row pointing at a facility index."""

    inspections: pl.DataFrame
    violations: pl.DataFrame
    enforcement: pl.DataFrame


def pick_facilities(
    rng: np.random.Generator, places: pl.DataFrame, n: int, industrial_share: float, since: int
) -> np.ndarray:
    """Facility indices weighted by how long each was covered since `since`."""
    covered = np.maximum(
        places["end"].to_numpy() - np.maximum(places["noi"].to_numpy(), since), 0
    ).astype(np.float64)
    industrial = (places["kind"] == "Industrial").to_numpy()
    weight = (
        np.where(
            industrial,
            industrial_share / max(covered[industrial].sum(), 1.0),
            (1 - industrial_share) / max(covered[~industrial].sum(), 1.0),
        )
        * covered
    )
    return rng.choice(places.height, n, p=weight / weight.sum())


def days_in_window(
    rng: np.random.Generator, places: pl.DataFrame, idx: np.ndarray, since: int
) -> np.ndarray:
    """A day inside each chosen facility's coverage window (and after `since`)."""
    start = np.maximum(places["noi"].to_numpy()[idx], since)
    return uniform_days(rng, start, places["end"].to_numpy()[idx])


def _ids(rng: np.random.Generator, n: int, low: int) -> np.ndarray:
    """Unique, increasing record ids (the caller sorts rows by date first)."""
    return np.sort(rng.choice(9 * low, n, replace=False) + low)


def build_records(
    rng: np.random.Generator,
    places: pl.DataFrame,
    n_inspections: int,
    n_violations: int,
    n_enforcement: int,
) -> Records:
    """Inspections, then violations (a third from inspections), then enforcement."""
    insp = _inspections(rng, places, n_inspections)
    viol = _violations(rng, places, insp, n_violations)
    enf = _enforcement(rng, places, viol, n_enforcement)
    anchors = enf["anchor"].drop_nulls().unique()
    viol = viol.with_columns(pl.col("row").is_in(anchors.implode()).alias("linked"))
    counts = viol.filter(pl.col("source") == "Inspection").group_by("source_id").len()
    insp = (
        insp.join(counts, left_on="id", right_on="source_id", how="left")
        .with_columns(pl.col("len").fill_null(0).alias("violations"))
        .drop("len")
        .sort("row")
    )
    return Records(insp, viol, enf)


def _inspections(rng: np.random.Generator, places: pl.DataFrame, n: int) -> pl.DataFrame:
    """Inspection rows: facility, date and id, in date order."""
    fac = pick_facilities(rng, places, n, 0.5, day("2005-01-01"))
    days = days_in_window(rng, places, fac, day("2005-01-01"))
    order = np.argsort(days, kind="stable")
    return pl.DataFrame(
        {
            "row": np.arange(n),
            "fac": fac[order],
            "day": days[order],
            "id": _ids(rng, n, 1_000_000).astype(str),
        }
    )


def _violations(
    rng: np.random.Generator, places: pl.DataFrame, insp: pl.DataFrame, n: int
) -> pl.DataFrame:
    """Violation rows: a third found in inspections, the rest from reports."""
    n_insp = min(round(n / 3), insp.height * 3) if insp.height else 0
    pick_insp = rng.integers(0, max(insp.height, 1), n_insp)
    late = np.where(rng.random(n_insp) < 0.8, 0, rng.integers(1, 6, n_insp))
    from_insp = pl.DataFrame(
        {
            "fac": insp["fac"].to_numpy()[pick_insp],
            "day": insp["day"].to_numpy()[pick_insp] + late,
            "source": ["Inspection"] * n_insp,
            "source_id": insp["id"].to_numpy()[pick_insp],
        }
    )
    rest = n - n_insp
    fac = pick_facilities(rng, places, rest, 0.65, RECORDS_SINCE)
    report_id = pl.Series(rng.integers(100_000, 999_999, rest)).cast(pl.String)
    from_reports = pl.DataFrame(
        {
            "fac": fac,
            "day": days_in_window(rng, places, fac, RECORDS_SINCE),
            "source": rng.choice(["Annual Report", "Report"], rest, p=[0.55, 0.45]),
            "source_id": report_id.zip_with(
                pl.Series(rng.random(rest) < 0.4), pl.Series([None] * rest, dtype=pl.String)
            ),
        }
    )
    both = (
        pl.concat([from_insp, from_reports])
        .with_columns(pl.col("day").clip(upper_bound=HORIZON))
        .sort("day", maintain_order=True)
    )
    return both.with_columns(
        pl.Series("row", np.arange(n)), pl.Series("id", _ids(rng, n, 100_000).astype(str))
    )


def _enforcement(
    rng: np.random.Generator, places: pl.DataFrame, viol: pl.DataFrame, n: int
) -> pl.DataFrame:
    """Enforcement rows: most answer a violation, the rest stand alone; counts attached."""
    n_anchor = min(round(n * 0.75), viol.height)
    anchor = (
        np.sort(rng.choice(viol.height, n_anchor, replace=False))
        if n_anchor
        else np.array([], dtype=np.int64)
    )
    delay = rng.integers(14, 365, n_anchor)
    rest = n - n_anchor
    fac = pick_facilities(rng, places, rest, 0.6, RECORDS_SINCE)
    rows = pl.DataFrame(
        {
            "fac": np.concatenate([viol["fac"].to_numpy()[anchor], fac]),
            "day": np.concatenate(
                [
                    np.minimum(viol["day"].to_numpy()[anchor] + delay, HORIZON),
                    days_in_window(rng, places, fac, RECORDS_SINCE),
                ]
            ),
            "anchor": pl.Series(np.concatenate([anchor, np.full(rest, -1)])),
        }
    ).with_columns(pl.when(pl.col("anchor") >= 0).then(pl.col("anchor")).alias("anchor"))
    rows = rows.sort("day", maintain_order=True).with_columns(
        pl.Series("row", np.arange(n)), pl.Series("id", _ids(rng, n, 1_000_000).astype(str))
    )
    return (
        rows.join(_recent_counts(rows, viol), on="row", how="left")
        .with_columns(pl.col("count").fill_null(0))
        .sort("row")
    )


def _recent_counts(enf: pl.DataFrame, viol: pl.DataFrame) -> pl.DataFrame:
    """For each enforcement row, the facility's violations in the three years before it."""
    pairs = enf.select("row", "fac", pl.col("day").alias("issued")).join(
        viol.select("fac", "day"), on="fac"
    )
    recent = pairs.filter(
        (pl.col("day") <= pl.col("issued")) & (pl.col("day") > pl.col("issued") - 3 * 365)
    )
    return recent.group_by("row").agg(pl.len().cast(pl.Int64).alias("count"))


def place_block(fmt: Fmt, places: pl.DataFrame, fac: np.ndarray) -> dict[str, pl.Series]:
    """WDID, APP_ID, permit type, board and the PLACE_* block copied from each facility."""
    p = places[fac]
    n = p.height
    gone = fmt.mask(n, 0.03)
    return {
        "WDID": p["wdid"],
        "APP_ID": p["app_id"],
        "PERMIT_TYPE": p["kind"],
        "REGIONAL_BOARD": p["region"],
        "PLACE_NAME": p["name"],
        "PLACE_ADDRESS": fmt.text(p["address"]),
        "PLACE_ADDRESS_2": fmt.text(p["address2"]),
        "PLACE_CITY": fmt.text(p["city"]),
        "PLACE_STATE": pl.Series(["CA"] * n),
        "PLACE_ZIP": fmt.text(p["zip"]),
        "PLACE_LATITUDE": fmt.num(p["lat"].to_numpy(), gone, sig=None, decimals=6),
        "PLACE_LONGITUDE": fmt.num(p["lon"].to_numpy(), gone, sig=None, decimals=6),
        "PLACE_COUNTY": p["county"],
        "PLACE_TOTAL_SIZE": fmt.num(p["size"].to_numpy()),
        "PLACE_TOTAL_SIZE_UNIT": fmt.text(p["size_unit"]),
        "RECEIVING_WATER_NAME": fmt.text(p["water"]),
        "INDIRECTLY": fmt.text(p["indirectly"]),
        "DIRECTLY": fmt.text(p["directly"]),
    }


def _names(fmt: Fmt, n: int, null: float) -> pl.Series:
    """`First Last` names with a share left null."""
    first, last = person_names(fmt.rng, n, vocab.FIRST_NAMES, vocab.LAST_NAMES)
    full = pl.Series(first, dtype=pl.String) + " " + pl.Series(last, dtype=pl.String)
    return fmt.text(full, fmt.mask(n, null))


def inspection_columns(fmt: Fmt, places: pl.DataFrame, rec: Records) -> dict[str, pl.Series]:
    """The inspections file's columns."""
    t = rec.inspections
    n, rng = t.height, fmt.rng
    days = t["day"].to_numpy()
    start = clock(rng, n, 7, 14)
    no_times = fmt.mask(n, 0.75)
    kind = rng.choice(["Regional Board", "Third Party", "State Board"], n, p=[0.75, 0.15, 0.1])
    third = kind == "Third Party"
    county = places["county"].to_numpy()[t["fac"].to_numpy()]
    virtual = np.where(days >= day("2020-04-01"), np.where(rng.random(n) < 0.15, "Y", "N"), "N")
    return {
        **place_block(fmt, places, t["fac"].to_numpy()),
        "INSPECTION_ID": t["id"],
        "INSPECTION_CLASSIFICATION": fmt.choice(
            ["Routine", "Follow-up", "Unannounced", "Announced"], [4, 2, 2, 1], n, null=0.8
        ),
        "INSPECTION_START_TIME": fmt.text(hhmm(start), no_times),
        "INSPECTION_END_TIME": fmt.text(hhmm(start + rng.integers(30, 180, n)), no_times),
        "INSPECTION_STATUS": fmt.choice(
            ["Complete", "In Progress", "Draft"], [0.88, 0.08, 0.04], n
        ),
        "INSPECTION_PURPOSE": fmt.choice(INSPECTION_PURPOSES, INSPECTION_PURPOSE_SHARES, n),
        "INSPECTION_DATE": fmt.date(days),
        "INSPECTION_CONTACT": _names(fmt, n, 0.3),
        "INSPECTOR_TYPE": pl.Series(kind),
        "INSPECTOR_NAME": _names(fmt, n, 0.05),
        "AGENCY_NAME": fmt.text(
            pl.Series(county, dtype=pl.String) + " County Stormwater Program", ~third
        ),
        "AGENCY_INSPECTOR_NAME": fmt.text(_names(fmt, n, 0.0), ~third),
        "FOLLOW_UP_ACTION": fmt.choice(["Y", "N"], [0.3, 0.7], n, null=0.2),
        "GENERAL_NOTES": fmt.free_text(INSPECTION_NOTES, n, null=0.15),
        "VIRTUAL_INSPECTION": fmt.text(virtual, fmt.mask(n, 0.1)),
        "COUNT_OF_VIOLATIONS": fmt.whole(t["violations"].to_numpy()),
        "FINAL_INSP_RPT_UPLOAD_DATE": fmt.date(
            np.minimum(days + rng.integers(3, 60, n), HORIZON), fmt.mask(n, 0.5)
        ),
    }


def _priority(fmt: Fmt, days: np.ndarray) -> pl.Series:
    """Priority 1/2/3; older rows Y/N, and some not ranked."""
    n, rng = len(days), fmt.rng
    ranked = pick(
        ["1", "2", "3", "Not Authorized to Assign Rank"], rng.choice(4, n, p=[0.1, 0.35, 0.5, 0.05])
    )
    legacy = pick(["Y", "N"], rng.choice(2, n, p=[0.3, 0.7]))
    old = pl.Series((days < day("2010-01-01")) & (rng.random(n) < 0.7))
    return legacy.zip_with(old, ranked)


def violation_columns(fmt: Fmt, places: pl.DataFrame, rec: Records) -> dict[str, pl.Series]:
    """The violations file's columns."""
    t = rec.violations
    n, rng = t.height, fmt.rng
    days = t["day"].to_numpy()
    inspected = (t["source"] == "Inspection").to_numpy()
    report_type = rng.choice(len(VIOLATION_TYPES), n, p=REPORT_TYPE_SHARES)
    insp_p = np.asarray(INSPECTION_TYPE_SHARES) / sum(INSPECTION_TYPE_SHARES)
    types = np.where(inspected, rng.choice(len(VIOLATION_TYPES), n, p=insp_p), report_type)
    discovered = np.minimum(
        days + np.where(inspected, rng.integers(0, 15, n), rng.integers(0, 120, n)), HORIZON
    )
    linked = t["linked"].to_numpy()
    return {
        **place_block(fmt, places, t["fac"].to_numpy()),
        "VIOLATION_ID": t["id"],
        "VIOLATION_SOURCE": t["source"],
        "VIOLATION_SOURCE_ID": fmt.text(t["source_id"]),
        "VIOLATION_TYPE": pick(VIOLATION_TYPES, types),
        "SERIOUS_VIOLATION": fmt.choice(["Y", "N"], [0.06, 0.94], n, null=0.2),
        "VIOLATION_PRIORITY": _priority(fmt, days),
        "OCCURRENCE_DATE": fmt.date(days),
        "DISCOVERY_DATE": fmt.date(discovered, fmt.mask(n, 0.4)),
        "DETERMINED_BY": fmt.choice(
            ["Regional Board", "State Board", "Discharger"], [0.7, 0.2, 0.1], n, null=0.05
        ),
        "EXEMPT_FROM_MMP": fmt.choice(["Y", "N"], [0.3, 0.7], n, null=0.3),
        "MEMO": fmt.free_text(VIOLATION_NOTES, n, null=0.5),
        "DESCRIPTION": fmt.free_text(VIOLATION_NOTES, n, null=0.1),
        "VIOLATION_STATUS": fmt.choice(["Violation", "Potential", "Dismissed"], [0.7, 0.2, 0.1], n),
        "LINKED_ENFORCEMENT_ACTION": fmt.text(np.where(linked, "Y", "N"), fmt.mask(n, 0.1)),
    }


def _money(fmt: Fmt, types: np.ndarray, historical: np.ndarray) -> dict[str, pl.Series]:
    """Penalty amounts, present only for penalty-type actions (so mostly null)."""
    n, rng = len(types), fmt.rng
    none = ~np.isin(types, PENALTY_TYPES)
    total = np.round(rng.lognormal(np.log(15000), 1.0, n), -2)
    received = np.where(historical, total, np.round(total * rng.uniform(0, 1, n), -2))

    def cash(x: np.ndarray, extra: float = 0.0) -> pl.Series:
        return fmt.num(x, none | fmt.mask(n, extra), sig=None, decimals=2)

    return {
        "ECONOMIC_BENEFITS": cash(np.round(total * rng.uniform(0.01, 0.3, n)), 0.6),
        "TOTAL_MAX_LIABILITY": cash(total * rng.integers(5, 50, n), 0.2),
        "STAFF_COSTS": cash(np.round(rng.uniform(1500, 25000, n), -1), 0.3),
        "INITIAL_ASSESSMENT": cash(np.round(total * rng.uniform(1.0, 1.5, n), -2)),
        "TOTAL_ASSESSMENT": cash(total),
        "RECEIVED_AMOUNT": cash(received, 0.1),
        "SPENT_AMOUNT": cash(np.round(received * rng.uniform(0, 1, n), -2), 0.8),
        "BALANCE_DUE": cash(total - received, 0.1),
    }


def _enforcement_dates(
    fmt: Fmt, types: np.ndarray, days: np.ndarray, historical: np.ndarray
) -> dict[str, pl.Series]:
    """Due, ACL, adoption, compliance, EPL, payment and waiver dates where they apply."""
    n, rng = len(days), fmt.rng

    def later(low: int, high: int, keep: np.ndarray) -> pl.Series:
        return fmt.date(np.minimum(days + rng.integers(low, high, n), HORIZON), ~keep)

    penalty = np.isin(types, PENALTY_TYPES)
    return {
        "DUE_DATE": later(30, 120, rng.random(n) < 0.4),
        "ACL_COMPLAINT_ISSUANCE_DATE": later(0, 1, types == "ACL Complaint"),
        "ADOPTION_DATE": later(30, 200, np.isin(types, ORDER_TYPES) & (rng.random(n) < 0.7)),
        "COMPLIANCE_DATE": later(20, 400, historical & (rng.random(n) < 0.4)),
        "EPL_ISSUANCE_DATE": later(0, 1, types == "Expedited Payment Letter"),
        "RECEIVED_DATE": later(20, 120, penalty & historical),
        "WAIVER_RECEIVED_DATE": later(10, 60, penalty & (rng.random(n) < 0.3)),
    }


def enforcement_columns(fmt: Fmt, places: pl.DataFrame, rec: Records) -> dict[str, pl.Series]:
    """The enforcement actions file's columns."""
    t = rec.enforcement
    n, rng = t.height, fmt.rng
    days = t["day"].to_numpy()
    types = rng.choice(np.array(ENFORCEMENT_TYPES), n, p=ENFORCEMENT_SHARES)
    old = days < HORIZON - 2 * 365
    status = np.where(
        rng.random(n) < 0.05,
        "Withdrawn",
        np.where(old | (rng.random(n) < 0.3), "Historical", "Active"),
    )
    region = places["region"].to_numpy()[t["fac"].to_numpy()]
    year = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    order = (
        pl.Series(["R"] * n)
        + pl.Series(region, dtype=pl.String)
        + "-"
        + pl.Series(year).cast(pl.String)
        + "-"
        + pl.Series(rng.integers(1, 300, n)).cast(pl.String).str.zfill(4)
    )
    return {
        **place_block(fmt, places, t["fac"].to_numpy()),
        "ENFORCEMENT_ID": t["id"],
        "ENFORCEMENT_TYPE": pl.Series(types),
        "ENFORCEMENT_STATUS": pl.Series(status),
        "ISSUANCE_DATE": fmt.date(days),
        "DESCRIPTION": fmt.free_text(ENFORCEMENT_NOTES, n, null=0.1),
        "CORRECTIVE_ACTION": fmt.free_text(CORRECTIVE_NOTES, n, null=0.3),
        "ORDER_NUMBER": fmt.text(order, ~np.isin(types, ORDER_TYPES)),
        **_money(fmt, types, status == "Historical"),
        **_enforcement_dates(fmt, types, days, status == "Historical"),
        "COUNT_OF_VIOLATIONS": fmt.whole(t["count"].to_numpy()),
    }
