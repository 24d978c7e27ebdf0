-- One row per (data-quality rule broken, source record): the rules of docs/kpis.md 1-13, each with a reason code,
-- the record, its engagement and customer, the money at stake and since when. The reason codes are those of the
-- sandbox's defect manifest, so every injected defect can be found by (reason_code, source_record_id).
with time_issues as (

    -- kept incrementally, entry by entry (the entries each build rewrites): int_time_entry_issues
    select reason_code, rule_number, source_system, source_object, source_record_id, engagement_id, amount_at_stake,
           currency_code, rate_to_reporting, since_date, detail
    from {{ ref('int_time_entry_issues') }}

),

expense_issues as (

    select 'expense_without_project', 10, psa_system, {{ psa_object('psa_system', 'expenses') }}, psa_expense_id, engagement_id,
           amount, currency_code, rate_to_reporting, expense_date, 'expense on a project that does not exist'
    from {{ ref('int_expenses') }}
    where is_without_project

),

time_bill_issues as (

    select 'time_bill_without_project', 10, time_bills.erp_system,
           case time_bills.erp_system when 'netsuite' then 'timebill' else 'journaltrans' end,
           time_bills.erp_time_bill_id, null::text,
           time_bills.hours * time_bills.bill_rate, null::text, null::numeric, time_bills.work_date,
           'ERP time bill with no project'
    from {{ ref('int_time_bills') }} as time_bills
    left join (
        -- the live ERP projects' ids, grouped: the planner then hashes these few thousand, not every time bill (the
        -- role view's row estimate made it hash all 735,777 time bills of the medium firm: 2.3 s against 0.8 s)
        select erp_project_id from {{ ref('int_erp_projects') }} group by 1
    ) as projects using (erp_project_id)
    where projects.erp_project_id is null

),

invoice_issues as (

    -- no project at all, or item lines that name none (found only through the time bills it invoiced)
    select 'invoice_without_project', 10, erp_system, 'transaction', erp_invoice_id, engagement_id,
           amount, currency_code, rate_to_reporting, invoice_date,
           case when erp_project_id is null then 'invoice names no project'
                else 'invoice lines name no project (found through its time bills)' end
    from {{ ref('int_invoices') }}
    where invoice_type = 'invoice'
      and (erp_project_id is null or (item_lines > 0 and project_source not in ('entity', 'lines')))
    union all
    select 'invoice_currency_mismatch', 9, invoices.erp_system, 'transaction', invoices.erp_invoice_id, invoices.engagement_id,
           invoices.amount, invoices.currency_code, invoices.rate_to_reporting, invoices.invoice_date,
           'invoice in ' || invoices.currency_code || ', customer in ' || coalesce(invoices.customer_currency_code, '?')
           || ', contract in ' || coalesce(facts.contract_currency, '?')
    from {{ ref('int_invoices') }} as invoices
    left join {{ ref('int_engagement_facts') }} as facts using (engagement_id)
    where invoices.currency_code <> invoices.customer_currency_code
       or invoices.currency_code <> facts.contract_currency

),

customers as (

    select customers.*, accounts.crm_system, accounts.crm_object
    from {{ ref('int_customers_matched') }} as customers
    left join {{ ref('int_crm_accounts') }} as accounts on accounts.crm_account_id = customers.crm_account_id

),

