-- One row per ERP customer whose open AR the CRM does not show as the ERP has it: no CRM account claims a customer with
-- open AR, or its CRM account shows no AR or another amount (Open_AR__c as landed back). The report lists them under
-- open_ar_reconciliation, largest difference first.
-- A view: read when the report is made.
{{ config(materialized='view') }}

select
    collections.currency_code,
    collections.customer_id,
    collections.crm_account_id,
    collections.erp_customer_id,
    collections.customer_name,
    collections.open_ar                                                 as erp_open_ar,
    collections.overdue_ar                                              as erp_overdue_ar,
    accounts.synced_open_ar                                             as crm_open_ar,
    abs(collections.open_ar - coalesce(accounts.synced_open_ar, 0))     as difference,
    case when collections.crm_account_id is null then 'no CRM account'
         when accounts.synced_open_ar is null then 'CRM shows no AR'
         else 'amounts differ' end                                      as finding
from {{ ref('customer_collections') }} as collections
left join {{ ref('int_crm_accounts') }} as accounts using (crm_account_id)
where collections.erp_customer_id is not null
  and ((collections.crm_account_id is null and collections.open_ar <> 0)
       or (collections.crm_account_id is not null and collections.open_ar <> coalesce(accounts.synced_open_ar, 0)))
