-- One row per record stuck between systems or breaking a data-quality rule: what, since when, against which
-- SLA, and how much money is at stake. Stuck kinds (category 'stuck', SLAs from issue 7):
--   closed_won_without_erp_project / _psa_project  deal won more than var unprovisioned_deal_sla_days ago, no project
--   approved_time_not_posted / approved_expense_not_posted  approved billable work of a keyed engagement not in the
--                                                ERP (one row per engagement), SLA var unposted_time_sla_days
--   invoice_not_reflected_in_crm                 the CRM account's open AR differs from the ERP's (one row per account)
--   milestone_completed_not_invoiced             a completed milestone of a milestone-billed engagement with no
--                                                invoice request in the ERP
-- Every data-quality rule (category 'data_quality', docs/kpis.md 1-13) comes from int_data_quality_issues.
-- erp_system: the ERP a stuck record waits for (the one its engagement's legal entity posts to now; a milestone's, the
-- one its invoice request is routed to); null where no ERP is concerned (a PSA project, the CRM's figures, a rule).
with as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

facts as (

    select facts.*, opportunities.crm_system, opportunities.crm_object, routes.erp_system as current_erp_system
    from {{ ref('int_engagement_facts') }} as facts
    left join {{ ref('int_crm_opportunities') }} as opportunities using (crm_opportunity_id)
    left join {{ ref('int_erp_routes') }} as routes on routes.legal_entity = facts.legal_entity and routes.is_current

),

unprovisioned as (

    select 'closed_won_without_erp_project' as reason_code, crm_system as source_system, crm_object as source_object,
           engagement_id as source_record_id, engagement_id, customer_name, closed_won_date as since_date,
           {{ var('unprovisioned_deal_sla_days', 2) }} as sla_days, sold_amount as amount_at_stake, contract_currency as currency_code,
           sold_amount * sold_rate_to_reporting as amount_at_stake_reporting,
           'closed-won deal has no ERP project (' || erp_match_method || ')' as detail,
           current_erp_system as erp_system
    from facts where erp_project_id is null
    union all
    select 'closed_won_without_psa_project', crm_system, crm_object, engagement_id, engagement_id, customer_name,
           closed_won_date, {{ var('unprovisioned_deal_sla_days', 2) }}, sold_amount, contract_currency,
           sold_amount * sold_rate_to_reporting, 'closed-won deal has no PSA project (' || psa_match_method || ')',
           null::text
    from facts where psa_project_id is null

),

unposted_time as (

    -- approved billable entries in open periods not in the ERP, summed by month in int_time_engagement_months
    select 'approved_time_not_posted', {{ installed_psa() }}, {{ psa_object(installed_psa(), 'time_entries') }}, months.engagement_id, months.engagement_id,
           facts.customer_name, min(months.unposted_first_updated_at)::date, {{ var('unposted_time_sla_days', 7) }},
           sum(months.unposted_value), min(months.unposted_currency_code),
           sum(months.unposted_value_reporting),
           sum(months.unposted_entry_count) || ' approved billable entries (' || sum(months.unposted_hours) || ' h) not posted to the ERP',
           facts.current_erp_system
    from {{ ref('int_time_engagement_months') }} as months
    join facts using (engagement_id)
    where months.unposted_entry_count > 0
    group by months.engagement_id, facts.customer_name, facts.current_erp_system

),

unposted_expenses as (

    select 'approved_expense_not_posted', {{ installed_psa() }}, {{ psa_object(installed_psa(), 'expenses') }}, expenses.engagement_id, expenses.engagement_id,
           facts.customer_name, min(expenses.updated_at)::date, {{ var('unposted_time_sla_days', 7) }},
           sum(expenses.amount), min(expenses.currency_code), sum(expenses.amount * expenses.rate_to_reporting),
           count(*) || ' approved billable expenses not posted to the ERP',
           facts.current_erp_system
    from {{ ref('int_expenses') }} as expenses
    join facts using (engagement_id)
    where expenses.is_approved and expenses.is_billable and not expenses.is_posted_to_erp and not expenses.is_period_closed
    group by expenses.engagement_id, facts.customer_name, facts.current_erp_system

),

crm_finance as (

    select 'invoice_not_reflected_in_crm', accounts.crm_system, accounts.crm_object, collections.crm_account_id, null::text,
           collections.customer_name, coalesce(accounts.finance_synced_at::date, latest.latest_invoice_date), 1,
           abs(collections.open_ar - coalesce(accounts.synced_open_ar, 0)), collections.currency_code,
           abs(collections.open_ar_reporting - coalesce(accounts.synced_open_ar, 0) * (collections.open_ar_reporting / nullif(collections.open_ar, 0))),
           'CRM open AR ' || coalesce(accounts.synced_open_ar::text, '(never synced)') || ' vs ERP ' || collections.open_ar,
           null::text
    from {{ ref('customer_collections') }} as collections
    join {{ ref('int_crm_accounts') }} as accounts using (crm_account_id)
    left join (select erp_customer_id, max(invoice_date) as latest_invoice_date from {{ ref('int_invoices') }} group by 1) as latest
        on latest.erp_customer_id = collections.erp_customer_id
    where collections.open_ar <> coalesce(accounts.synced_open_ar, 0)

),

milestones_not_invoiced as (

    -- the milestones the invoice-request sync should push (pushable or blocked) that the ERP does not hold yet
    select 'milestone_completed_not_invoiced', {{ installed_psa() }}, {{ psa_object(installed_psa(), 'stories') }}, candidates.external_id, candidates._engagement,
           candidates._customer, candidates.custrecord_pshub_ir_date, 5,
           candidates._amount_at_stake, candidates._currency,
           candidates._amount_at_stake * facts.as_of_rate_to_reporting,
           'completed milestone "' || candidates.custrecord_pshub_ir_milestone || '" has no ERP invoice request'
           || coalesce(' (blocked: ' || candidates.block_reason_code || ')', ''),
           candidates.erp_system
    from {{ ref('int_sync_erp_invoice_requests') }} as candidates
    join facts on facts.engagement_id = candidates._engagement
    where candidates.external_id not in (
        select external_id from {{ ref('stg_netsuite__invoice_requests') }} where external_id is not null)
      -- nor the draft the hub left in Dynamics (its free text invoice, unposted: no role model holds a draft)
      and candidates.external_id not in (
        select record_key from {{ ref('int_sync_created_ids') }} where sync_name = 'd365_invoice_requests')

),

stuck as (

    select * from unprovisioned
    union all select * from unposted_time
    union all select * from unposted_expenses
    union all select * from crm_finance
    union all select * from milestones_not_invoiced

)

select
    stuck.reason_code || ':' || stuck.source_system || ':' || stuck.source_record_id as issue_id,
    'stuck'                                                             as category,
    stuck.reason_code,
    null::integer                                                       as rule_number,
    stuck.source_system,
    stuck.source_object,
    stuck.source_record_id,
    stuck.engagement_id,
    stuck.customer_name,
    stuck.since_date,
    as_of.as_of_date - stuck.since_date                                 as days_open,
    stuck.sla_days,
    as_of.as_of_date - stuck.since_date > stuck.sla_days                as is_sla_breached,
    round(coalesce(stuck.amount_at_stake, 0), 2)                        as amount_at_stake,
    stuck.currency_code,
    round(coalesce(stuck.amount_at_stake_reporting, 0), 2)              as amount_at_stake_reporting,
    stuck.detail,
    stuck.erp_system
from stuck
cross join as_of

union all

select
    issues.issue_id,
    'data_quality',
    issues.reason_code,
    issues.rule_number,
    issues.source_system,
    issues.source_object,
    issues.source_record_id,
    issues.engagement_id,
    issues.customer_name,
    issues.since_date,
    as_of.as_of_date - issues.since_date,
    null,
    false,
    issues.amount_at_stake,
    issues.currency_code,
    issues.amount_at_stake_reporting,
    issues.detail,
    null::text
from {{ ref('int_data_quality_issues') }} as issues
cross join as_of
