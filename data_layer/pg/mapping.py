"""Where every column of the SMARTS tables comes from in the store, as data.

A Postgres column is read from the same-named snake_case column of its source relation
(`appId` ← `app_id`), so only the exceptions are listed here; the column lists themselves
are the contract's (`data_layer/datasets.py`, through the staging views) and the
schema's (`schema.py`). Resolution is strict: a column that is neither found by name nor
listed for a source is an error, so a renamed store column cannot silently load as empty
(`None` below says "this source has no such value").

Types are converted by the target column's type (`shaping.py`); values that do not convert
load as NULL and are reported to `data_quality_issues`, like rows that cannot be written
(a missing required value, an unknown referenced row, a second row with one key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from data_layer.connection import staging_view
from data_layer.datasets import DATASETS, dataset

#: Filled by the sync itself, never read from a source.
ID, CREATED, UPDATED = "id", "createdAt", "updatedAt"
SYNC_COLUMNS = (ID, CREATED, UPDATED)


@dataclass(frozen=True)
class Coalesce:
    """The first non-null of several source columns."""

    columns: tuple[str, ...]


@dataclass(frozen=True)
class Joined:
    """Non-null source values joined by a space (NULL when all are null)."""

    columns: tuple[str, ...]


@dataclass(frozen=True)
class Present:
    """True when the source column has a value, else false."""

    column: str


@dataclass(frozen=True)
class Recoded:
    """A source column's values recoded through a fixed table (others become NULL)."""

    column: str
    values: Mapping[str, str]


@dataclass(frozen=True)
class Constant:
    """The same value for every row."""

    value: bool


@dataclass(frozen=True)
class SourceDate:
    """When the export holding the row was last modified (its store version's source date)."""

    dataset: str


Expr = str | None | Coalesce | Joined | Present | Recoded | Constant | SourceDate


@dataclass(frozen=True)
class Source:
    """One relation feeding a table: a dataset's staging view or an `int_` model.

    `where`: keep rows whose column equals a value. `may_share_key`: whether a row may share
    its key with another (True, False, or the store column flagging such rows, as the
    loader's `duplicate_sample` does); of rows sharing a key one is written, the same
    every run, and the others become findings. False where the relation is unique by key.
    """

    relation: str
    columns: Mapping[str, Expr] = field(default_factory=dict)
    where: tuple[str, str] | None = None
    may_share_key: str | bool = True


@dataclass(frozen=True)
class Reference:
    """Rows whose `columns` name no row of `table` (by `target`) are not written."""

    columns: tuple[str, ...]
    table: str
    target: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """A data-quality finding raised for rows where any of `columns` is null (row still written)."""

    issue: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class TableMap:
    """One synced table: its sources, the key its id is hashed from, and how removals go.

    `swap`: rebuilt in a shadow table and swapped in on a full sync (else always written
    row by row). `on_remove`: "delete" the row, or "resolve" it (findings keep their history).
    """

    table: str
    sources: tuple[Source, ...]
    key: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    checks: tuple[Check, ...] = ()
    swap: bool = True
    on_remove: str = "delete"


#: The datasets the SMARTS tables are built from: all must be published before a sync.
SOURCE_DATASETS: tuple[str, ...] = tuple(
    d.name for d in DATASETS if staging_view(d).startswith("stg_smarts__")
)


def stg(name: str) -> str:
    """The staging view of dataset `name` (validated against the contract)."""
    return staging_view(dataset(name))


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(column: str) -> str:
    """`noiProcessedDate` → `noi_processed_date`: the store name a column defaults to."""
    return _CAMEL.sub("_", column).lower()


_INDUSTRIAL_CONTACT = {
    "contactFirstName": "facility_contact_first_name",
    "contactLastName": "facility_contact_last_name",
    "contactTitle": "facility_title",
    "contactPhone": "facility_phone",
    "contactEmail": "facility_email",
}
_CONSTRUCTION_SITE = {
    "facilityName": "site_name",
    "facilityAddress": "site_address",
    "facilityAddress2": "site_address_2",
    "facilityCity": "site_city",
    "facilityState": "site_state",
    "facilityZip": "site_zip",
    "facilityLatitude": "site_latitude",
    "facilityLongitude": "site_longitude",
    "facilityTotalSize": "site_total_size",
    "facilityTotalSizeUnit": "site_total_size_unit",
    "contactFirstName": "site_contact_first_name",
    "contactLastName": "site_contact_last_name",
    "contactTitle": "site_title",
    "contactPhone": "site_phone",
    "contactEmail": "site_email",
}
_DISCHARGE = {"indirectlyDischarging": "indirectly", "directlyDischarging": "directly"}
_NO_CONSTRUCTION_FIELDS = dict.fromkeys(
    (
        "ownerName",
        "developerName",
        "siteDisturbedAcreage",
        "constructionType",
        "qsdName",
        "qsdCertNumber",
    )
)
_NO_INDUSTRIAL_FIELDS = dict.fromkeys(("operatorName", "primarySic", "secondarySic", "tertiarySic"))
_REPORT_KEY = {"reportWdid": "wdid", "reportAppId": "app_id"}

