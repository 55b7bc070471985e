-- grain: one row per SMARTS facility (wdid, app_id) and July–June reporting year with official violations
-- inputs: stg_smarts__violations
with violations as (
    select wdid, app_id, occurrence_date from stg_smarts__violations
    where occurrence_date is not null
),
by_year as (
    select
        wdid,
        app_id,
        case when month(occurrence_date) >= 7 then year(occurrence_date)
             else year(occurrence_date) - 1 end::integer as reporting_year,
        count(*) as violations,
    from violations
    group by all
)
select * from by_year
