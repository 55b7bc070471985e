"""The SMARTS tables on the platform's PostgreSQL, as the web app's Prisma client reads them.

Table and column names are exactly those of `reference/postgres_tables.md` (camelCase,
so quoted in SQL); constraint and index names follow Prisma's own convention, so the
platform's schema tooling sees the names it would have made. This metadata is what the
Alembic revisions in `migrations/` were generated from and what the sync reads to build
its shadow tables; `esmr_facilities` belongs to the platform and is declared here only
as the target of `facility_links.esmrFacilityId` (never created or dropped by us).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ENUM, JSONB, REAL, TIMESTAMP

#: Prisma's names: `<table>_pkey`, `<table>_<cols>_key`, `<table>_<cols>_idx`, `..._fkey`.
NAMING_CONVENTION = {
    "pk": "%(table_name)s_pkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: The platform's table we reference but never create, alter or drop.
EXTERNAL_TABLES = frozenset({"esmr_facilities"})
#: Where the Alembic revisions of this integration record themselves.
VERSION_TABLE = "smarts_alembic_version"
#: Values of the `link_method` enum (Prisma enum LinkMethod).
LINK_METHODS = ("DIRECT", "FUZZY", "MANUAL", "UNLINKED")
link_method = ENUM(*LINK_METHODS, name="link_method", metadata=metadata, create_type=False)

STAMP = TIMESTAMP(precision=3)
COORDINATE = Numeric(9, 6)
MONEY = Numeric(12, 2)
MEASURE = Numeric(18, 6)
NOW = text("CURRENT_TIMESTAMP")
#: Tables whose rows a weekly sync rewrites keep a tenth of each page free, so an update that
#: leaves the indexed columns alone stays on its page and touches no index (a HOT update):
#: three times faster on the samples table, for 10 % more disk.
ROOM_FOR_UPDATES = {"postgresql_with": {"fillfactor": 90}}


def _text(*names: str, required: bool = False) -> list[Column[Any]]:
    return [Column(n, Text, nullable=not required) for n in names]


def _typed(type_: Any, *names: str) -> list[Column[Any]]:
    return [Column(n, type_) for n in names]


def _id() -> Column[Any]:
    return Column("id", Text, nullable=False)


def _created() -> Column[Any]:
    return Column("createdAt", STAMP, nullable=False, server_default=NOW)


def _updated() -> Column[Any]:
    return Column("updatedAt", STAMP, nullable=False)


def _place() -> list[Column[Any]]:
    """The place block shared by violations, enforcement actions and inspections."""
    return [
        *_text("permitType", "regionalBoard", "placeName", "placeAddress", "placeCity"),
        *_text("placeCounty"),
        *_typed(COORDINATE, "placeLatitude", "placeLongitude"),
    ]


def _indexes(*column_sets: tuple[str, ...]) -> list[Index]:
    """Plain b-tree indexes, named by the convention (`Index(None, ...)`)."""
    return [Index(None, *cols) for cols in column_sets]


esmr_facilities = Table(
    "esmr_facilities",
    metadata,
    Column("facilityPlaceId", Integer, primary_key=True),
    info={"external": True},
)

smarts_facilities = Table(
    "smarts_facilities",
    metadata,
    _id(),
    *_text("wdid", "appId", required=True),
    *_text("permitType", "status"),
    *_typed(Date, "noiProcessedDate", "notEffectiveDate"),
    *_text("region", "county", "facilityName", "facilityAddress", "facilityAddress2"),
    *_text("facilityCity", "facilityState", "facilityZip"),
    *_typed(COORDINATE, "facilityLatitude", "facilityLongitude"),
    Column("facilityTotalSize", MEASURE),
    *_text("facilityTotalSizeUnit", "receivingWaterName"),
    *_typed(Boolean, "indirectlyDischarging", "directlyDischarging"),
    *_text("operatorName", "primarySic", "secondarySic", "tertiarySic"),
    Column("imperviousnessPercent", Integer),
    *_text("ownerName", "developerName"),
    Column("siteDisturbedAcreage", MEASURE),
    *_text("constructionType", "qsdName", "qsdCertNumber"),
    *_text("contactFirstName", "contactLastName", "contactTitle", "contactPhone"),
    *_text("contactEmail"),
    _created(),
    _updated(),
    Column("lastSeenAt", STAMP),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("wdid", "appId"),
    *_indexes(
        ("permitType",),
        ("status",),
        ("region",),
        ("county",),
        ("facilityName",),
        ("primarySic",),
    ),
    **ROOM_FOR_UPDATES,
)

smarts_violations = Table(
    "smarts_violations",
    metadata,
    _id(),
    *_text("wdid", "appId", "violationId", required=True),
    *_text("violationSource", "violationSourceId", "violationType"),
    Column("seriousViolation", Boolean),
    Column("violationPriority", Text),
    *_typed(Date, "occurrenceDate", "discoveryDate"),
    Column("determinedBy", Text),
    Column("exemptFromMmp", Boolean),
    *_text("memo", "description", "violationStatus"),
    Column("linkedEnforcement", Boolean),
    *_place(),
    Column("receivingWaterName", Text),
    _created(),
    _updated(),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("wdid", "appId", "violationId"),
    ForeignKeyConstraint(["wdid", "appId"], ["smarts_facilities.wdid", "smarts_facilities.appId"]),
    *_indexes(
        ("wdid", "appId"),
        ("violationType",),
        ("occurrenceDate",),
        ("violationStatus",),
        ("seriousViolation",),
        ("permitType",),
        ("regionalBoard",),
        ("wdid", "occurrenceDate"),
    ),
    **ROOM_FOR_UPDATES,
)

smarts_enforcement_actions = Table(
    "smarts_enforcement_actions",
    metadata,
    _id(),
    *_text("wdid", "appId", required=True),
    *_text("violationWdid", "violationAppId", "violationId"),
    *_text("enforcementId", required=True),
    *_text("enforcementType", "enforcementStatus"),
    *_typed(Date, "issuanceDate", "dueDate"),
    *_text("description", "correctiveAction", "orderNumber"),
    *_typed(MONEY, "economicBenefits", "totalMaxLiability", "staffCosts", "initialAssessment"),
    *_typed(MONEY, "totalAssessment", "receivedAmount", "spentAmount", "balanceDue"),
    *_typed(Date, "aclComplaintIssuanceDate", "adoptionDate", "complianceDate"),
    *_typed(Date, "eplIssuanceDate", "receivedDate", "waiverReceivedDate"),
    Column("countOfViolations", Integer),
    *_place(),
    _created(),
    _updated(),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("wdid", "appId", "enforcementId"),
    **ROOM_FOR_UPDATES,
)

smarts_inspections = Table(
    "smarts_inspections",
    metadata,
    _id(),
    *_text("wdid", "appId", "inspectionId", required=True),
    Column("inspectionClassification", Text),
    *_typed(Time, "inspectionStartTime", "inspectionEndTime"),
    *_text("inspectionStatus", "inspectionPurpose"),
    Column("inspectionDate", Date),
    *_text("inspectionContact", "inspectorType", "inspectorName", "agencyName"),
    *_text("agencyInspectorName", "followUpAction", "generalNotes"),
    Column("virtualInspection", Boolean),
    Column("countOfViolations", Integer),
    Column("finalInspectionReportUploadDate", Date),
    *_place(),
    _created(),
    _updated(),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("wdid", "appId", "inspectionId"),
    **ROOM_FOR_UPDATES,
)

_LINK_KEY = (
    "inspectionWdid",
    "inspectionAppId",
    "inspectionId",
    "violationWdid",
    "violationAppId",
    "violationId",
)
smarts_inspection_violation_links = Table(
    "smarts_inspection_violation_links",
    metadata,
    _id(),
    *_text(*_LINK_KEY, required=True),
    _created(),
    PrimaryKeyConstraint("id"),
    UniqueConstraint(*_LINK_KEY),
)

smarts_monitoring_reports = Table(
    "smarts_monitoring_reports",
    metadata,
    _id(),
    *_text("wdid", "appId", "reportId", required=True),
    Column("reportYear", Integer),
    Column("eventType", Text),
    *_typed(Date, "eventStartDate", "eventEndDate"),
    Column("rainfallAmount", Numeric(8, 2)),
    Column("businessDays", Integer),
    *_text("monitoringLocationName", "monitoringLocationType", "monitoringLocationDescription"),
    *_typed(COORDINATE, "monitoringLatitude", "monitoringLongitude"),
    Column("certifierName", Text),
    Column("certifiedDate", STAMP),
    Column("permitType", Text),
    _created(),
    _updated(),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("wdid", "appId", "reportId"),
    **ROOM_FOR_UPDATES,
)

smarts_monitoring_samples = Table(
    "smarts_monitoring_samples",
    metadata,
    _id(),
    *_text("reportWdid", "reportAppId", "reportId", "sampleId", required=True),
    Column("sampleDate", Date, nullable=False),
    Column("sampleTime", Time),
    Column("dischargeStartDate", Date),
    Column("dischargeStartTime", Time),
    Column("dischargeEndDate", Date),
    Column("dischargeEndTime", Time),
    Column("percentOfTotalDischarge", Integer),
    *_text("parameter", required=True),
    Column("resultQualifier", Text),
    Column("result", MEASURE),
    *_text("units", "analyticalMethod"),
    *_typed(MEASURE, "mdl", "rl"),
    Column("analyzedBy", Text),
    Column("qsp", Boolean),
    Column("permitType", Text),
    _created(),
    PrimaryKeyConstraint("id"),
    UniqueConstraint(
        "reportWdid", "reportAppId", "reportId", "sampleId", "parameter", "sampleDate"
    ),
    *_indexes(
        ("reportWdid", "reportAppId", "reportId"),
        ("sampleDate",),
        ("parameter",),
        ("reportWdid", "sampleDate", "parameter"),
    ),
    **ROOM_FOR_UPDATES,
)

smarts_import_logs = Table(
    "smarts_import_logs",
    metadata,
    _id(),
    Column("dataType", Text, nullable=False),
    Column("startedAt", STAMP, nullable=False, server_default=NOW),
    Column("completedAt", STAMP),
    Column("status", Text, nullable=False),
    *[
        Column(n, Integer, nullable=False, server_default=text("0"))
        for n in ("recordsProcessed", "recordsCreated", "recordsUpdated", "recordsSkipped")
    ],
    Column("errors", JSONB),
    Column("notes", Text),
    PrimaryKeyConstraint("id"),
    Index(None, "dataType", "startedAt"),
)

facility_links = Table(
    "facility_links",
    metadata,
    _id(),
    Column("esmrFacilityId", Integer, nullable=False),
    *_text("smartsWdid", "smartsAppId", required=True),
    Column("linkMethod", link_method, nullable=False),
    Column("confidence", REAL),
    *_text("notes", "verifiedBy"),
    Column("verifiedAt", STAMP),
    _created(),
    _updated(),
    PrimaryKeyConstraint("id"),
    ForeignKeyConstraint(
        ["esmrFacilityId"], ["esmr_facilities.facilityPlaceId"], ondelete="CASCADE"
    ),
    *_indexes(
        ("esmrFacilityId",),
        ("smartsWdid", "smartsAppId"),
        ("linkMethod", "confidence"),
    ),
)

data_quality_issues = Table(
    "data_quality_issues",
    metadata,
    _id(),
    *_text("table", "recordId", "issue", required=True),
    Column("details", Text),
    Column("resolved", Boolean, nullable=False, server_default=text("false")),
    _created(),
    PrimaryKeyConstraint("id"),
    *_indexes(("table", "issue"), ("resolved",)),
)

#: Bookkeeping of the sync (not read by the web app): per table, the id and content hash of
#: every row written, as Parquet files (a base and the weekly patches on it) cut into parts,
#: and the hash canary of the DuckDB that wrote them — so a weekly sync finds what changed
#: without a hash column in the Prisma tables (`state.py`).
smarts_sync_state = Table(
    "smarts_sync_state",
    metadata,
    Column("table", Text, nullable=False),
    Column("layer", Integer, nullable=False),
    Column("part", Integer, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("hashCanary", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("table", "layer", "part"),
)


def own_tables() -> list[Table]:
    """Every table this integration creates, parents before children."""
    return [t for t in metadata.sorted_tables if t.name not in EXTERNAL_TABLES]
