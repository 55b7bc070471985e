-- grain: one row per (field, value): the distinct values offered by the filter widgets
-- inputs: int_facilities_unified, stg_smarts__violations, stg_smarts__enforcement_actions, stg_smarts__inspections
with facilities as (
    select region, county, permit_type, status_group from int_facilities_unified
),
violations as (
    select
        region, place_county as county, permit_type,
        violation_type, violation_status, violation_priority,
    from stg_smarts__violations
),
enforcement as (
    select region, place_county as county, permit_type, enforcement_type, enforcement_status,
    from stg_smarts__enforcement_actions
),
inspections as (
    select region, place_county as county, permit_type, inspection_purpose, inspector_type,
    from stg_smarts__inspections
),
options as (
    select 'regions' as field, region as value from facilities
    union select 'regions', region from violations
    union select 'regions', region from enforcement
    union select 'regions', region from inspections
    union select 'counties', county from facilities
    union select 'counties', county from violations
    union select 'counties', county from enforcement
    union select 'counties', county from inspections
    union select 'permit_types', permit_type from facilities
    union select 'permit_types', permit_type from violations
    union select 'permit_types', permit_type from enforcement
    union select 'permit_types', permit_type from inspections
    union select 'facility_statuses', status_group from facilities
    union select 'violation_types', violation_type from violations
    union select 'violation_statuses', violation_status from violations
    union select 'violation_priorities', violation_priority from violations
    union select 'enforcement_types', enforcement_type from enforcement
    union select 'enforcement_statuses', enforcement_status from enforcement
    union select 'inspection_purposes', inspection_purpose from inspections
    union select 'inspector_types', inspector_type from inspections
)
select field, value from options where value is not null
