-- grain: one row per SMARTS facility (wdid, app_id), with or without coordinates: where it is and its official record counts
-- inputs: facility_summary
with facilities as (
    select * from facility_summary
)
select
    wdid,
    app_id,
    display_name,
    permit_family,
    status_group,
    region,
    county,
    city,
    latitude,
    longitude,
    latitude is not null and longitude is not null as has_coordinates,
    coalesce(coords_in_california, false) as coords_in_california,
    violation_count,
    enforcement_count,
    inspection_count,
from facilities
