-- Sync crm_account_finance: one row per CRM account known to the ERP: open and overdue AR, aging buckets, DSO,
-- last payment date, credit hold, credit limit, available credit and collection stage from the ERP, in the customer's
-- currency, written to the Account (key Id). Finance_Synced_At__c is stamped by the push (reverse_etl/syncs.py).
-- An ERP customer the hub created earlier in this cycle (not landed back yet) has no AR: its account gets the
-- customer id and the same zeros the landed customer will show, so the next cycle has nothing to change.
with collections as (

    select * from {{ ref('customer_collections') }}
    where crm_account_id is not null and erp_customer_id is not null

),

created_customers as (

    select created.record_key as crm_account_id, created.destination_id as erp_customer_id,
           accounts.account_name, accounts.currency_code
    from {{ ref('int_sync_created_ids') }} as created
    join {{ ref('int_crm_accounts') }} as accounts on accounts.crm_account_id = created.record_key
    where created.sync_name = 'erp_customers'
      and created.record_key not in (select crm_account_id from collections)

)

select
    crm_account_id                                              as "Id",
    erp_customer_id                                             as "ERP_Customer_Id__c",
    open_ar                                                     as "Open_AR__c",
    overdue_ar                                                  as "Overdue_AR__c",
    ar_current                                                  as "AR_Current__c",
    ar_1_30                                                     as "AR_1_30__c",
    ar_31_60                                                    as "AR_31_60__c",
    ar_61_90                                                    as "AR_61_90__c",
    ar_over_90                                                  as "AR_Over_90__c",
    dso_days                                                    as "DSO__c",
    last_payment_date                                           as "Last_Payment_Date__c",
    coalesce(is_credit_hold, false)                             as "Credit_Hold__c",
    credit_limit                                                as "Credit_Limit__c",
    available_credit                                            as "Available_Credit__c",
    collection_stage                                            as "Collection_Stage__c",
    customer_name                                               as _customer,
    overdue_ar                                                  as _amount_at_stake,
    currency_code                                               as _currency
from collections

union all

select
    crm_account_id,
    erp_customer_id,
    0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00,
    null::numeric,
    null::date,
    false,
    null::numeric,
    null::numeric,
    'none',
    account_name,
    0.00,
    currency_code
from created_customers
