-- Candidates of sync erp_invoice_requests: one row per completed PSA milestone of a milestone-billed engagement
-- that was not invoiced before the hub, as an ERP invoice request; external id = the PSA milestone (story) id.
-- erp_system, erp_company: the ERP and company the request goes to: NetSuite when it already holds it, else the one
-- the engagement's legal entity posts to on the request date (int_erp_routes).
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
    select substring(memo from 'Milestone story ([A-Za-z0-9]+)') as psa_story_id
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
    case
        when coalesce(facts.erp_project_id, created.destination_id) is null then 'engagement_not_in_erp'
        when coalesce(milestones.budget_estimate_amount, 0) <= 0 then 'milestone_without_amount'
        when collections.is_credit_hold then 'customer_credit_hold'
    end                                                         as block_reason_code,
    {{ erp_route_columns('route', 'legal_entities.erp_subsidiary_id',
                         held_system="case when held.external_id is not null then 'netsuite' end") }}
from milestones
join facts on facts.psa_project_id = milestones.psa_project_id
left join {{ ref('int_sync_created_ids') }} as created
    on created.sync_name = 'erp_projects' and created.record_key = facts.engagement_id
left join {{ ref('int_customer_collections') }} as collections on collections.customer_id = facts.customer_id
left join {{ ref('currencies') }} as currencies on currencies.currency_code = facts.contract_currency
left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = facts.legal_entity
left join (
    select distinct external_id from {{ ref('stg_netsuite__invoice_requests') }} where external_id is not null
) as held on held.external_id = milestones.psa_story_id
{{ erp_route_join('route', 'facts.legal_entity', 'coalesce(milestones.due_date, milestones.updated_at::date)') }}
where milestones.psa_story_id not in (select psa_story_id from legacy_invoiced where psa_story_id is not null)
