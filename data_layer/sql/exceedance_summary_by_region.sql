-- grain: one row per parameter with a NAL, reporting year, ND rule and region: facilities sampled and exceeding
-- inputs: exceedances_annual, exceedances_instantaneous
with annual as (
    select
        wdid, app_id, region, parameter, reporting_year, partition_year, nd_rule, nal_version,
        n_samples, exceeds,
    from exceedances_annual
),
instantaneous as (
    select
        wdid, app_id, region, parameter, reporting_year, partition_year, nd_rule, nal_version,
        n_samples, exceeds,
    from exceedances_instantaneous
),
per_facility as (
    select
        wdid, app_id, parameter, reporting_year, partition_year, nd_rule,
        coalesce(a.region, i.region) as region,
        coalesce(a.nal_version, i.nal_version) as nal_version,
        greatest(coalesce(a.n_samples, 0), coalesce(i.n_samples, 0)) > 0 as sampled,
        coalesce(a.exceeds, false) as exceeds_annual,
        coalesce(i.exceeds, false) as exceeds_instantaneous,
    from annual as a
    full join instantaneous as i using (wdid, app_id, parameter, reporting_year, partition_year, nd_rule)
),
summarised as (
    select
        parameter, reporting_year, partition_year, nd_rule, region,
        count(*) filter (where sampled) as facilities_sampled,
        count(*) filter (where exceeds_annual) as facilities_exceeding_annual,
        count(*) filter (where exceeds_instantaneous) as facilities_exceeding_instantaneous,
        count(*) filter (where exceeds_annual or exceeds_instantaneous) as facilities_exceeding,
        any_value(nal_version) as nal_version,
    from per_facility
    group by parameter, reporting_year, partition_year, nd_rule, region
)
select
    *,
    case when facilities_sampled > 0 then facilities_exceeding / facilities_sampled end as share_exceeding,
    'computed' as basis,
from summarised
