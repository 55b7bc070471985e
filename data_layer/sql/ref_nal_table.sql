-- grain: one row per parameter of the NAL table bound to the cursor (nal_table.bind_rules)
-- inputs: cursor variable nal_table (data_layer/nals.csv); empty when nothing is bound
with bound as (
    select
        unnest(
            coalesce(getvariable('nal_table'), [])::struct(
                parameter varchar,
                units varchar,
                annual_nal double,
                instantaneous_max_nal double,
                instantaneous_min_nal double,
                nal_version varchar
            )[]
        ) as nal
)
select
    nal.parameter as parameter,
    nal.units as units,
    nal.annual_nal as annual_nal,
    nal.instantaneous_max_nal as instantaneous_max_nal,
    nal.instantaneous_min_nal as instantaneous_min_nal,
    nal.nal_version as nal_version,
from bound
