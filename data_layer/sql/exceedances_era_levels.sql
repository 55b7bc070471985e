-- grain: one row per industrial facility (wdid, app_id), parameter, ND rule and ERA level entered (1, 2)
-- inputs: exceedances_annual, exceedances_instantaneous
with annual as (
    select
        wdid, app_id, parameter, reporting_year, nd_rule, nal_version,
        'annual average ' || printf('%.4g', average) || ' ' || units
            || ' above the annual NAL ' || printf('%.4g', annual_nal) || ' ' || units as reason,
    from exceedances_annual
    where exceeds
),
instantaneous as (
    select
        wdid, app_id, parameter, reporting_year, nd_rule, nal_version,
        n_above || ' results beyond the instantaneous NAL '
            || concat_ws('-', printf('%.4g', instantaneous_min_nal), printf('%.4g', instantaneous_max_nal))
            || ' ' || units as reason,
    from exceedances_instantaneous
    where exceeds
),
exceedance_years as (
    select
        wdid, app_id, parameter, reporting_year, nd_rule,
        any_value(nal_version) as nal_version,
        string_agg(reason, '; ' order by reason) as reason,
    from (select * from annual union all select * from instantaneous)
    group by wdid, app_id, parameter, reporting_year, nd_rule
),
numbered as (
    select
        *,
        row_number() over (
            partition by wdid, app_id, parameter, nd_rule order by reporting_year
        ) as exceedance_year_number,
    from exceedance_years
)
select
    wdid, app_id, parameter, reporting_year, nd_rule, nal_version,
    -- first exceedance year: Level 1; an exceedance in any later year (while in Level 1): Level 2
    exceedance_year_number::integer as level,
    'Level ' || exceedance_year_number || ' from reporting year ' || reporting_year || '-'
        || right((reporting_year + 1)::varchar, 2) || ': ' || reason as reason,
    make_date(reporting_year + 1, 7, 1) as effective_date,
    'computed' as basis,
from numbered
where exceedance_year_number <= 2
