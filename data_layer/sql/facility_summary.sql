-- grain: one row per SMARTS application (wdid, app_id): unified facility, record counts, search keys
-- inputs: int_facilities_unified, stg_smarts__violations, stg_smarts__enforcement_actions, stg_smarts__inspections
with facilities as (
    select * from int_facilities_unified
),
violations as (
    select
        wdid, app_id, count(*) as violation_count,
        min(coalesce(occurrence_date, discovery_date)) as first_violation_date,
        max(coalesce(occurrence_date, discovery_date)) as last_violation_date,
    from stg_smarts__violations
    group by wdid, app_id
),
enforcement as (
    select
        wdid, app_id, count(*) as enforcement_count,
        min(issuance_date) as first_enforcement_date, max(issuance_date) as last_enforcement_date,
    from stg_smarts__enforcement_actions
    group by wdid, app_id
),
inspections as (
    select
        wdid, app_id, count(*) as inspection_count,
        min(inspection_date) as first_inspection_date, max(inspection_date) as last_inspection_date,
    from stg_smarts__inspections
    group by wdid, app_id
)
select
    f.*,
    coalesce(v.violation_count, 0) as violation_count,
    coalesce(e.enforcement_count, 0) as enforcement_count,
    coalesce(i.inspection_count, 0) as inspection_count,
    least(v.first_violation_date, e.first_enforcement_date, i.first_inspection_date)
        as first_record_date,
    greatest(v.last_violation_date, e.last_enforcement_date, i.last_inspection_date)
        as last_record_date,
    -- search keys: the WDID without spaces; name, operator and city lower-cased, space-fenced
    upper(replace(f.wdid, ' ', '')) as wdid_key,
    ' ' || lower(concat_ws(' ', f.name, f.operator, f.city, f.display_name)) || ' ' as search_words,
    -- the same fields lower-cased once per store version, so a search lower-cases only its text
    struct_pack(
        wdid := lower(f.wdid), name := lower(f.display_name),
        operator := lower(f.operator), city := lower(f.city)
    ) as search_keys,
from facilities as f
left join violations as v using (wdid, app_id)
left join enforcement as e using (wdid, app_id)
left join inspections as i using (wdid, app_id)
