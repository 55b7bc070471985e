-- grain: one row per SMARTS application (wdid, app_id): the SMARTS side of facility matching
-- inputs: int_facilities_unified; coordinates outside California are left out (null)
with facilities as (
    select * from int_facilities_unified
)
select
    wdid,
    app_id,
    permit_family,
    permit_type,
    status,
    name,
    operator,
    address,
    city,
    zip,
    county,
    region,
    case when coords_in_california then latitude end as latitude,
    case when coords_in_california then longitude end as longitude,
    primary_sic as sic,
    receiving_water_name as receiving_water,
from facilities
