-- One row per ERP and currency (erp_system netsuite, dynamics: what each ERP holds), and one per currency for all ERPs
-- together (erp_system 'all'): the ERPs' open AR (every ERP customer), the part on customers with a CRM account, what
-- those CRM accounts show (Open_AR__c as landed back from the CRM), the part no CRM account claims, and how many
-- customers are unmatched or differ (open_ar_differences lists them). Amounts are never added across currencies.
-- An ERP's rows are its open invoices in their currency; the 'all' rows are the customers' open AR in the customer's
-- currency (an account with a customer in each ERP has one figure, the one its CRM account shows). The CRM shows one
-- figure per account for all its ERPs: crm_shows and differing_accounts are on the 'all' rows only.
-- A view: read when the report is made (the report's money reconciliation table reads the 'all' rows).
{{ config(materialized='view') }}

with per_erp as (

    select
        invoices.erp_system,
        invoices.currency_code,
        sum(invoices.amount_open)                                                   as erp_open_ar,
        coalesce(sum(invoices.amount_open) filter (where erp_matches.crm_account_id is not null), 0) as on_crm_accounts,
        null::numeric                                                               as crm_shows,
        coalesce(sum(invoices.amount_open) filter (where erp_matches.crm_account_id is null), 0) as unmatched_open_ar,
        count(distinct invoices.erp_customer_id) filter (where erp_matches.crm_account_id is null
                                                           and invoices.amount_open <> 0)::integer as unmatched_customers,
        null::integer                                                               as differing_accounts
    from {{ ref('int_invoices_aged') }} as invoices
    left join {{ ref('int_customer_erp_matches') }} as erp_matches using (erp_customer_id)
    group by 1, 2

),

all_erps as (

    select
        'all'::text                                                                 as erp_system,
        collections.currency_code,
        sum(collections.open_ar)                                                    as erp_open_ar,
        coalesce(sum(collections.open_ar) filter (where collections.crm_account_id is not null), 0) as on_crm_accounts,
        coalesce(sum(accounts.synced_open_ar), 0)                                   as crm_shows,
        coalesce(sum(collections.open_ar) filter (where collections.crm_account_id is null), 0) as unmatched_open_ar,
        count(*) filter (where collections.crm_account_id is null and collections.open_ar <> 0)::integer
                                                                                    as unmatched_customers,
        count(*) filter (where collections.crm_account_id is not null
                           and collections.open_ar <> coalesce(accounts.synced_open_ar, 0))::integer
                                                                                    as differing_accounts
    from {{ ref('customer_collections') }} as collections
    left join {{ ref('int_crm_accounts') }} as accounts using (crm_account_id)
    where collections.erp_customer_id is not null
    group by 2

)

select * from per_erp
union all
select * from all_erps
