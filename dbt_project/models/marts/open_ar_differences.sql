-- One row per ERP customer whose open AR the CRM does not show as the ERP has it: no CRM account claims a customer with
-- open AR, or its CRM account shows no AR or another amount (Open_AR__c as landed back). The report lists them under
-- open_ar_reconciliation, largest difference first. erp_systems: the ERPs holding its open invoices (an account with a
-- customer in each ERP: the CRM shows one figure for both).
-- A view: read when the report is made.
{{ config(materialized='view') }}

select
    collections.currency_code,
    collections.customer_id,
    collections.crm_account_id,
    collections.erp_customer_id,
    collections.customer_name,
    held.erp_systems,
    collections.open_ar                                                 as erp_open_ar,
    collections.overdue_ar                                              as erp_overdue_ar,
    accounts.synced_open_ar                                             as crm_open_ar,
    abs(collections.open_ar - coalesce(accounts.synced_open_ar, 0))     as difference,
    case when collections.crm_account_id is null then 'no CRM account'
         when accounts.synced_open_ar is null then 'CRM shows no AR'
         else 'amounts differ' end                                      as finding
from {{ ref('customer_collections') }} as collections
left join {{ ref('int_crm_accounts') }} as accounts using (crm_account_id)
left join (
    select erp_matches.customer_id, string_agg(distinct invoices.erp_system, ',' order by invoices.erp_system) as erp_systems
    from {{ ref('int_invoices_aged') }} as invoices
    join {{ ref('int_customer_erp_matches') }} as erp_matches using (erp_customer_id)
    where invoices.amount_open <> 0
    group by 1
) as held on held.customer_id = collections.customer_id
where collections.erp_customer_id is not null
  and ((collections.crm_account_id is null and collections.open_ar <> 0)
       or (collections.crm_account_id is not null and collections.open_ar <> coalesce(accounts.synced_open_ar, 0)))