-- each duplicate names the others of its name (not the first by id: which id sorts first is the CRM's numbering)
duplicates_of_name as (

    select
        duplicates.customer_id,
        {{ dbt.listagg('others.customer_id', "', '", 'order by others.customer_id') }} as other_accounts
    from customers as duplicates
    join customers as others
        on others.name_key = duplicates.name_key and others.customer_id <> duplicates.customer_id
        and others.is_duplicate_in_crm
    where duplicates.is_duplicate_in_crm
    group by 1

),

customer_issues as (

    select 'duplicate_customer_crm', 7, crm_system, crm_object, crm_account_id, null::text, 0::numeric, null::text,
           null::numeric, null::date, 'same name and legal entity as CRM account ' || coalesce(other_accounts, '?')
    from customers
    left join duplicates_of_name using (customer_id)
    where is_duplicate_in_crm
    union all
    select 'duplicate_customer_erp', 7, customers.erp_system, 'customer', customers.erp_customer_id, null, 0, null, null,
           null, 'same name and legal entity as another ERP customer'
    from {{ ref('int_erp_customers') }} as customers
    join (
        select erp_system, {{ normalized_name('customer_name') }} as name_key, erp_company
        from {{ ref('int_erp_customers') }}
        group by 1, 2, 3 having count(*) > 1
    ) as duplicated on duplicated.erp_system = customers.erp_system
        and duplicated.name_key = {{ normalized_name('customers.customer_name') }}
        and duplicated.erp_company is not distinct from customers.erp_company
    union all
    select 'missing_legal_entity', 8, crm_system, crm_object, crm_account_id, null, 0, null, null, null,
           'CRM account has no legal entity'
    from customers
    where crm_account_id is not null and is_missing_legal_entity

),

opportunity_issues as (

    select reason_code, rule_number, opportunities.crm_system, opportunities.crm_object, facts.engagement_id, facts.engagement_id,
           facts.sold_amount, facts.contract_currency, facts.sold_rate_to_reporting, facts.closed_won_date, detail
    from {{ ref('int_engagement_facts') }} as facts
    join {{ ref('int_crm_opportunities') }} as opportunities using (crm_opportunity_id)
    cross join lateral (values
        ('unknown_legal_entity', 8, opportunities.legal_entity is not null
            and opportunities.legal_entity not in (select legal_entity from {{ ref('legal_entities') }}),
         'legal entity ' || coalesce(opportunities.legal_entity, '') || ' is not mapped to an ERP subsidiary'),
        ('closed_won_without_line_items', 11, facts.line_items = 0, 'closed-won opportunity has no line items'),
        ('closed_won_without_start_date', 11, opportunities.start_date is null, 'closed-won opportunity has no start date'),
        ('closed_won_without_billing_model', 11, facts.billing_model is null,
         'billing model ' || coalesce(opportunities.billing_model, '(none)') || ' is not a known billing model')
    ) as rules (reason_code, rule_number, applies, detail)
    where applies

),

project_issues as (

    select 'negative_budget_remaining', 12, projects.psa_system, {{ psa_object('projects.psa_system', 'workspaces') }},
           projects.psa_project_id, project_keys.engagement_id,
           projects.budget_used_amount - projects.contract_amount, projects.currency_code, null::numeric,
           projects.updated_at::date, 'budget used ' || projects.budget_used_amount || ' exceeds budget ' || projects.contract_amount
    from {{ ref('int_psa_projects') }} as projects
    left join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system in {{ psa_systems() }} and project_keys.project_id = projects.psa_project_id
    where projects.contract_amount > 0 and projects.budget_used_amount > projects.contract_amount
    union all
    select case when key_status in ('several', 'several_engagements') then 'engagement_key_matches_several'
                else 'engagement_key_matches_none' end,
           13, source_system, case source_system when 'netsuite' then 'job' else 'workspaces' end, project_id,
           engagement_id, 0, null, null, null,
           case when key_status in ('several', 'several_engagements')
                then 'one of several ' || source_system || ' projects matching the same engagement key'
                else source_system || ' project matches no closed-won opportunity' end
    from {{ ref('int_project_keys') }}
    where key_status in ('several', 'several_engagements', 'none')
    union all
    select 'engagement_key_matches_several', 13, opportunities.crm_system, opportunities.crm_object, engagement_id,
           engagement_id, 0, null, null, null,
           'matches ' || erp_candidate_count || ' ERP and ' || psa_candidate_count || ' PSA projects'
    from {{ ref('int_engagements_keyed') }} as keyed
    join {{ ref('int_crm_opportunities') }} as opportunities on opportunities.crm_opportunity_id = keyed.engagement_id
    where erp_candidate_count > 1 or psa_candidate_count > 1

),

all_issues as (

    select * from time_issues
    union all select * from expense_issues
    union all select * from time_bill_issues
    union all select * from invoice_issues
    union all select * from customer_issues
    union all select * from opportunity_issues
    union all select * from project_issues

)

select
    all_issues.reason_code || ':' || all_issues.source_system || ':' || all_issues.source_record_id as issue_id,
    all_issues.reason_code,
    all_issues.rule_number,
    all_issues.source_system,
    all_issues.source_object,
    all_issues.source_record_id,
    all_issues.engagement_id,
    facts.customer_name,
    round(coalesce(all_issues.amount_at_stake, 0), 2)           as amount_at_stake,
    coalesce(all_issues.currency_code, facts.contract_currency) as currency_code,
    round(coalesce(all_issues.amount_at_stake, 0)
          * coalesce(all_issues.rate_to_reporting, facts.as_of_rate_to_reporting, 1), 2) as amount_at_stake_reporting,
    all_issues.since_date,
    all_issues.detail
from all_issues
left join {{ ref('int_engagement_facts') }} as facts using (engagement_id)
