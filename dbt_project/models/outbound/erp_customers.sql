-- Sync erp_customers: one row per CRM account with a closed-won opportunity, as a NetSuite customer.
-- Columns are the destination's fields; external_id (the CRM account id) is the upsert key.
with won_accounts as (

    select distinct crm_account_id from {{ ref('engagements') }}

)

select
    accounts.crm_account_id                    as external_id,
    accounts.account_name                      as "companyName",
    legal_entities.erp_subsidiary_id           as subsidiary,
    legal_entities.erp_currency_id             as currency,
    legal_entities.erp_terms_id                as terms,
    -- business context carried to exceptions, not pushed
    accounts.legal_entity                      as _legal_entity
from won_accounts
join {{ ref('stg_salesforce__accounts') }} as accounts using (crm_account_id)
left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = accounts.legal_entity
