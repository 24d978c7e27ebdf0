-- Sync crm_account_finance: one row per CRM account known to the ERP: open and overdue AR, aging buckets, DSO,
-- last payment date and credit hold from the ERP, in the customer's currency, written to the Account (key Id).
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
    is_credit_hold                                              as "Credit_Hold__c",
    customer_name                                               as _customer,
    overdue_ar                                                  as _amount_at_stake,
    currency_code                                               as _currency
from {{ ref('customer_collections') }}
where crm_account_id is not null and erp_customer_id is not null
