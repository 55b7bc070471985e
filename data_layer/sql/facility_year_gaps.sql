-- grain: one row per industrial facility (wdid, app_id), reporting year and ND rule with a computed exceedance
-- inputs: exceedances_annual, exceedances_instantaneous, stg_smarts__violations, stg_smarts__enforcement_actions, int_facilities_unified
with annual as (
    select wdid, app_id, region, reporting_year, nd_rule, nal_version, parameter, 'annual' as kind
    from exceedances_annual
    where exceeds
),
instantaneous as (
    select wdid, app_id, region, reporting_year, nd_rule, nal_version, parameter, 'instantaneous' as kind
    from exceedances_instantaneous
    where exceeds
),
computed as (
    select
        wdid, app_id, reporting_year, nd_rule,
        any_value(region) as region,
        any_value(nal_version) as nal_version,
        count(*) filter (where kind = 'annual') as annual_exceedances,
        count(*) filter (where kind = 'instantaneous') as instantaneous_exceedances,
        count(*) as computed_exceedances,
        list(distinct parameter order by parameter) as parameters_exceeded,
    from (select * from annual union all select * from instantaneous)
    group by wdid, app_id, reporting_year, nd_rule
),
violations as (
    select
        wdid, app_id,
        case when month(occurrence_date) >= 7 then year(occurrence_date)
             else year(occurrence_date) - 1 end::integer as reporting_year,
        count(*) as official_violations,
    from stg_smarts__violations
    where occurrence_date is not null
    group by all
),
enforcement as (
    select
        wdid, app_id,
        case when month(issuance_date) >= 7 then year(issuance_date)
             else year(issuance_date) - 1 end::integer as reporting_year,
        count(*) as official_enforcement_actions,
    from stg_smarts__enforcement_actions
    where issuance_date is not null
    group by all
),
facilities as (
    select wdid, app_id, display_name as facility_name from int_facilities_unified
),
joined as (
    select
        c.*,
        f.facility_name,
        coalesce(v.official_violations, 0) as official_violations,
        coalesce(e.official_enforcement_actions, 0) as official_enforcement_actions,
        count(*) over (
            partition by c.wdid, c.app_id, c.nd_rule order by c.reporting_year
        ) as exceedance_years_to_date,
    from computed as c
    left join violations as v using (wdid, app_id, reporting_year)
    left join enforcement as e using (wdid, app_id, reporting_year)
    left join facilities as f using (wdid, app_id)
)
select
    *,
    official_violations + official_enforcement_actions = 0 as no_official_response,
    'computed' as basis,
from joined
