-- grain: one monitoring result per non-detect rule, with the value it counts as under that rule
-- inputs: int_samples_converted_to_nal_units, ref_nd_rules
with samples as (
    select * from int_samples_converted_to_nal_units
),
rules as (
    select nd_rule from ref_nd_rules
)
select
    s.*,
    r.nd_rule,
    -- null: not counted (unit not comparable, no result, or a non-detect the rule leaves out)
    case
        when s.unit_status <> 'ok' then null
        when not s.is_nd then s.value
        when r.nd_rule = 'zero' then 0.0
        when r.nd_rule = 'half_rl' then s.nd_limit / 2
        when r.nd_rule = 'rl' then s.nd_limit
    end as substituted_value,
from samples as s
cross join rules as r
