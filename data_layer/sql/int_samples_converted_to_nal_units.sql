-- grain: one monitoring result (industrial and construction), value in the NAL's unit where it has one
-- inputs: stg_smarts__industrial_monitoring, stg_smarts__construction_monitoring, ref_nal_table, ref_unit_conversions
with industrial as (
    select
        'industrial_monitoring' as source_dataset,
        wdid, app_id, region, report_id, sample_id, sample_date,
        source_reporting_year, reporting_year as partition_year,
        monitoring_location_name as location,
        monitoring_latitude as latitude, monitoring_longitude as longitude,
        parameter_canonical as parameter, parameter as parameter_reported,
        result_qualifier, result, units, units_canonical, mdl, rl, duplicate_sample,
    from stg_smarts__industrial_monitoring
),
construction as (
    select
        'construction_monitoring' as source_dataset,
        wdid, app_id, region, report_id, sample_id, sample_date,
        report_year as source_reporting_year, reporting_year as partition_year,
        monitoring_location_name as location,
        monitoring_latitude as latitude, monitoring_longitude as longitude,
        parameter_canonical as parameter, parameter as parameter_reported,
        result_qualifier, result, units, units_canonical, mdl, rl, duplicate_sample,
    from stg_smarts__construction_monitoring
),
nals as (
    select * from ref_nal_table
),
conversions as (
    select * from ref_unit_conversions
),
samples as (
    select * from industrial
    union all
    select * from construction
),
classified as (
    select
        s.* replace (case when isnan(s.result) then null else s.result end as result),
        -- the permit's July-June year, labelled by the year it starts in
        case when month(s.sample_date) >= 7 then year(s.sample_date)
             else year(s.sample_date) - 1 end::integer as reporting_year,
        coalesce(upper(trim(s.result_qualifier)) in ('ND', '<'), false) as is_nd,
        -- a date before 1990 or in the future cannot be placed in a reporting year
        coalesce(s.sample_date between date '1990-01-01' and current_date, false) as date_plausible,
        n.parameter is not null as has_nal,
        n.units as nal_units, n.annual_nal, n.instantaneous_max_nal, n.instantaneous_min_nal,
        n.nal_version,
        coalesce(c.to_unit, s.units_canonical) as value_units,
        coalesce(c.factor, 1.0) as factor,
        c.quantity,
    from samples as s
    left join nals as n on n.parameter = s.parameter
    left join conversions as c on c.from_unit = s.units_canonical
),
unit_checked as (
    select
        *,
        case
            when units_canonical is null then 'unknown'
            when has_nal and value_units is distinct from nal_units then 'not_convertible'
            else 'ok'
        end as unit_status,
        case when is_nd then coalesce(rl, mdl, result) end as reporting_limit,
    from classified
),
converted as (
    select
        *,
        case when unit_status = 'ok' and not is_nd then result * factor end as value,
        case when unit_status = 'ok' then reporting_limit * factor end as nd_limit,
    from unit_checked
)
select
    *,
    -- "above" means beyond floating-point rounding (1 part in 10^9) of the limit
    coalesce(
        value > instantaneous_max_nal * (1 + 1e-9) or value < instantaneous_min_nal * (1 - 1e-9),
        false
    ) as above_instantaneous_nal,
    coalesce(nd_limit > coalesce(annual_nal, instantaneous_max_nal) * (1 + 1e-9), false)
        as uninformative_nd,
from converted
