-- Candidates of sync psa_project_milestones: for milestone-billed engagements whose PSA project the hub creates,
-- one milestone story per equal share of the contract value (one per service month, at least one), due at the
-- end of its share of the contract period; external id = opportunity id + ':' + milestone number.
with engagements as (

    select facts.*
    from {{ ref('int_engagement_facts') }} as facts
    left join {{ ref('int_sync_created_ids') }} as created_here
        on created_here.sync_name = 'psa_projects' and created_here.record_key = facts.engagement_id
    -- a project still to be created, or one the hub created; never one made by hand and matched by rule
    where facts.billing_model = 'milestone' and (facts.psa_match_method = 'none' or created_here.created_by_hub)

),

shares as (

    select
        engagements.*,
        coalesce(engagements.psa_project_id, created.destination_id) as workspace_psa_id,
        greatest(1, (extract(year from end_date) * 12 + extract(month from end_date))
                    - (extract(year from start_date) * 12 + extract(month from start_date)) + 1)::int as milestone_count
    from engagements
    left join {{ ref('int_sync_created_ids') }} as created
        on created.sync_name = 'psa_projects' and created.record_key = engagements.engagement_id
    where start_date is not null and end_date is not null

)

select
    shares.engagement_id || ':' || milestone_number             as external_id,
    shares.engagement_id                                        as workspace_external_id,
    shares.workspace_psa_id                                     as workspace_id,
    'Milestone ' || milestone_number || ' of ' || shares.milestone_count as title,
    'milestone'                                                 as story_type,
    true                                                        as billable,
    true                                                        as fixed_fee,
    (shares.start_date + ((shares.end_date - shares.start_date) * milestone_number / shares.milestone_count))::date as due_date,
    -- the last milestone takes the rounding remainder so that the shares add up to the contract value
    case when milestone_number = shares.milestone_count
         then (shares.sold_amount * 100)::bigint - ((shares.sold_amount * 100)::bigint / shares.milestone_count) * (shares.milestone_count - 1)
         else (shares.sold_amount * 100)::bigint / shares.milestone_count end as budget_estimate_in_cents,
    shares.customer_name                                        as _customer,
    shares.engagement_id                                        as _engagement,
    shares.sold_amount / shares.milestone_count                 as _amount_at_stake,
    shares.contract_currency                                    as _currency,
    case
        when shares.sold_amount < 0 then 'negative_amount'
        when shares.workspace_psa_id is null then 'psa_project_not_created_yet'
    end                                                         as block_reason_code
from shares
cross join lateral generate_series(1, shares.milestone_count) as milestone_number
