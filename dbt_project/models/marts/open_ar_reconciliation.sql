-- One row per ERP and currency (erp_system netsuite, dynamics: what each ERP holds), and one per currency for all ERPs
-- together (erp_system 'all'): the ERPs' open AR (every ERP customer), the part on customers with a CRM account, what
-- those CRM accounts show (Open_AR__c as landed back from the CRM), the part no CRM account claims, and how many
-- customers are unmatched or differ (open_ar_differences lists them). Amounts are never added across currencies.
-- An ERP's rows are its open invoices in their currency; the 'all' rows add them up per currency (each ERP's rows add
-- up to them), with what the CRM accounts show beside them (per customer, in the customer's currency: an account with
-- a customer in each ERP has one figure). The CRM shows one figure per account for all its ERPs: crm_shows,
-- unmatched_customers and differing_accounts on the 'all' rows are per customer.
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

    -- the ERPs' money as their invoices hold it, in the invoice's currency (a customer may be invoiced in another
    -- currency than its own: the figures tie out to the ERPs' own open invoices per currency); what the CRM accounts
    -- show and how many differ are per customer, in the customer's currency (customer_collections)
    select
        'all'::text                                                                 as erp_system,
        coalesce(invoiced.currency_code, customers.currency_code)                   as currency_code,
        coalesce(invoiced.erp_open_ar, 0)                                           as erp_open_ar,
        coalesce(invoiced.on_crm_accounts, 0)                                       as on_crm_accounts,
        coalesce(customers.crm_shows, 0)                                            as crm_shows,
        coalesce(invoiced.unmatched_open_ar, 0)                                     as unmatched_open_ar,
        coalesce(customers.unmatched_customers, 0)                                  as unmatched_customers,
        coalesce(customers.differing_accounts, 0)                                   as differing_accounts
    from (
        select currency_code, sum(erp_open_ar) as erp_open_ar, sum(on_crm_accounts) as on_crm_accounts,
               sum(unmatched_open_ar) as unmatched_open_ar
        from per_erp group by 1
    ) as invoiced
    full join (
        select
            collections.currency_code,
            sum(accounts.synced_open_ar)                                            as crm_shows,
            count(*) filter (where collections.crm_account_id is null and collections.open_ar <> 0)::integer
                                                                                    as unmatched_customers,
            count(*) filter (where collections.crm_account_id is not null
                               and collections.open_ar <> coalesce(accounts.synced_open_ar, 0))::integer
                                                                                    as differing_accounts
        from {{ ref('customer_collections') }} as collections
        left join {{ ref('int_crm_accounts') }} as accounts using (crm_account_id)
        where collections.erp_customer_id is not null
        group by 1
    ) as customers using (currency_code)

)

select * from per_erp
union all
select * from all_erps
