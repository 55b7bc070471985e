-- grain: one row per violation found by an inspection (violation_source = 'Inspection')
-- inputs: stg_smarts__violations, stg_smarts__inspections
-- The violation names its inspection in violation_source_id; the inspection's own wdid and
-- app_id come from the inspections export (null when that inspection is not in it).
with violations_from_inspections as (
    select wdid, app_id, violation_id, violation_source_id as inspection_id
    from stg_smarts__violations
    where violation_source = 'Inspection' and violation_source_id is not null
),
inspections as (
    select wdid, app_id, inspection_id from stg_smarts__inspections
)
select
    i.wdid as inspection_wdid,
    i.app_id as inspection_app_id,
    v.inspection_id,
    v.wdid as violation_wdid,
    v.app_id as violation_app_id,
    v.violation_id,
from violations_from_inspections as v
left join inspections as i using (inspection_id)
