-- Candidates of sync erp_invoice_requests: one row per completed PSA milestone of a milestone-billed engagement
-- that was not invoiced before the hub, as an ERP invoice request; external id = the PSA milestone (story) id.
with milestones as (

    select * from {{ ref('int_psa_tasks') }}
    where story_type = 'milestone' and state = 'completed'

),

facts as (

    select * from {{ ref('int_engagement_facts') }}
    where billing_model = 'milestone'

),

legacy_invoiced as (

    -- milestones invoiced by hand before the hub name the story in the invoice memo
    select substring(memo from 'Milestone story (\d+)') as psa_story_id
    from {{ ref('int_erp_invoices') }}
    where document_type = 'invoice' and memo like 'Milestone story %'

)

select
    milestones.psa_story_id                                     as external_id,
    facts.engagement_name || ' - ' || milestones.story_title    as name,
    coalesce(facts.erp_project_id, created.destination_id)      as custrecord_pshub_ir_project,
    milestones.budget_estimate_amount                           as custrecord_pshub_ir_amount,
    currencies.erp_currency_id                                  as custrecord_pshub_ir_currency,
    milestones.story_title                                      as custrecord_pshub_ir_milestone,
    coalesce(milestones.due_date, milestones.updated_at::date)  as custrecord_pshub_ir_date,
    'Pending'                                                   as custrecord_pshub_ir_status,
    facts.customer_name                                         as _customer,
    facts.engagement_id                                         as _engagement,
    milestones.budget_estimate_amount                           as _amount_at_stake,
    facts.contract_currency                                     as _currency,
    coalesce(routes.erp_system, 'netsuite')                     as erp_system,
    coalesce(routes.erp_company, legal_entities_r.erp_subsidiary_id::text) as erp_company,
    case
        when coalesce(facts.erp_project_id, created.destination_id) is null then 'engagement_not_in_erp'
        when coalesce(milestones.budget_estimate_amount, 0) <= 0 then 'milestone_without_amount'
        when collections.is_credit_hold then 'customer_credit_hold'
    end                                                         as block_reason_code
from milestones
join facts on facts.psa_project_id = milestones.psa_project_id
left join {{ ref('int_sync_created_ids') }} as created
    on created.sync_name = 'erp_projects' and created.record_key = facts.engagement_id
left join {{ ref('int_customer_collections') }} as collections on collections.customer_id = facts.customer_id
left join {{ ref('currencies') }} as currencies on currencies.currency_code = facts.contract_currency
left join {{ ref('int_erp_routes') }} as routes
    on routes.legal_entity = facts.legal_entity
    and case when coalesce(milestones.due_date, milestones.updated_at::date) is null then routes.is_current
             else (routes.posts_from is null or routes.posts_from <= coalesce(milestones.due_date, milestones.updated_at::date))
                  and (routes.posts_until is null or coalesce(milestones.due_date, milestones.updated_at::date) < routes.posts_until) end
left join {{ ref('legal_entities') }} as legal_entities_r on legal_entities_r.legal_entity = facts.legal_entity
where milestones.psa_story_id not in (select psa_story_id from legacy_invoiced where psa_story_id is not null)
