-- grain: one row per industrial facility (wdid, app_id), parameter with an instantaneous NAL, reporting year and ND rule
-- inputs: int_samples_converted_to_nal_units, ref_nd_rules (a non-detect is never above a maximum)
with samples as (
    select *
    from int_samples_converted_to_nal_units
    where source_dataset = 'industrial_monitoring' and date_plausible
        and (instantaneous_max_nal is not null or instantaneous_min_nal is not null)
),
rules as (
    select nd_rule from ref_nd_rules
),
per_year as (
    select
        wdid, app_id, region, parameter, reporting_year, partition_year,
        count(*) filter (where unit_status = 'ok' and (is_nd or value is not null)) as n_samples,
        count(*) filter (where unit_status = 'ok' and is_nd) as n_nd,
        count(*) filter (where unit_status <> 'ok') as n_unit_excluded,
        count(*) filter (where above_instantaneous_nal) as n_above,
        min(value) as min_value,
        max(value) as max_value,
        coalesce(
            list(sample_id order by sample_date, sample_id) filter (where above_instantaneous_nal),
            []
        ) as above_sample_ids,
        coalesce(
            list(sample_date order by sample_date, sample_id) filter (where above_instantaneous_nal),
            []
        ) as above_dates,
        any_value(nal_units) as units,
        any_value(instantaneous_max_nal) as instantaneous_max_nal,
        any_value(instantaneous_min_nal) as instantaneous_min_nal,
        any_value(nal_version) as nal_version,
    from samples
    group by wdid, app_id, region, parameter, reporting_year, partition_year
)
select
    p.*,
    r.nd_rule,
    p.n_above >= 2 as exceeds,
    -- the day the second result above the limit made it an exceedance
    case when p.n_above >= 2 then p.above_dates[2] end as exceedance_date,
    'computed' as basis,
from per_year as p
cross join rules as r
