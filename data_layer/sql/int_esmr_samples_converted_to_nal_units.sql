-- grain: one eSMR result (NPDES effluent), with its value in the stormwater NAL's unit for opt-in comparison
-- inputs: stg_esmr__samples, ref_nal_table, ref_unit_conversions
with samples as (
    select
        facility_place_id, facility_name, location, location_place_id, sampling_date, sampling_year,
        parameter_canonical as parameter, parameter as parameter_reported,
        qualifier, case when isnan(result) then null else result end as result,
        units, units_canonical, mdl, rl, smr_document_id, report_name,
    from stg_esmr__samples
),
nals as (
    select * from ref_nal_table
),
conversions as (
    select * from ref_unit_conversions
)
select
    s.*,
    coalesce(upper(trim(s.qualifier)) in ('ND', '<'), false) as is_nd,
    n.units as nal_units, n.annual_nal, n.instantaneous_max_nal, n.instantaneous_min_nal,
    n.nal_version,
    case when c.to_unit = n.units and not coalesce(upper(trim(s.qualifier)) in ('ND', '<'), false)
        then s.result * c.factor end as value_in_nal_units,
from samples as s
left join nals as n on n.parameter = s.parameter
left join conversions as c on c.from_unit = s.units_canonical
