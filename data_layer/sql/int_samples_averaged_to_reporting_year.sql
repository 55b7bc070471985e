-- grain: one row per industrial facility (wdid, app_id), parameter with an annual NAL, reporting year and ND rule
-- inputs: int_samples_converted_to_nal_units, ref_nd_rules (pH has no annual NAL and is never averaged; implausible dates left out)
with samples as (
    select *
    from int_samples_converted_to_nal_units
    where source_dataset = 'industrial_monitoring' and annual_nal is not null and date_plausible
),
rules as (
    select nd_rule from ref_nd_rules
),
-- one pass over the results: sums and counts from which every rule's average follows
per_year as (
    select
        wdid, app_id, region, parameter, reporting_year, partition_year,
        count(*) filter (where unit_status = 'ok' and (is_nd or value is not null)) as n_samples,
        count(*) filter (where unit_status = 'ok' and is_nd) as n_nd,
        count(*) filter (where uninformative_nd) as n_uninformative_nd,
        count(*) filter (where unit_status <> 'ok') as n_unit_excluded,
        count(value) as n_detected,
        coalesce(sum(value), 0) as sum_detected,
        count(nd_limit) filter (where is_nd) as n_nd_with_limit,
        coalesce(sum(nd_limit) filter (where is_nd), 0) as sum_nd_limit,
        any_value(nal_units) as units,
        any_value(annual_nal) as annual_nal,
        any_value(nal_version) as nal_version,
        min(sample_date) as first_sample_date,
        max(sample_date) as last_sample_date,
    -- partition_year (the store's) equals reporting_year; grouping by it lets a year's
    -- query read one partition
    from samples
    group by wdid, app_id, region, parameter, reporting_year, partition_year
),
-- the same substitutions as int_samples_substituted_by_nd_rule, summed
by_rule as (
    select
        p.*,
        r.nd_rule,
        case r.nd_rule
            when 'exclude' then p.n_detected
            when 'zero' then p.n_detected + p.n_nd
            else p.n_detected + p.n_nd_with_limit
        end as n_used,
        case r.nd_rule
            when 'half_rl' then p.sum_detected + p.sum_nd_limit / 2
            when 'rl' then p.sum_detected + p.sum_nd_limit
            else p.sum_detected
        end as sum_used,
    from per_year as p
    cross join rules as r
)
select
    wdid, app_id, region, parameter, reporting_year, partition_year, nd_rule,
    n_samples, n_nd, n_used, n_uninformative_nd, n_unit_excluded,
    case when n_used > 0 then sum_used / n_used end as average,
    units, annual_nal, nal_version, first_sample_date, last_sample_date,
from by_rule
