-- grain: one row per monitoring dataset and data-quality flag: flagged results and their share
-- inputs: quality_sample_flags
with samples as (
    select * from quality_sample_flags
),
counted as (
    select
        source_dataset,
        count(*) as n_samples,
        count(*) filter (where flag_impossible_value) as impossible_value,
        count(*) filter (where flag_impossible_date) as impossible_date,
        count(*) filter (where flag_duplicate_sample) as duplicate_sample,
        count(*) filter (where flag_coordinates_outside_california)
            as coordinates_outside_california,
        count(*) filter (where flag_unmapped_unit) as unmapped_unit,
        count(*) filter (where flag_uninformative_nd) as uninformative_nd,
        count(*) filter (where flagged) as any_flag,
    from samples
    group by source_dataset
),
unpivoted as (
    unpivot counted
    on impossible_value, impossible_date, duplicate_sample, coordinates_outside_california,
        unmapped_unit, uninformative_nd, any_flag
    into name flag value n_flagged
)
select
    source_dataset, flag, n_flagged, n_samples,
    n_flagged / n_samples as share,
from unpivoted
