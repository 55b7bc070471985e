-- grain: one row per facility (wdid, app_id), monitoring dataset and canonical parameter it reported
-- inputs: int_samples_converted_to_nal_units
with samples as (
    select * from int_samples_converted_to_nal_units
)
select
    wdid, app_id, source_dataset, parameter,
    count(*) as n_results,
    count(*) filter (where is_nd) as n_nd,
    count(*) filter (where unit_status <> 'ok') as n_unit_excluded,
    count(*) filter (where above_instantaneous_nal) as n_above_instantaneous_nal,
    min(sample_date) as first_sample_date,
    max(sample_date) as last_sample_date,
    any_value(value_units) filter (where unit_status = 'ok') as units,
    list(distinct parameter_reported order by parameter_reported) as spellings,
    bool_or(has_nal) as has_nal,
    any_value(annual_nal) as annual_nal,
    any_value(instantaneous_max_nal) as instantaneous_max_nal,
    any_value(instantaneous_min_nal) as instantaneous_min_nal,
    any_value(nal_version) as nal_version,
from samples
group by wdid, app_id, source_dataset, parameter