FACILITIES = TableMap(
    "smarts_facilities",
    sources=(
        Source(
            stg("industrial_facilities"),
            {
                "county": Coalesce(("facility_county", "county")),
                "facilityAddress2": "facility_address_2",
                "imperviousnessPercent": "percent_of_site_imperviousness",
                "lastSeenAt": SourceDate("industrial_facilities"),
                **_DISCHARGE,
                **_INDUSTRIAL_CONTACT,
                **_NO_CONSTRUCTION_FIELDS,
            },
        ),
        Source(
            stg("construction_facilities"),
            {
                "county": Coalesce(("site_county", "county")),
                "imperviousnessPercent": "imperviousness_after",
                "siteDisturbedAcreage": "site_total_disturbed_acreage",
                "constructionType": "type_of_construction",
                "qsdName": Joined(("qsd_first_name", "qsd_last_name")),
                "qsdCertNumber": "qsd_certification_number",
                "lastSeenAt": SourceDate("construction_facilities"),
                **_DISCHARGE,
                **_CONSTRUCTION_SITE,
                **_NO_INDUSTRIAL_FIELDS,
            },
        ),
    ),
    checks=(Check("MISSING_COORDS", ("facilityLatitude", "facilityLongitude")),),
)

VIOLATIONS = TableMap(
    "smarts_violations",
    sources=(Source(stg("violations"), {"linkedEnforcement": "linked_enforcement_action"}),),
)

ENFORCEMENT_ACTIONS = TableMap(
    "smarts_enforcement_actions",
    # the export names no violation for an action: the optional link stays empty
    sources=(
        Source(
            stg("enforcement_actions"),
            dict.fromkeys(("violationWdid", "violationAppId", "violationId")),
        ),
    ),
)

INSPECTIONS = TableMap(
    "smarts_inspections",
    sources=(
        Source(
            stg("inspections"),
            {"finalInspectionReportUploadDate": "final_insp_rpt_upload_date"},
        ),
    ),
)

INSPECTION_VIOLATION_LINKS = TableMap(
    "smarts_inspection_violation_links",
    # one row per violation by construction
    sources=(Source("int_inspection_violation_links", may_share_key=False),),
    references=(Reference(("inspectionId",), "smarts_inspections", ("inspectionId",)),),
)

MONITORING_REPORTS = TableMap(
    "smarts_monitoring_reports",
    # one row per report key by construction (the model groups by it)
    sources=(Source("int_monitoring_reports", may_share_key=False),),
)

MONITORING_SAMPLES = TableMap(
    "smarts_monitoring_samples",
    sources=(
        Source(
            stg("industrial_monitoring"),
            {**_REPORT_KEY, **dict.fromkeys(("percentOfTotalDischarge", "analyzedBy", "qsp"))},
            may_share_key="duplicate_sample",
        ),
        Source(
            stg("construction_monitoring"),
            {
                **_REPORT_KEY,
                **dict.fromkeys(("dischargeStartDate", "dischargeStartTime")),
                **dict.fromkeys(("dischargeEndDate", "dischargeEndTime")),
                "qsp": Present("qsp"),
            },
            may_share_key="duplicate_sample",
        ),
    ),
)

#: The relation the sync registers the current link set under (matching's LINK_SCHEMA).
LINKS_RELATION = "sync_current_links"
FACILITY_LINKS = TableMap(
    "facility_links",
    sources=(
        Source(
            LINKS_RELATION,
            {
                "esmrFacilityId": "facility_place_id",
                "smartsWdid": "wdid",
                "smartsAppId": "app_id",
                "linkMethod": Recoded("method", {"auto": "FUZZY", "manual": "MANUAL"}),
                "confidence": "score",
                "notes": "note",
                "verifiedBy": "reviewer",
                "verifiedAt": "decided_at",
            },
            where=("status", "linked"),
        ),
    ),
    key=("esmrFacilityId", "smartsWdid", "smartsAppId"),
    swap=False,
)

#: The relation the sync gathers every finding in (`findings.py`).
FINDINGS_RELATION = "sync_findings"
DATA_QUALITY_ISSUES = TableMap(
    "data_quality_issues",
    sources=(Source(FINDINGS_RELATION, {"recordId": "record_id", "resolved": Constant(False)}),),
    key=("table", "recordId", "issue"),
    swap=False,
    on_remove="resolve",
)

#: Every synced table in the order they are written: a table after those it refers to,
#: the findings last (they gather what the others found).
TABLE_MAPS: tuple[TableMap, ...] = (
    FACILITIES,
    VIOLATIONS,
    ENFORCEMENT_ACTIONS,
    INSPECTIONS,
    INSPECTION_VIOLATION_LINKS,
    MONITORING_REPORTS,
    MONITORING_SAMPLES,
    FACILITY_LINKS,
    DATA_QUALITY_ISSUES,
)


def table_map(name: str) -> TableMap:
    """The mapping of table `name`."""
    for tmap in TABLE_MAPS:
        if tmap.table == name:
            return tmap
    raise KeyError(f"no mapping for table {name!r}")
