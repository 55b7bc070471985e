-- grain: one computed exceedance event per industrial facility (wdid, app_id) and ND rule, timeline-shaped
-- inputs: exceedances_annual, exceedances_instantaneous
with annual as (
    select
        wdid, app_id, nd_rule, nal_version,
        make_date(reporting_year + 1, 7, 1) as event_date,
        'Annual NAL exceedance (computed): ' || parameter as title,
        'reporting year ' || reporting_year || '-' || right((reporting_year + 1)::varchar, 2)
            || ': average ' || printf('%.4g', average) || ' ' || units
            || ' above the annual NAL ' || printf('%.4g', annual_nal) || ' ' || units
            || ' over ' || n_used || ' result(s), ' || n_nd || ' non-detect(s); ND rule: ' || nd_rule
            || '; NAL table: ' || nal_version as detail,
        wdid || '|' || parameter || '|' || reporting_year as source_id,
    from exceedances_annual
    where exceeds
),
instantaneous as (
    select
        wdid, app_id, nd_rule, nal_version,
        exceedance_date as event_date,
        'Instantaneous NAL exceedance (computed): ' || parameter as title,
        'reporting year ' || reporting_year || '-' || right((reporting_year + 1)::varchar, 2)
            || ': ' || n_above || ' results beyond the instantaneous NAL '
            || concat_ws('-', printf('%.4g', instantaneous_min_nal), printf('%.4g', instantaneous_max_nal))
            || ' ' || units || ' (results ' || printf('%.4g', min_value) || ' to '
            || printf('%.4g', max_value) || ' ' || units || '); ND rule: ' || nd_rule || '; NAL table: ' || nal_version as detail,
        array_to_string(above_sample_ids, ',') as source_id,
    from exceedances_instantaneous
    where exceeds
),
events as (
    select * from annual
    union all
    select * from instantaneous
)
select
    wdid, app_id, nd_rule, nal_version, event_date,
    'exceedance' as kind,
    title, detail,
    'industrial_monitoring' as source_dataset,
    source_id,
    false as official,
from events
