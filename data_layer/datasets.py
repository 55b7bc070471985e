"""The dataset contract: one row of plain data per dataset (DESIGN §5).

Loaders, staging views, `status`, the bench and the tests all loop over `DATASETS`;
adding a column or a dataset is a change here, not a new code path. Column blocks
list each source header (as in the portal's data dictionary, in file order) and the
type it is stored as; the store name is the snake_case header unless a derived
column of the same name takes it, in which case the source column is stored as
`source_<name>` (for example the export's own REPORTING_YEAR next to the
July–June `reporting_year` computed from the sample date).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Spellings of "no value" in the exports.
NULL_TOKENS: tuple[str, ...] = ("", "NA", "NaN", "N/A", "NULL", "null", "nan", "n/a")

#: Date spellings seen in the exports, tried in order (DuckDB strptime formats).
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%d-%b-%y %I.%M.%S.%f %p",
    "%d-%b-%Y",
    "%Y/%m/%d",
)

#: Spellings of true and false in Y/N flag columns (compared upper-cased).
TRUE_TOKENS: tuple[str, ...] = ("Y", "YES", "TRUE", "T", "1")
FALSE_TOKENS: tuple[str, ...] = ("N", "NO", "FALSE", "F", "0")

#: Regional Water Board codes, as written in SMARTS (DESIGN §5, dictionaries).
REGION_CODES: tuple[str, ...] = (
    "1",
    "2",
    "3",
    "4",
    "5F",
    "5R",
    "5S",
    "6A",
    "6B",
    "7",
    "8",
    "9",
)

#: Store types and the DuckDB type each is written as.
TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "int": "INTEGER",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True)
class Column:
    """One source column: its header in the export, its store name and type."""

    source: str
    name: str
    type: str


@dataclass(frozen=True)
class Derived:
    """A column computed while loading; `rule` names the loader's recipe, `source` its input.

    Rules: `region_code` (a board column), `region_from_wdid`, `reporting_year` (July–June,
    labelled by its start year), `source_year` (the year of the per-year source file),
    `parameter` / `units` (canonical spellings, data_layer/parameters.py) and
    `duplicate_sample` (set when two differing samples share a key).
    """

    name: str
    type: str
    rule: str
    source: str


@dataclass(frozen=True)
class Dataset:
    """One dataset of the store: where it comes from, its columns, keys and layout."""

    name: str
    title: str
    resource_pattern: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    kind: str
    sort: tuple[str, ...] = ()
    partition: str | None = None
    derived: tuple[Derived, ...] = ()
    feature_flag: str | None = None
    per_year_sources: bool = False
    also_required: tuple[str, ...] = ()
    nd_check: tuple[str, str] | None = None

    @property
    def required(self) -> tuple[str, ...]:
        """Store names of the columns a row cannot be kept without: the key and `also_required`."""
        return self.key + self.also_required

    @property
    def column_names(self) -> tuple[str, ...]:
        """Store names of the source columns, in file order."""
        return tuple(c.name for c in self.columns)

    @property
    def all_names(self) -> tuple[str, ...]:
        """Store names of every column a published version holds."""
        return self.column_names + tuple(d.name for d in self.derived)

    def column(self, name: str) -> Column:
        """The source column stored as `name`."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def key_sources(self) -> tuple[str, ...]:
        """Source headers of the required columns: a file without them cannot load."""
        return tuple(self.column(k).source for k in self.required)


def _columns(block: str, derived: tuple[Derived, ...] = ()) -> tuple[Column, ...]:
    """Parse a `HEADER type` block into columns, renaming any that clash with a derived name."""
    taken = {d.name for d in derived}
    cols = []
    for line in block.strip().splitlines():
        header, type_ = line.split()
        if type_ not in TYPES:
            raise ValueError(f"unknown type {type_!r} for {header}")
        name = header.lower()
        cols.append(Column(header, f"source_{name}" if name in taken else name, type_))
    return tuple(cols)


