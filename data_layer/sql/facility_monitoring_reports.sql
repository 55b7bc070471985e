-- grain: one row per monitoring report (wdid, app_id, report_id) of a facility, either permit family
-- inputs: stg_smarts__industrial_monitoring, stg_smarts__construction_monitoring
with industrial as (
    select
        wdid, app_id, report_id, 'industrial_monitoring' as source_dataset,
        min(reporting_year) as reporting_year,
        min(source_reporting_year) as source_reporting_year,
        min(event_type) as event_type,
        min(sample_date) as first_sample_date, max(sample_date) as last_sample_date,
        count(distinct sample_id) as samples, count(distinct parameter_canonical) as parameters,
        count(*) as results,
        count(*) filter (where duplicate_sample) as duplicate_results,
    from stg_smarts__industrial_monitoring
    group by wdid, app_id, report_id
),
construction as (
    select
        wdid, app_id, report_id, 'construction_monitoring' as source_dataset,
        min(reporting_year) as reporting_year,
        min(report_year) as source_reporting_year,
        min(event_type) as event_type,
        min(sample_date) as first_sample_date, max(sample_date) as last_sample_date,
        count(distinct sample_id) as samples, count(distinct parameter_canonical) as parameters,
        count(*) as results,
        count(*) filter (where duplicate_sample) as duplicate_results,
    from stg_smarts__construction_monitoring
    group by wdid, app_id, report_id
)
select * from industrial
union all
select * from construction
