"""Add the SMARTS tables, their keys and indexes, and the link_method enum.

Only new objects: the platform's tables are not altered. `esmr_facilities` gains a
referencing foreign key from `facility_links` (ON DELETE CASCADE), nothing else.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 01:00:28.529776
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LINK_METHOD = postgresql.ENUM("DIRECT", "FUZZY", "MANUAL", "UNLINKED", name="link_method")
#: Schemas the sync builds its shadow tables in during a full load (empty between runs).
SYNC_SCHEMAS = ("smarts_sync_new", "smarts_sync_old")
#: Children before parents, so each drop leaves no dangling foreign key.
TABLES_CHILDREN_FIRST = (
    "smarts_violations",
    "facility_links",
    "smarts_sync_state",
    "smarts_monitoring_samples",
    "smarts_monitoring_reports",
    "smarts_inspections",
    "smarts_inspection_violation_links",
    "smarts_import_logs",
    "smarts_facilities",
    "smarts_enforcement_actions",
    "data_quality_issues",
)


def upgrade() -> None:
    LINK_METHOD.create(op.get_bind())
    op.create_table(
        "data_quality_issues",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("table", sa.Text(), nullable=False),
        sa.Column("recordId", sa.Text(), nullable=False),
        sa.Column("issue", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("resolved", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "createdAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("data_quality_issues_pkey")),
    )
    op.create_index(
        op.f("data_quality_issues_resolved_idx"), "data_quality_issues", ["resolved"], unique=False
    )
    op.create_index(
        op.f("data_quality_issues_table_issue_idx"),
        "data_quality_issues",
        ["table", "issue"],
        unique=False,
    )
    op.create_table(
        "smarts_enforcement_actions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("wdid", sa.Text(), nullable=False),
        sa.Column("appId", sa.Text(), nullable=False),
        sa.Column("violationWdid", sa.Text(), nullable=True),
        sa.Column("violationAppId", sa.Text(), nullable=True),
        sa.Column("violationId", sa.Text(), nullable=True),
        sa.Column("enforcementId", sa.Text(), nullable=False),
        sa.Column("enforcementType", sa.Text(), nullable=True),
        sa.Column("enforcementStatus", sa.Text(), nullable=True),
        sa.Column("issuanceDate", sa.Date(), nullable=True),
        sa.Column("dueDate", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("correctiveAction", sa.Text(), nullable=True),
        sa.Column("orderNumber", sa.Text(), nullable=True),
        sa.Column("economicBenefits", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("totalMaxLiability", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("staffCosts", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("initialAssessment", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("totalAssessment", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("receivedAmount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("spentAmount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("balanceDue", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("aclComplaintIssuanceDate", sa.Date(), nullable=True),
        sa.Column("adoptionDate", sa.Date(), nullable=True),
        sa.Column("complianceDate", sa.Date(), nullable=True),
        sa.Column("eplIssuanceDate", sa.Date(), nullable=True),
        sa.Column("receivedDate", sa.Date(), nullable=True),
        sa.Column("waiverReceivedDate", sa.Date(), nullable=True),
        sa.Column("countOfViolations", sa.Integer(), nullable=True),
        sa.Column("permitType", sa.Text(), nullable=True),
        sa.Column("regionalBoard", sa.Text(), nullable=True),
        sa.Column("placeName", sa.Text(), nullable=True),
        sa.Column("placeAddress", sa.Text(), nullable=True),
        sa.Column("placeCity", sa.Text(), nullable=True),
        sa.Column("placeCounty", sa.Text(), nullable=True),
        sa.Column("placeLatitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("placeLongitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column(
            "createdAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("updatedAt", postgresql.TIMESTAMP(precision=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("smarts_enforcement_actions_pkey")),
        sa.UniqueConstraint(
            "wdid",
            "appId",
            "enforcementId",
            name=op.f("smarts_enforcement_actions_wdid_appId_enforcementId_key"),
        ),
        postgresql_with={"fillfactor": 90},
    )
    op.create_table(
        "smarts_facilities",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("wdid", sa.Text(), nullable=False),
        sa.Column("appId", sa.Text(), nullable=False),
        sa.Column("permitType", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("noiProcessedDate", sa.Date(), nullable=True),
        sa.Column("notEffectiveDate", sa.Date(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("county", sa.Text(), nullable=True),
        sa.Column("facilityName", sa.Text(), nullable=True),
        sa.Column("facilityAddress", sa.Text(), nullable=True),
        sa.Column("facilityAddress2", sa.Text(), nullable=True),
        sa.Column("facilityCity", sa.Text(), nullable=True),
        sa.Column("facilityState", sa.Text(), nullable=True),
        sa.Column("facilityZip", sa.Text(), nullable=True),
        sa.Column("facilityLatitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("facilityLongitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("facilityTotalSize", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("facilityTotalSizeUnit", sa.Text(), nullable=True),
        sa.Column("receivingWaterName", sa.Text(), nullable=True),
        sa.Column("indirectlyDischarging", sa.Boolean(), nullable=True),
        sa.Column("directlyDischarging", sa.Boolean(), nullable=True),
        sa.Column("operatorName", sa.Text(), nullable=True),
        sa.Column("primarySic", sa.Text(), nullable=True),
        sa.Column("secondarySic", sa.Text(), nullable=True),
        sa.Column("tertiarySic", sa.Text(), nullable=True),
        sa.Column("imperviousnessPercent", sa.Integer(), nullable=True),
        sa.Column("ownerName", sa.Text(), nullable=True),
        sa.Column("developerName", sa.Text(), nullable=True),
        sa.Column("siteDisturbedAcreage", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("constructionType", sa.Text(), nullable=True),
        sa.Column("qsdName", sa.Text(), nullable=True),
        sa.Column("qsdCertNumber", sa.Text(), nullable=True),
        sa.Column("contactFirstName", sa.Text(), nullable=True),
        sa.Column("contactLastName", sa.Text(), nullable=True),
        sa.Column("contactTitle", sa.Text(), nullable=True),
        sa.Column("contactPhone", sa.Text(), nullable=True),
        sa.Column("contactEmail", sa.Text(), nullable=True),
        sa.Column(
            "createdAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("updatedAt", postgresql.TIMESTAMP(precision=3), nullable=False),
        sa.Column("lastSeenAt", postgresql.TIMESTAMP(precision=3), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("smarts_facilities_pkey")),
        sa.UniqueConstraint("wdid", "appId", name=op.f("smarts_facilities_wdid_appId_key")),
        postgresql_with={"fillfactor": 90},
    )
    op.create_index(
        op.f("smarts_facilities_county_idx"), "smarts_facilities", ["county"], unique=False
    )
    op.create_index(
        op.f("smarts_facilities_facilityName_idx"),
        "smarts_facilities",
        ["facilityName"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_facilities_permitType_idx"), "smarts_facilities", ["permitType"], unique=False
    )
    op.create_index(
        op.f("smarts_facilities_primarySic_idx"), "smarts_facilities", ["primarySic"], unique=False
    )
    op.create_index(
        op.f("smarts_facilities_region_idx"), "smarts_facilities", ["region"], unique=False
    )
    op.create_index(
        op.f("smarts_facilities_status_idx"), "smarts_facilities", ["status"], unique=False
    )
    op.create_table(
        "smarts_import_logs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("dataType", sa.Text(), nullable=False),
        sa.Column(
            "startedAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("completedAt", postgresql.TIMESTAMP(precision=3), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("recordsProcessed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("recordsCreated", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("recordsUpdated", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("recordsSkipped", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("smarts_import_logs_pkey")),
    )
    op.create_index(
        op.f("smarts_import_logs_dataType_startedAt_idx"),
        "smarts_import_logs",
        ["dataType", "startedAt"],
        unique=False,
    )
    op.create_table(
        "smarts_inspection_violation_links",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("inspectionWdid", sa.Text(), nullable=False),
        sa.Column("inspectionAppId", sa.Text(), nullable=False),
        sa.Column("inspectionId", sa.Text(), nullable=False),
        sa.Column("violationWdid", sa.Text(), nullable=False),
        sa.Column("violationAppId", sa.Text(), nullable=False),
        sa.Column("violationId", sa.Text(), nullable=False),
        sa.Column(
            "createdAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("smarts_inspection_violation_links_pkey")),
        sa.UniqueConstraint(
            "inspectionWdid",
            "inspectionAppId",
            "inspectionId",
            "violationWdid",
            "violationAppId",
            "violationId",
            name=op.f(
                "smarts_inspection_violation_links_inspectionWdid_inspectionAppId_inspectionId_violationWdid_violationAppId_violationId_key"
            ),
        ),
    )
    op.create_table(
        "smarts_inspections",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("wdid", sa.Text(), nullable=False),
        sa.Column("appId", sa.Text(), nullable=False),
        sa.Column("inspectionId", sa.Text(), nullable=False),
        sa.Column("inspectionClassification", sa.Text(), nullable=True),
        sa.Column("inspectionStartTime", sa.Time(), nullable=True),
        sa.Column("inspectionEndTime", sa.Time(), nullable=True),
        sa.Column("inspectionStatus", sa.Text(), nullable=True),
        sa.Column("inspectionPurpose", sa.Text(), nullable=True),
        sa.Column("inspectionDate", sa.Date(), nullable=True),
        sa.Column("inspectionContact", sa.Text(), nullable=True),
        sa.Column("inspectorType", sa.Text(), nullable=True),
        sa.Column("inspectorName", sa.Text(), nullable=True),
        sa.Column("agencyName", sa.Text(), nullable=True),
        sa.Column("agencyInspectorName", sa.Text(), nullable=True),
        sa.Column("followUpAction", sa.Text(), nullable=True),
        sa.Column("generalNotes", sa.Text(), nullable=True),
        sa.Column("virtualInspection", sa.Boolean(), nullable=True),
        sa.Column("countOfViolations", sa.Integer(), nullable=True),
        sa.Column("finalInspectionReportUploadDate", sa.Date(), nullable=True),
        sa.Column("permitType", sa.Text(), nullable=True),
        sa.Column("regionalBoard", sa.Text(), nullable=True),
        sa.Column("placeName", sa.Text(), nullable=True),
        sa.Column("placeAddress", sa.Text(), nullable=True),
        sa.Column("placeCity", sa.Text(), nullable=True),
        sa.Column("placeCounty", sa.Text(), nullable=True),
        sa.Column("placeLatitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("placeLongitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column(
            "createdAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("updatedAt", postgresql.TIMESTAMP(precision=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("smarts_inspections_pkey")),
        sa.UniqueConstraint(
            "wdid",
            "appId",
            "inspectionId",
            name=op.f("smarts_inspections_wdid_appId_inspectionId_key"),
        ),
        postgresql_with={"fillfactor": 90},
    )
    op.create_table(
        "smarts_monitoring_reports",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("wdid", sa.Text(), nullable=False),
        sa.Column("appId", sa.Text(), nullable=False),
        sa.Column("reportId", sa.Text(), nullable=False),
        sa.Column("reportYear", sa.Integer(), nullable=True),
        sa.Column("eventType", sa.Text(), nullable=True),
        sa.Column("eventStartDate", sa.Date(), nullable=True),
        sa.Column("eventEndDate", sa.Date(), nullable=True),
        sa.Column("rainfallAmount", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("businessDays", sa.Integer(), nullable=True),
        sa.Column("monitoringLocationName", sa.Text(), nullable=True),
        sa.Column("monitoringLocationType", sa.Text(), nullable=True),
        sa.Column("monitoringLocationDescription", sa.Text(), nullable=True),
        sa.Column("monitoringLatitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("monitoringLongitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("certifierName", sa.Text(), nullable=True),
        sa.Column("certifiedDate", postgresql.TIMESTAMP(precision=3), nullable=True),
        sa.Column("permitType", sa.Text(), nullable=True),
        sa.Column(
            "createdAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("updatedAt", postgresql.TIMESTAMP(precision=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("smarts_monitoring_reports_pkey")),
        sa.UniqueConstraint(
            "wdid",
            "appId",
            "reportId",
            name=op.f("smarts_monitoring_reports_wdid_appId_reportId_key"),
        ),
        postgresql_with={"fillfactor": 90},
    )
    op.create_table(
        "smarts_monitoring_samples",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("reportWdid", sa.Text(), nullable=False),
        sa.Column("reportAppId", sa.Text(), nullable=False),
        sa.Column("reportId", sa.Text(), nullable=False),
        sa.Column("sampleId", sa.Text(), nullable=False),
        sa.Column("sampleDate", sa.Date(), nullable=False),
        sa.Column("sampleTime", sa.Time(), nullable=True),
        sa.Column("dischargeStartDate", sa.Date(), nullable=True),
        sa.Column("dischargeStartTime", sa.Time(), nullable=True),
        sa.Column("dischargeEndDate", sa.Date(), nullable=True),
        sa.Column("dischargeEndTime", sa.Time(), nullable=True),
        sa.Column("percentOfTotalDischarge", sa.Integer(), nullable=True),
        sa.Column("parameter", sa.Text(), nullable=False),
        sa.Column("resultQualifier", sa.Text(), nullable=True),
        sa.Column("result", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("units", sa.Text(), nullable=True),
        sa.Column("analyticalMethod", sa.Text(), nullable=True),
        sa.Column("mdl", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("rl", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("analyzedBy", sa.Text(), nullable=True),
        sa.Column("qsp", sa.Boolean(), nullable=True),
        sa.Column("permitType", sa.Text(), nullable=True),
        sa.Column(
            "createdAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("smarts_monitoring_samples_pkey")),
        sa.UniqueConstraint(
            "reportWdid",
            "reportAppId",
            "reportId",
            "sampleId",
            "parameter",
            "sampleDate",
            name=op.f(
                "smarts_monitoring_samples_reportWdid_reportAppId_reportId_sampleId_parameter_sampleDate_key"
            ),
        ),
        postgresql_with={"fillfactor": 90},
    )
    op.create_index(
        op.f("smarts_monitoring_samples_parameter_idx"),
        "smarts_monitoring_samples",
        ["parameter"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_monitoring_samples_reportWdid_reportAppId_reportId_idx"),
        "smarts_monitoring_samples",
        ["reportWdid", "reportAppId", "reportId"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_monitoring_samples_reportWdid_sampleDate_parameter_idx"),
        "smarts_monitoring_samples",
        ["reportWdid", "sampleDate", "parameter"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_monitoring_samples_sampleDate_idx"),
        "smarts_monitoring_samples",
        ["sampleDate"],
        unique=False,
    )
    op.create_table(
        "smarts_sync_state",
        sa.Column("table", sa.Text(), nullable=False),
        sa.Column("layer", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("hashCanary", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("table", "layer", "part", name=op.f("smarts_sync_state_pkey")),
    )
    op.create_table(
        "facility_links",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("esmrFacilityId", sa.Integer(), nullable=False),
        sa.Column("smartsWdid", sa.Text(), nullable=False),
        sa.Column("smartsAppId", sa.Text(), nullable=False),
        sa.Column(
            "linkMethod",
            postgresql.ENUM(
                "DIRECT", "FUZZY", "MANUAL", "UNLINKED", name="link_method", create_type=False
            ),
            nullable=False,
        ),
        sa.Column("confidence", sa.REAL(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("verifiedBy", sa.Text(), nullable=True),
        sa.Column("verifiedAt", postgresql.TIMESTAMP(precision=3), nullable=True),
        sa.Column(
            "createdAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("updatedAt", postgresql.TIMESTAMP(precision=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["esmrFacilityId"],
            ["esmr_facilities.facilityPlaceId"],
            name=op.f("facility_links_esmrFacilityId_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("facility_links_pkey")),
    )
    op.create_index(
        op.f("facility_links_esmrFacilityId_idx"),
        "facility_links",
        ["esmrFacilityId"],
        unique=False,
    )
    op.create_index(
        op.f("facility_links_linkMethod_confidence_idx"),
        "facility_links",
        ["linkMethod", "confidence"],
        unique=False,
    )
    op.create_index(
        op.f("facility_links_smartsWdid_smartsAppId_idx"),
        "facility_links",
        ["smartsWdid", "smartsAppId"],
        unique=False,
    )
    op.create_table(
        "smarts_violations",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("wdid", sa.Text(), nullable=False),
        sa.Column("appId", sa.Text(), nullable=False),
        sa.Column("violationId", sa.Text(), nullable=False),
        sa.Column("violationSource", sa.Text(), nullable=True),
        sa.Column("violationSourceId", sa.Text(), nullable=True),
        sa.Column("violationType", sa.Text(), nullable=True),
        sa.Column("seriousViolation", sa.Boolean(), nullable=True),
        sa.Column("violationPriority", sa.Text(), nullable=True),
        sa.Column("occurrenceDate", sa.Date(), nullable=True),
        sa.Column("discoveryDate", sa.Date(), nullable=True),
        sa.Column("determinedBy", sa.Text(), nullable=True),
        sa.Column("exemptFromMmp", sa.Boolean(), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("violationStatus", sa.Text(), nullable=True),
        sa.Column("linkedEnforcement", sa.Boolean(), nullable=True),
        sa.Column("permitType", sa.Text(), nullable=True),
        sa.Column("regionalBoard", sa.Text(), nullable=True),
        sa.Column("placeName", sa.Text(), nullable=True),
        sa.Column("placeAddress", sa.Text(), nullable=True),
        sa.Column("placeCity", sa.Text(), nullable=True),
        sa.Column("placeCounty", sa.Text(), nullable=True),
        sa.Column("placeLatitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("placeLongitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("receivingWaterName", sa.Text(), nullable=True),
        sa.Column(
            "createdAt",
            postgresql.TIMESTAMP(precision=3),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("updatedAt", postgresql.TIMESTAMP(precision=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["wdid", "appId"],
            ["smarts_facilities.wdid", "smarts_facilities.appId"],
            name=op.f("smarts_violations_wdid_appId_fkey"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("smarts_violations_pkey")),
        sa.UniqueConstraint(
            "wdid",
            "appId",
            "violationId",
            name=op.f("smarts_violations_wdid_appId_violationId_key"),
        ),
        postgresql_with={"fillfactor": 90},
    )
    op.create_index(
        op.f("smarts_violations_occurrenceDate_idx"),
        "smarts_violations",
        ["occurrenceDate"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_violations_permitType_idx"), "smarts_violations", ["permitType"], unique=False
    )
    op.create_index(
        op.f("smarts_violations_regionalBoard_idx"),
        "smarts_violations",
        ["regionalBoard"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_violations_seriousViolation_idx"),
        "smarts_violations",
        ["seriousViolation"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_violations_violationStatus_idx"),
        "smarts_violations",
        ["violationStatus"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_violations_violationType_idx"),
        "smarts_violations",
        ["violationType"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_violations_wdid_appId_idx"),
        "smarts_violations",
        ["wdid", "appId"],
        unique=False,
    )
    op.create_index(
        op.f("smarts_violations_wdid_occurrenceDate_idx"),
        "smarts_violations",
        ["wdid", "occurrenceDate"],
        unique=False,
    )


def downgrade() -> None:
    for schema in SYNC_SCHEMAS:
        op.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    for table in TABLES_CHILDREN_FIRST:
        op.drop_table(table)
    LINK_METHOD.drop(op.get_bind())
