-- One row per currency: the ERP's open AR (every ERP customer), the part on customers with a CRM account, what those
-- CRM accounts show (Open_AR__c as landed back from the CRM), the part no CRM account claims, and how many customers
-- are unmatched or differ (open_ar_differences lists them). Amounts are never added across currencies.
-- A view: read when the report is made (the report's money reconciliation table).
{{ config(materialized='view') }}

select
    collections.currency_code,
    sum(collections.open_ar)                                                        as erp_open_ar,
    coalesce(sum(collections.open_ar) filter (where collections.crm_account_id is not null), 0) as on_crm_accounts,
    coalesce(sum(accounts.synced_open_ar), 0)                                       as crm_shows,
    coalesce(sum(collections.open_ar) filter (where collections.crm_account_id is null), 0) as unmatched_open_ar,
    count(*) filter (where collections.crm_account_id is null and collections.open_ar <> 0)::integer
                                                                                    as unmatched_customers,
    count(*) filter (where collections.crm_account_id is not null
                       and collections.open_ar <> coalesce(accounts.synced_open_ar, 0))::integer
                                                                                    as differing_accounts
from {{ ref('customer_collections') }} as collections
left join {{ ref('int_crm_accounts') }} as accounts using (crm_account_id)
where collections.erp_customer_id is not null
group by 1
