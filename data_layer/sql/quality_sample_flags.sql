-- grain: one monitoring result (industrial and construction) with its data-quality flags
-- inputs: int_samples_converted_to_nal_units
with samples as (
    select * from int_samples_converted_to_nal_units
),
flagged as (
    select
        source_dataset, wdid, app_id, region, report_id, sample_id, sample_date, reporting_year,
        parameter, parameter_reported, result_qualifier, result, units, rl, mdl,
        location, latitude, longitude,
        coalesce(
            (parameter = 'pH' and (result < 0 or result > 14))
                or (quantity = 'concentration' and result < 0),
            false
        ) as flag_impossible_value,
        not date_plausible as flag_impossible_date,
        coalesce(duplicate_sample, false) as flag_duplicate_sample,
        -- the same box as int_facilities_unified.coords_in_california
        coalesce(
            not (latitude between 32.4 and 42.1 and longitude between -124.5 and -114.1), false
        ) as flag_coordinates_outside_california,
        unit_status <> 'ok' as flag_unmapped_unit,
        uninformative_nd as flag_uninformative_nd,
    from samples
)
select
    *,
    list_filter([
        case when flag_impossible_value then 'impossible_value' end,
        case when flag_impossible_date then 'impossible_date' end,
        case when flag_duplicate_sample then 'duplicate_sample' end,
        case when flag_coordinates_outside_california then 'coordinates_outside_california' end,
        case when flag_unmapped_unit then 'unmapped_unit' end,
        case when flag_uninformative_nd then 'uninformative_nd' end
    ], lambda f: f is not null) as flags,
    flag_impossible_value or flag_impossible_date or flag_duplicate_sample
        or flag_coordinates_outside_california or flag_unmapped_unit or flag_uninformative_nd
        as flagged,
from flagged
