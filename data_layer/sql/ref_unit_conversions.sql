-- grain: one row per canonical unit that converts to a standard unit (factor: multiply by it)
-- inputs: cursor variable unit_conversions (nal_table.UNIT_CONVERSIONS); empty when nothing is bound
with bound as (
    select
        unnest(
            coalesce(getvariable('unit_conversions'), [])::struct(
                from_unit varchar,
                to_unit varchar,
                factor double,
                quantity varchar
            )[]
        ) as conversion
)
select
    conversion.from_unit as from_unit,
    conversion.to_unit as to_unit,
    conversion.factor as factor,
    conversion.quantity as quantity,
from bound
