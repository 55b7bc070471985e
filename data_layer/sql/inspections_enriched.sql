-- grain: one row per inspection (inspection_id), with its facility and the violations it produced
-- inputs: int_inspection_outcomes, int_facilities_unified
with inspections as (
    select * from int_inspection_outcomes
),
facilities as (
    select wdid, app_id, display_name, county as facility_county, permit_family
    from int_facilities_unified
)
select
    i.*,
    coalesce(f.display_name, i.place_name, i.wdid) as facility_name,
    coalesce(i.place_county, f.facility_county) as county,
    f.permit_family,
    year(i.inspection_date) as inspection_year,
from inspections as i
left join facilities as f using (wdid, app_id)