INDUSTRIAL_FACILITIES = """
PERMIT_TYPE text
APP_ID text
WDID text
STATUS text
NOI_PROCESSED_DATE date
NOT_EFFECTIVE_DATE date
REGION_BOARD text
COUNTY text
OPERATOR_NAME text
FACILITY_NAME text
FACILITY_ADDRESS text
FACILITY_ADDRESS_2 text
FACILITY_CITY text
FACILITY_STATE text
FACILITY_ZIP text
FACILITY_LATITUDE double
FACILITY_LONGITUDE double
FACILITY_COUNTY text
FACILITY_CONTACT_FIRST_NAME text
FACILITY_CONTACT_LAST_NAME text
FACILITY_TITLE text
FACILITY_PHONE text
FACILITY_EMAIL text
FACILITY_TOTAL_SIZE double
FACILITY_TOTAL_SIZE_UNIT text
FACILITY_AREA_ACTIVITY double
FACILITY_AREA_ACTIVITY_UNIT text
PERCENT_OF_SITE_IMPERVIOUSNESS double
PRIMARY_SIC text
SECONDARY_SIC text
TERTIARY_SIC text
RECEIVING_WATER_NAME text
INDIRECTLY bool
DIRECTLY bool
CERTIFIER_BY text
CERTIFIER_TITLE text
CERTIFICATION_DATE timestamp
QUESTION_TMDL_ANSWER bool
"""

CONSTRUCTION_FACILITIES = """
PERMIT_TYPE text
APP_ID text
WDID text
STATUS text
NOI_PROCESSED_DATE date
NOT_EFFECTIVE_DATE date
REGION text
COUNTY text
OWNER_NAME text
DEVELOPER_NAME text
DEVELOPER_ADDRESS text
DEVELOPER_ADDRESS_2 text
DEVELOPER_CITY text
DEVELOPER_STATE text
DEVELOPER_ZIP text
DEVELOPER_CONTACT_FIRST_NAME text
DEVELOPER_CONTACT_LAST_NAME text
DEVELOPER_TITLE text
DEVELOPER_PHONE text
DEVELOPER_EMAIL text
SITE_NAME text
SITE_ADDRESS text
SITE_ADDRESS_2 text
SITE_CITY text
SITE_STATE text
SITE_ZIP text
SITE_LATITUDE double
SITE_LONGITUDE double
SITE_COUNTY text
SITE_CONTACT_FIRST_NAME text
SITE_CONTACT_LAST_NAME text
SITE_TITLE text
SITE_PHONE text
SITE_EMAIL text
SITE_TOTAL_SIZE double
SITE_TOTAL_SIZE_UNIT text
SITE_TOTAL_DISTURBED_ACREAGE double
TOTAL_DISTURBED_ACREAGE_UNIT text
PERCENT_TOTAL_DISTURBED double
IMPERVIOUSNESS_BEFORE double
IMPERVIOUSNESS_AFTER double
TRACT_NUMBERS text
MILE_POST_MARKER text
PART_OF_A_LARGER_COMMON_PLAN text
NAME_OF_PLAN_OR_DEVELOPMENT text
CONSTRUCTION_COMMENCEMENT_DATE date
COMPLETE_GRADING_DATE date
COMPLETE_PROJECT_DATE date
TYPE_OF_CONSTRUCTION text
CONSTRUCTION_RESIDENTIAL bool
CONSTRUCTION_COMMERTIAL bool
CONSTRUCTION_INDUSTRIAL bool
CONSTRUCTION_RECONSTRUCTION bool
CONSTRUCTION_TRANSPORTATION bool
TYPE_OF_CONSTRUCTION_UTILITY bool
CONSTRUCTION_OTHER bool
CONSTRUCTION_OTHER_DESRIPTION text
CONSTRUCTION_ABOVE_GROUND bool
CONSTRUCTION_BELOW_GROUND bool
CONSTRUCTION_GAS_LINE bool
CONSTRUCTION_WATER_SEWER_LINE bool
CONS_COMMUNICATION_LINE bool
CONS_CABLE_LINE bool
CONS_ELECTRICAL_LINE bool
R_FACTOR double
K_FACTOR double
LS_FACTOR double
WATERSHED_EROSION_ESTIMATE double
SITE_SEDIMENT_RISK_FACTOR text
RECEIVING_WATER_RISK text
PROJECT_COMBINED_RISK text
RECEIVING_WATER_NAME text
INDIRECTLY bool
DIRECTLY bool
QSD_FIRST_NAME text
QSD_LAST_NAME text
QSD_CERTIFICATION_NUMBER text
CERTIFIER_BY text
CERTIFIER_TITLE text
CERTIFICATION_DATE timestamp
"""

