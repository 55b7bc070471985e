-- grain: one row per industrial facility (wdid, app_id), parameter with an annual NAL, reporting year and ND rule
-- inputs: int_samples_averaged_to_reporting_year
with averaged as (
    select * from int_samples_averaged_to_reporting_year
)
select
    *,
    -- above the NAL beyond floating-point rounding (1 part in 10^9); no average, no exceedance
    coalesce(average > annual_nal * (1 + 1e-9), false) as exceeds,
    average / annual_nal as ratio_to_nal,
    'computed' as basis,
from averaged
