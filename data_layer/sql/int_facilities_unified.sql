-- grain: one row per SMARTS application (wdid, app_id), industrial and construction together
-- inputs: stg_smarts__industrial_facilities, stg_smarts__construction_facilities
with industrial as (
    select
        wdid, app_id, 'Industrial' as permit_family, permit_type, status,
        noi_processed_date, not_effective_date, region, coalesce(facility_county, county) as county,
        facility_name as name, operator_name as operator, facility_address as address,
        facility_city as city, facility_zip as zip,
        facility_latitude as latitude, facility_longitude as longitude,
        primary_sic, secondary_sic, tertiary_sic, receiving_water_name,
    from stg_smarts__industrial_facilities
),
construction as (
    select
        wdid, app_id, 'Construction' as permit_family, permit_type, status,
        noi_processed_date, not_effective_date, region, coalesce(site_county, county) as county,
        site_name as name, coalesce(owner_name, developer_name) as operator, site_address as address,
        site_city as city, site_zip as zip,
        site_latitude as latitude, site_longitude as longitude,
        null::varchar as primary_sic, null::varchar as secondary_sic, null::varchar as tertiary_sic,
        receiving_water_name,
    from stg_smarts__construction_facilities
),
unioned as (
    select * from industrial
    union all
    select * from construction
)
select
    *,
    coalesce(name, operator, wdid) as display_name,
    case when status ilike 'active' then 'Active'
         when status ilike 'terminated' then 'Terminated'
         else coalesce(status, 'Unknown') end as status_group,
    latitude between 32.4 and 42.1 and longitude between -124.5 and -114.1 as coords_in_california,
from unioned
