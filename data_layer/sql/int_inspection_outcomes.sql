-- grain: one row per inspection (inspection_id): the source columns, follow-up flag, violations produced
-- inputs: stg_smarts__inspections, stg_smarts__violations
with inspections as (
    select * from stg_smarts__inspections
),
-- violations whose source is 'Inspection' name the inspection in violation_source_id
produced as (
    select violation_source_id as inspection_id, count(*) as violations_found
    from stg_smarts__violations
    where violation_source = 'Inspection'
    group by violation_source_id
)
select
    i.*,
    try_cast(trim(i.follow_up_action) as boolean) as follow_up_required,
    coalesce(p.violations_found, 0) as violations_found,
    coalesce(p.violations_found, 0) > 0 as found_violations,
from inspections as i
left join produced as p using (inspection_id)
