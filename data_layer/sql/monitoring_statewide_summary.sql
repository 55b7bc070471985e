-- grain: one row per monitoring dataset, parameter, region, reporting year and ND rule (values in the NAL's unit)
-- inputs: int_samples_substituted_by_nd_rule
with samples as (
    select * from int_samples_substituted_by_nd_rule where date_plausible
),
summarised as (
    select
        source_dataset, parameter, region, reporting_year, partition_year, nd_rule,
        count(substituted_value) as n_samples,
        count(*) filter (where unit_status = 'ok' and is_nd) as n_nd,
        count(*) filter (where unit_status <> 'ok') as n_unit_excluded,
        count(distinct concat_ws('|', wdid, app_id)) filter (where substituted_value is not null)
            as n_facilities,
        median(substituted_value) as median,
        quantile_cont(substituted_value, 0.9) as p90,
        count(*) filter (where substituted_value > annual_nal * (1 + 1e-9)) as n_above_annual_nal,
        count(*) filter (where substituted_value is not null and above_instantaneous_nal)
            as n_above_instantaneous_nal,
        any_value(value_units) filter (where unit_status = 'ok') as units,
        any_value(annual_nal) as annual_nal,
        any_value(instantaneous_max_nal) as instantaneous_max_nal,
        any_value(instantaneous_min_nal) as instantaneous_min_nal,
        any_value(nal_version) as nal_version,
    from samples
    group by source_dataset, parameter, region, reporting_year, partition_year, nd_rule
)
select
    *,
    case when annual_nal is not null and n_samples > 0
        then n_above_annual_nal / n_samples end as share_above_annual_nal,
    case when (instantaneous_max_nal is not null or instantaneous_min_nal is not null) and n_samples > 0
        then n_above_instantaneous_nal / n_samples end as share_above_instantaneous_nal,
from summarised