VIOLATIONS = """
WDID text
APP_ID text
VIOLATION_ID text
VIOLATION_SOURCE text
VIOLATION_SOURCE_ID text
VIOLATION_TYPE text
SERIOUS_VIOLATION bool
VIOLATION_PRIORITY text
OCCURRENCE_DATE date
DISCOVERY_DATE date
DETERMINED_BY text
EXEMPT_FROM_MMP bool
MEMO text
DESCRIPTION text
VIOLATION_STATUS text
LINKED_ENFORCEMENT_ACTION text
PERMIT_TYPE text
REGIONAL_BOARD text
PLACE_NAME text
PLACE_ADDRESS text
PLACE_ADDRESS_2 text
PLACE_CITY text
PLACE_STATE text
PLACE_ZIP text
PLACE_LATITUDE double
PLACE_LONGITUDE double
PLACE_COUNTY text
PLACE_TOTAL_SIZE double
PLACE_TOTAL_SIZE_UNIT text
RECEIVING_WATER_NAME text
INDIRECTLY bool
DIRECTLY bool
"""

ENFORCEMENT_ACTIONS = """
WDID text
APP_ID text
ENFORCEMENT_ID text
ENFORCEMENT_TYPE text
ENFORCEMENT_STATUS text
ISSUANCE_DATE date
DUE_DATE date
DESCRIPTION text
CORRECTIVE_ACTION text
ORDER_NUMBER text
ECONOMIC_BENEFITS double
TOTAL_MAX_LIABILITY double
STAFF_COSTS double
INITIAL_ASSESSMENT double
TOTAL_ASSESSMENT double
RECEIVED_AMOUNT double
SPENT_AMOUNT double
BALANCE_DUE double
ACL_COMPLAINT_ISSUANCE_DATE date
ADOPTION_DATE date
COMPLIANCE_DATE date
EPL_ISSUANCE_DATE date
RECEIVED_DATE date
WAIVER_RECEIVED_DATE date
COUNT_OF_VIOLATIONS int
PERMIT_TYPE text
REGIONAL_BOARD text
PLACE_NAME text
PLACE_ADDRESS text
PLACE_ADDRESS_2 text
PLACE_CITY text
PLACE_STATE text
PLACE_ZIP text
PLACE_LATITUDE double
PLACE_LONGITUDE double
PLACE_COUNTY text
PLACE_TOTAL_SIZE double
PLACE_TOTAL_SIZE_UNIT text
RECEIVING_WATER_NAME text
INDIRECTLY bool
DIRECTLY bool
"""

INSPECTIONS = """
WDID text
APP_ID text
INSPECTION_ID text
INSPECTION_CLASSIFICATION text
INSPECTION_START_TIME text
INSPECTION_END_TIME text
INSPECTION_STATUS text
INSPECTION_PURPOSE text
INSPECTION_DATE date
INSPECTION_CONTACT text
INSPECTOR_TYPE text
INSPECTOR_NAME text
AGENCY_NAME text
AGENCY_INSPECTOR_NAME text
FOLLOW_UP_ACTION text
GENERAL_NOTES text
VIRTUAL_INSPECTION bool
COUNT_OF_VIOLATIONS int
FINAL_INSP_RPT_UPLOAD_DATE text
PERMIT_TYPE text
REGIONAL_BOARD text
PLACE_NAME text
PLACE_ADDRESS text
PLACE_ADDRESS_2 text
PLACE_CITY text
PLACE_STATE text
PLACE_ZIP text
PLACE_LATITUDE double
PLACE_LONGITUDE double
PLACE_COUNTY text
PLACE_TOTAL_SIZE double
PLACE_TOTAL_SIZE_UNIT text
RECEIVING_WATER_NAME text
INDIRECTLY bool
DIRECTLY bool
"""

