-- CRM role: accounts of each CRM (Salesforce Account, HubSpot company), with the CRM's id; the marts and
-- syncs read this, never a CRM's staging model. An installation lands one CRM (PSHUB_CRM).
-- The role's columns, named once: each CRM's staging model has them all, under these names.
{%- set columns = [
    'crm_account_id', 'crm_owner_user_id', 'erp_customer_id', 'external_id', 'load_id',
    'account_name', 'account_type', 'industry', 'currency_code', 'legal_entity', 'billing_country', 'billing_city',
    'synced_open_ar', 'synced_overdue_ar', 'synced_ar_current', 'synced_ar_1_30', 'synced_ar_31_60',
    'synced_ar_61_90', 'synced_ar_over_90', 'synced_dso', 'synced_credit_hold', 'synced_last_payment_date',
    'created_at', 'finance_synced_at', 'updated_at', 'landed_at',
] %}

-- crm_object: the CRM's own name of the record's object (an issue names its system and object)
select 'salesforce' as crm_system, {{ columns | join(', ') }}, 'Account' as crm_object
from {{ ref('stg_salesforce__accounts') }}

union all

select 'hubspot' as crm_system, {{ columns | join(', ') }}, 'companies' as crm_object
from {{ ref('stg_hubspot__companies') }}
