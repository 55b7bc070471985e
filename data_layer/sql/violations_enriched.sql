-- grain: one row per violation (violation_id), with its facility and source inspection
-- inputs: stg_smarts__violations, int_facilities_unified, stg_smarts__inspections
with violations as (
    select * from stg_smarts__violations
),
facilities as (
    select wdid, app_id, display_name, county as facility_county, permit_family
    from int_facilities_unified
),
inspections as (
    select inspection_id, inspection_date from stg_smarts__inspections
)
select
    v.*,
    coalesce(f.display_name, v.place_name, v.wdid) as facility_name,
    coalesce(v.place_county, f.facility_county) as county,
    f.permit_family,
    case when v.violation_source = 'Inspection' then i.inspection_id end as inspection_id,
    i.inspection_date as source_inspection_date,
    year(v.occurrence_date) as occurrence_year,
from violations as v
left join facilities as f using (wdid, app_id)
left join inspections as i
    on v.violation_source = 'Inspection' and i.inspection_id = v.violation_source_id
