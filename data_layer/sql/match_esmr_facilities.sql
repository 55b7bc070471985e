-- grain: one row per eSMR facility (facility_place_id): the eSMR side of facility matching
-- inputs: stg_esmr__samples; each value is the commonest spelling (ties: latest, then first
-- alphabetically), coordinates the median of those reported; eSMR rows carry no address,
-- city, zip, county, agency or SIC, so those are null here
with samples as (
    select
        facility_place_id, facility_name, region, latitude, longitude, receiving_water_body,
        sampling_date,
    from stg_esmr__samples
    where facility_place_id is not null
),
names as (
    select facility_place_id, facility_name, count(*) as n, max(sampling_date) as last_seen,
    from samples
    where facility_name is not null
    group by facility_place_id, facility_name
),
regions as (
    select facility_place_id, region, count(*) as n, max(sampling_date) as last_seen,
    from samples
    where region is not null
    group by facility_place_id, region
),
waters as (
    select facility_place_id, receiving_water_body, count(*) as n,
        max(sampling_date) as last_seen,
    from samples
    where receiving_water_body is not null
    group by facility_place_id, receiving_water_body
),
places as (
    select
        facility_place_id,
        median(latitude) filter (where latitude between 32.4 and 42.1
            and longitude between -124.5 and -114.1) as latitude,
        median(longitude) filter (where latitude between 32.4 and 42.1
            and longitude between -124.5 and -114.1) as longitude,
    from samples
    group by facility_place_id
),
chosen_names as (
    select facility_place_id,
        first(facility_name order by n desc, last_seen desc, facility_name) as name,
    from names
    group by facility_place_id
),
chosen_regions as (
    select facility_place_id, first(region order by n desc, last_seen desc, region) as region,
    from regions
    group by facility_place_id
),
chosen_waters as (
    select facility_place_id,
        first(receiving_water_body order by n desc, last_seen desc, receiving_water_body)
            as receiving_water,
    from waters
    group by facility_place_id
)
select
    p.facility_place_id,
    n.name,
    null::varchar as agency,
    null::varchar as address,
    null::varchar as city,
    null::varchar as zip,
    null::varchar as county,
    r.region,
    p.latitude,
    p.longitude,
    null::varchar as sic,
    w.receiving_water,
from places as p
left join chosen_names as n using (facility_place_id)
left join chosen_regions as r using (facility_place_id)
left join chosen_waters as w using (facility_place_id)
