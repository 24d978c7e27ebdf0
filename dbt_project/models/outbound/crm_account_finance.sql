-- Sync crm_account_finance: one row per CRM account known to the ERP: open and overdue AR, aging buckets, DSO,
-- last payment date, credit hold, credit limit, available credit and collection stage from the ERP, in the customer's
-- currency, written to the Account (key Id). Finance_Synced_At__c is stamped by the push (reverse_etl/syncs.py).
-- An ERP customer the hub created earlier in this cycle (not landed back yet) has no AR: its account gets the
-- customer id and the same zeros the landed customer will show, so the next cycle has nothing to change.
with collections as (

    -- ERP_Customer_Id__c: the account's customer in the ERP its legal entity posts to now (int_customer_erp_matches'
    -- primary), or the one that ERP's sync created earlier in this cycle (not landed yet), else the one it has: the
    -- same id before and after the created customer lands. The AR is the customer's in every ERP (customer_collections).
    select
        collections.*,
        coalesce(case when primary_match.erp_system is distinct from routes.erp_system then created_current.destination_id end,
                 collections.erp_customer_id)                   as shown_erp_customer_id
    from {{ ref('customer_collections') }} as collections
    left join {{ ref('int_customer_erp_matches') }} as primary_match
        on primary_match.erp_customer_id = collections.erp_customer_id
    left join {{ ref('int_erp_routes') }} as routes
        on routes.legal_entity = collections.legal_entity and routes.is_current
    left join {{ ref('int_sync_created_ids') }} as created_current
        on created_current.record_key = collections.crm_account_id
        and created_current.sync_name = case routes.erp_system when 'dynamics' then 'd365_customers' else 'erp_customers' end
        and (routes.erp_system <> 'dynamics' or split_part(created_current.destination_id, '|', 1) = routes.erp_company)
    where collections.crm_account_id is not null and collections.erp_customer_id is not null

),

created_customers as (

    -- by the sync of the ERP the account's legal entity posts to now, else by the other
    select distinct on (created.record_key)
           created.record_key as crm_account_id, created.destination_id as erp_customer_id,
           accounts.account_name, accounts.currency_code
    from {{ ref('int_sync_created_ids') }} as created
    join {{ ref('int_crm_accounts') }} as accounts on accounts.crm_account_id = created.record_key
    left join {{ ref('int_erp_routes') }} as routes on routes.legal_entity = accounts.legal_entity and routes.is_current
    where created.sync_name in ('erp_customers', 'd365_customers')
      and created.record_key not in (select crm_account_id from collections)
    order by created.record_key,
             created.sync_name = case routes.erp_system when 'dynamics' then 'd365_customers' else 'erp_customers' end desc,
             created.sync_name desc, created.destination_id

)

select
    crm_account_id                                              as "Id",
    shown_erp_customer_id                                       as "ERP_Customer_Id__c",
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
