-- grain: one row per facility (wdid, app_id) with monitoring results: flag counts and completeness 0..1
-- inputs: quality_sample_flags, int_facilities_unified
with samples as (
    select * from quality_sample_flags
),
facilities as (
    select
        wdid, app_id, display_name as facility_name,
        coalesce(latitude is not null and longitude is not null and coords_in_california, false)
            as has_coordinates,
    from int_facilities_unified
),
per_facility as (
    select
        wdid, app_id,
        any_value(region) as region,
        count(*) as n_samples,
        count(*) filter (where flagged) as n_flagged,
        count(*) filter (where flag_impossible_value) as n_impossible_value,
        count(*) filter (where flag_impossible_date) as n_impossible_date,
        count(*) filter (where flag_duplicate_sample) as n_duplicate_sample,
        count(*) filter (where flag_coordinates_outside_california)
            as n_coordinates_outside_california,
        count(*) filter (where flag_unmapped_unit) as n_unmapped_unit,
        count(*) filter (where flag_uninformative_nd) as n_uninformative_nd,
    from samples
    group by wdid, app_id
)
select
    p.*,
    f.facility_name,
    coalesce(f.has_coordinates, false) as has_coordinates,
    1 - p.n_flagged / p.n_samples as share_clean,
    -- two equal parts: the share of samples with no flag, and coordinates inside California
    ((1 - p.n_flagged / p.n_samples) + coalesce(f.has_coordinates, false)::integer) / 2
        as completeness,
from per_facility as p
left join facilities as f using (wdid, app_id)
