-- grain: one row per eSMR facility place (facility_place_id): the name, point and receiving water matching compares, and what the place reported
-- inputs: match_esmr_facilities, stg_esmr__samples
with places as (
    select facility_place_id, name as facility_name, region, latitude, longitude, receiving_water,
    from match_esmr_facilities
),
reported as (
    select
        facility_place_id,
        count(*) as n_results,
        count(distinct parameter_canonical) as n_parameters,
        count(distinct location) as n_locations,
        count(distinct smr_document_id) as n_reports,
        min(sampling_date) as first_sampling_date,
        max(sampling_date) as last_sampling_date,
    from stg_esmr__samples
    where facility_place_id is not null
    group by facility_place_id
)
select p.*, r.* exclude (facility_place_id),
from places as p
join reported as r using (facility_place_id)
