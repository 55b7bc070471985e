-- grain: one row per official compliance event of a facility: inspection, violation or enforcement
-- inputs: int_inspection_outcomes, stg_smarts__violations, int_enforcement_penalties
with inspections as (
    select
        wdid, app_id, inspection_date as event_date, 'inspection' as kind,
        coalesce(inspection_purpose, 'Inspection') as title,
        concat_ws('; ',
            inspector_type || ' inspector',
            case when violations_found > 0 then violations_found || ' violation(s) found' end,
            case when follow_up_required then 'follow-up required' end,
            case when virtual_inspection then 'virtual' end,
            general_notes
        ) as detail,
        'inspections' as source_dataset, inspection_id as source_id,
    from int_inspection_outcomes
),
violations as (
    select
        wdid, app_id, coalesce(occurrence_date, discovery_date) as event_date, 'violation' as kind,
        coalesce(violation_type, 'Violation') as title,
        concat_ws('; ',
            violation_status,
            case when serious_violation then 'serious' end,
            'priority ' || violation_priority,
            case when violation_source = 'Inspection' then 'from inspection ' || violation_source_id end,
            description
        ) as detail,
        'violations' as source_dataset, violation_id as source_id,
    from stg_smarts__violations
),
enforcement as (
    select
        wdid, app_id, issuance_date as event_date, 'enforcement' as kind,
        coalesce(enforcement_type, 'Enforcement action') as title,
        concat_ws('; ',
            enforcement_status,
            case when has_penalty then '$' || format('{:,.0f}', assessed) || ' assessed' end,
            case when has_penalty then '$' || format('{:,.0f}', balance) || ' due' end,
            description
        ) as detail,
        'enforcement_actions' as source_dataset, enforcement_id as source_id,
    from int_enforcement_penalties
)
select *, true as official from inspections
union all
select *, true as official from violations
union all
select *, true as official from enforcement
