-- Candidates of sync psa_project_roles: the planned roles of a new PSA project, one per opportunity line item
-- (role, sold hours, unit price); external id = the CRM line item id. Staffing people onto them stays in the PSA.
with engagements as (

    select facts.*
    from {{ ref('int_engagement_facts') }} as facts
    left join {{ ref('int_sync_created_ids') }} as created_here
        on created_here.sync_name = 'psa_projects' and created_here.record_key = facts.engagement_id
    -- a project still to be created, or one the hub created; never one made by hand and matched by rule
    where facts.psa_match_method = 'none' or created_here.created_by_hub

)

select
    line_items.crm_opportunity_line_item_id                     as external_id,
    engagements.engagement_id                                   as workspace_external_id,
    coalesce(engagements.psa_project_id, created.destination_id) as workspace_id,
    roles.psa_role_id                                           as role_id,
    line_items.role_name                                        as role_name,
    line_items.unit_price                                       as bill_rate,
    line_items.currency_code                                    as currency,
    round(line_items.quantity_hours * 60)::bigint               as planned_minutes,
    engagements.customer_name                                   as _customer,
    engagements.engagement_id                                   as _engagement,
    line_items.total_price                                      as _amount_at_stake,
    line_items.currency_code                                    as _currency,
    case
        when roles.psa_role_id is null then 'unknown_role'
        when coalesce(engagements.psa_project_id, created.destination_id) is null then 'psa_project_not_created_yet'
    end                                                         as block_reason_code
from {{ ref('int_crm_opportunity_lines') }} as line_items
join engagements on engagements.crm_opportunity_id = line_items.crm_opportunity_id
left join {{ ref('int_psa_roles') }} as roles on lower(roles.role_name) = lower(line_items.role_name)
left join {{ ref('int_sync_created_ids') }} as created
    on created.sync_name = 'psa_projects' and created.record_key = engagements.engagement_id
