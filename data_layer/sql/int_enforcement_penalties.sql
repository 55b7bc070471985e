-- grain: one row per enforcement action (enforcement_id): the source columns and penalty figures
-- inputs: stg_smarts__enforcement_actions
with actions as (
    select * from stg_smarts__enforcement_actions
),
-- assessed: the final assessment, else what was paid plus what is owed, else the initial one
assessed as (
    select
        *,
        coalesce(total_assessment, received_amount + balance_due, initial_assessment) as assessed,
    from actions
),
-- received: as recorded, else assessed less the balance, else nothing yet (when assessed);
-- greatest() skips nulls, so each difference is wrapped to stay null when a side is unknown
received as (
    select
        *,
        coalesce(
            received_amount,
            case when assessed - balance_due is not null then greatest(assessed - balance_due, 0) end,
            case when assessed is not null then 0 end
        ) as received,
    from assessed
),
-- balance: as recorded, else assessed less received (never below zero)
figures as (
    select
        *,
        coalesce(
            balance_due,
            case when assessed - received is not null then greatest(assessed - received, 0) end
        ) as balance,
    from received
)
select
    *,
    (total_assessment is null and assessed is not null)
        or (received_amount is null and received is not null)
        or (balance_due is null and balance is not null) as penalty_derived,
    coalesce(assessed, 0) > 0 as has_penalty,
from figures