INDUSTRIAL_MONITORING = """
PERMIT_TYPE text
WDID text
APP_ID text
REPORTING_YEAR int
REPORT_ID text
EVENT_TYPE text
MONITORING_LOCATION_NAME text
MONITORING_LOCATION_TYPE text
MONITOR_LOCATION_DESCRIPTION text
MONITORING_LATITUDE double
MONITORING_LONGITUDE double
SAMPLE_ID text
SAMPLE_DATE date
SAMPLE_TIME text
DISCHARGE_START_DATE date
DISCHARGE_START_TIME text
PARAMETER text
RESULT_QUALIFIER text
RESULT double
UNITS text
ANALYTICAL_METHOD text
MDL double
RL double
DISCHARGE_END_DATE date
DISCHARGE_END_TIME text
CERTIFIER_NAME text
CERTIFIED_DATE text
"""

CONSTRUCTION_MONITORING = """
PERMIT_TYPE text
WDID text
APP_ID text
REPORT_YEAR int
REPORT_ID text
EVENT_TYPE text
EVENT_START_DATE date
EVENT_END_DATE date
RAINFALL_AMOUNT double
BUSINESS_DAYS int
MONITORING_LOCATION_NAME text
MONITORING_LOCATION_TYPE text
MONITOR_LOCATION_DESCRIPTION text
MONITORING_LATITUDE double
MONITORING_LONGITUDE double
SAMPLE_ID text
SAMPLE_DATE date
SAMPLE_TIME text
PERCENT_OF_TOTAL_DISCHARGE double
QSP text
PARAMETER text
RESULT_QUALIFIER text
RESULT double
UNITS text
ANALYTICAL_METHOD text
MDL double
RL double
ANALYZED_BY text
CERTIFIER_NAME text
CERTIFIED_DATE text
"""

ESMR_SAMPLES = """
region text
location text
location_place_id text
location_place_type text
parameter text
analytical_method_code text
analytical_method text
calculated_method text
qualifier text
result double
units text
mdl double
ml double
rl double
sampling_date date
sampling_time text
analysis_date date
analysis_time text
review_priority_indicator text
qa_codes text
comments text
facility_name text
facility_place_id text
report_name text
latitude double
longitude double
receiving_water_body text
smr_document_id text
location_desc text
"""


_REGION = Derived("region", "text", "region_code", "region_board")
_SAMPLE_DERIVED = (
    Derived("region", "text", "region_from_wdid", "wdid"),
    Derived("reporting_year", "int", "reporting_year", "sample_date"),
    Derived("parameter_canonical", "text", "parameter", "parameter"),
    Derived("units_canonical", "text", "units", "units"),
    Derived("duplicate_sample", "bool", "duplicate_sample", "sample_id"),
)
_ESMR_DERIVED = (
    Derived("region", "text", "region_code", "source_region"),
    Derived("sampling_year", "int", "source_year", "sampling_date"),
    Derived("parameter_canonical", "text", "parameter", "parameter"),
    Derived("units_canonical", "text", "units", "units"),
)


def _place_region(source: str) -> tuple[Derived, ...]:
    return (Derived("region", "text", "region_code", source),)


