-- grain: one row per enforcement action (enforcement_id), with its facility and penalty figures
-- inputs: int_enforcement_penalties, int_facilities_unified
with actions as (
    select * from int_enforcement_penalties
),
facilities as (
    select wdid, app_id, display_name, county as facility_county, permit_family
    from int_facilities_unified
)
select
    a.*,
    coalesce(f.display_name, a.place_name, a.wdid) as facility_name,
    coalesce(a.place_county, f.facility_county) as county,
    f.permit_family,
    year(a.issuance_date) as issuance_year,
from actions as a
left join facilities as f using (wdid, app_id)
