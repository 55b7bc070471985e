-- grain: one row per monitoring report (wdid, app_id, report_id), industrial and construction
-- inputs: stg_smarts__industrial_monitoring, stg_smarts__construction_monitoring
-- A report's samples may come from several locations: the report carries the first location
-- by name (with its type, description and coordinates), so the choice is stable across runs.
with industrial as (
    select
        wdid, app_id, report_id, permit_type, source_reporting_year as report_year, event_type,
        null::date as event_start_date, null::date as event_end_date,
        null::double as rainfall_amount, null::integer as business_days,
        monitoring_location_name, monitoring_location_type, monitor_location_description,
        monitoring_latitude, monitoring_longitude, certifier_name, certified_date,
    from stg_smarts__industrial_monitoring
),
construction as (
    select
        wdid, app_id, report_id, permit_type, report_year, event_type,
        event_start_date, event_end_date, rainfall_amount, business_days,
        monitoring_location_name, monitoring_location_type, monitor_location_description,
        monitoring_latitude, monitoring_longitude, certifier_name, certified_date,
    from stg_smarts__construction_monitoring
),
samples as (
    select * from industrial
    union all
    select * from construction
),
reports_grouped as (
    select
        wdid, app_id, report_id,
        min(report_year) as report_year,
        min(permit_type) as permit_type,
        min(event_type) as event_type,
        min(event_start_date) as event_start_date,
        max(event_end_date) as event_end_date,
        max(rainfall_amount) as rainfall_amount,
        max(business_days) as business_days,
        min({
            'name': monitoring_location_name,
            'type': monitoring_location_type,
            'description': monitor_location_description,
            'latitude': monitoring_latitude,
            'longitude': monitoring_longitude,
        }) as location,
        min(certifier_name) as certifier_name,
        min(certified_date) as certified_date,
    from samples
    group by wdid, app_id, report_id
)
select
    wdid, app_id, report_id, report_year, permit_type, event_type,
    event_start_date, event_end_date, rainfall_amount, business_days,
    location.name as monitoring_location_name,
    location.type as monitoring_location_type,
    location.description as monitoring_location_description,
    location.latitude as monitoring_latitude,
    location.longitude as monitoring_longitude,
    certifier_name, certified_date,
from reports_grouped