SMARTS_PACKAGE = (
    "stormwater-regulatory-including-enforcement-actions-information-and-water-quality-results"
)
ESMR_PACKAGE = "water-quality-effluent-electronic-self-monitoring-report-esmr-data"

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        name="industrial_facilities",
        title="Industrial Application Specific Data",
        resource_pattern=r"^Industrial Application Specific Data",
        columns=_columns(INDUSTRIAL_FACILITIES, (_REGION,)),
        key=("wdid", "app_id"),
        kind="entity",
        sort=("wdid", "app_id"),
        derived=(_REGION,),
    ),
    Dataset(
        name="construction_facilities",
        title="Construction Application Specific Data",
        resource_pattern=r"^Construction Application Specific Data",
        columns=_columns(CONSTRUCTION_FACILITIES, _place_region("source_region")),
        key=("wdid", "app_id"),
        kind="entity",
        sort=("wdid", "app_id"),
        derived=_place_region("source_region"),
    ),
    Dataset(
        name="violations",
        title="Violations",
        resource_pattern=r"^Violations",
        columns=_columns(VIOLATIONS),
        key=("violation_id",),
        kind="entity",
        sort=("wdid", "occurrence_date"),
        derived=_place_region("regional_board"),
        feature_flag="ENABLE_SMARTS_VIOLATIONS",
    ),
    Dataset(
        name="enforcement_actions",
        title="Enforcement Actions",
        resource_pattern=r"^Enforcement Actions",
        columns=_columns(ENFORCEMENT_ACTIONS),
        key=("enforcement_id",),
        kind="entity",
        sort=("wdid", "issuance_date"),
        derived=_place_region("regional_board"),
        feature_flag="ENABLE_ENFORCEMENT_TRACKING",
    ),
    Dataset(
        name="inspections",
        title="Inspections",
        resource_pattern=r"^Inspections",
        columns=_columns(INSPECTIONS),
        key=("inspection_id",),
        kind="entity",
        sort=("wdid", "inspection_date"),
        derived=_place_region("regional_board"),
        feature_flag="ENABLE_INSPECTIONS",
    ),
    Dataset(
        name="industrial_monitoring",
        title="Industrial Ad Hoc Reports - Parameter Data",
        resource_pattern=r"^Industrial Ad Hoc Reports",
        columns=_columns(INDUSTRIAL_MONITORING, _SAMPLE_DERIVED),
        key=("report_id", "sample_id", "parameter"),
        kind="samples",
        sort=("wdid", "sample_date"),
        partition="reporting_year",
        derived=_SAMPLE_DERIVED,
        also_required=("sample_date",),
        nd_check=("result_qualifier", "result"),
    ),
    Dataset(
        name="construction_monitoring",
        title="Construction Ad Hoc Reports - Parameter Data",
        resource_pattern=r"^Construction Ad Hoc Reports",
        columns=_columns(CONSTRUCTION_MONITORING, _SAMPLE_DERIVED),
        key=("report_id", "sample_id", "parameter"),
        kind="samples",
        sort=("wdid", "sample_date"),
        partition="reporting_year",
        derived=_SAMPLE_DERIVED,
        also_required=("sample_date",),
        nd_check=("result_qualifier", "result"),
    ),
    Dataset(
        name="esmr_samples",
        title="eSMR analytical data (one file per year)",
        resource_pattern=r"(?i)(esmr|analytical).*?(?P<year>(?:19|20)\d\d)",
        columns=_columns(ESMR_SAMPLES, _ESMR_DERIVED),
        key=(),
        kind="samples",
        sort=("facility_place_id", "sampling_date"),
        partition="sampling_year",
        derived=_ESMR_DERIVED,
        per_year_sources=True,
        also_required=("facility_place_id", "parameter", "sampling_date"),
        nd_check=("qualifier", "result"),
    ),
)


def dataset(name: str) -> Dataset:
    """The contract row for `name`; a clear error for an unknown name."""
    for ds in DATASETS:
        if ds.name == name:
            return ds
    known = ", ".join(d.name for d in DATASETS)
    raise KeyError(f"unknown dataset {name!r} (known: {known})")


DATASET_NAMES: tuple[str, ...] = tuple(d.name for d in DATASETS)
