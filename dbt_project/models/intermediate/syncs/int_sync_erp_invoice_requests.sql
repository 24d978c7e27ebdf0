-- Candidates of sync erp_invoice_requests: one row per completed PSA milestone of a milestone-billed engagement
-- that was not invoiced before the hub, as an ERP invoice request; external id = the PSA milestone (story) id.
-- Which milestones, and erp_system, erp_company (the ERP and company the request goes to: NetSuite when it already
-- holds it, else the one the engagement's legal entity posts to on the request date): int_sync_erp_record_routes.
-- _hold_reason_code: the first reason after the ERP's own (as int_sync_erp_time_bills).
-- Both CTEs are `materialized`: computed once (PostgreSQL docs, "WITH Queries": MATERIALIZED forces a separate
-- computation). PostgreSQL takes int_psa_tasks' JSON filters for one row; joined inline, or with the outbound view's
-- filters (block_reason_code, erp_system) pushed into them, it re-parsed every PSA story once per routed milestone:
-- 1.5 million rows, 19 s to read outbound.erp_invoice_requests on the medium firm instead of 0.6 s, paid by each plan
-- of the sync and by each test of a full build.
with completed as materialized (

    select * from {{ ref('int_psa_tasks') }} where story_type = 'milestone' and state = 'completed'

),

milestones as materialized (

    select milestones.*, routed.erp_system, routed.erp_company, routed.engagement_id
    from {{ ref('int_sync_erp_record_routes') }} as routed
    join completed as milestones on milestones.psa_story_id = routed.record_id
    where routed.sync_name = 'erp_invoice_requests'

),

candidates as (

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
        end                                                         as _record_reason_code,
        case
            when coalesce(milestones.budget_estimate_amount, 0) <= 0 then 'milestone_without_amount'
            when collections.is_credit_hold then 'customer_credit_hold'
        end                                                         as _hold_reason_code,
        milestones.erp_system,
        milestones.erp_company
    from milestones
    join {{ ref('int_engagement_facts') }} as facts using (engagement_id)
    left join {{ ref('int_sync_created_ids') }} as created
        on created.sync_name = 'erp_projects' and created.record_key = facts.engagement_id
    left join {{ ref('int_customer_collections') }} as collections on collections.customer_id = facts.customer_id
    left join {{ ref('currencies') }} as currencies on currencies.currency_code = facts.contract_currency

)

select candidates.*, coalesce(_record_reason_code, _hold_reason_code) as block_reason_code
from candidates
