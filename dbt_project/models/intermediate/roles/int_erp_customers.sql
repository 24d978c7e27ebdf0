-- ERP role: customers of each ERP, with the company (NetSuite subsidiary, Dynamics dataAreaId) they belong to and
-- the firm's legal entity that company is (legal_entities seed for NetSuite, erp_routing seed for Dynamics).
select
    'netsuite'                          as erp_system,
    c.erp_customer_id,
    c.erp_subsidiary_id                 as erp_company,
    le.legal_entity,
    c.company_name                      as customer_name,
    cur.currency_code,
    c.external_id                       as crm_account_id,
    c.external_id,
    c.erp_parent_customer_id,
    c.erp_terms_id,
    c.credit_hold_override,
    c.credit_limit,
    coalesce(c.credit_hold_override = 'ON', false) as is_on_credit_hold,
    coalesce(c.is_inactive, false)      as is_inactive,
    c.created_at,
    c.updated_at
from {{ ref('stg_netsuite__customers') }} as c
left join {{ ref('stg_netsuite__currencies') }} as cur on cur.erp_currency_id = c.erp_currency_id
left join {{ ref('legal_entities') }} as le on le.erp_subsidiary_id = c.erp_subsidiary_id

union all

select
    'dynamics'                          as erp_system,
    d.erp_customer_id,
    d.legal_entity_code                 as erp_company,
    r.legal_entity,
    d.company_name,
    d.currency_code,
    d.crm_account_id,
    -- the CRM account id the hub stamps on the customer (PshCrmAccountId) plays NetSuite's externalid
    d.crm_account_id                    as external_id,
    null::text                          as erp_parent_customer_id,
    d.payment_terms                     as erp_terms_id,
    case when d.is_on_hold then 'ON' else 'AUTO' end as credit_hold_override,
    -- a credit limit of 0.00 without a mandatory credit limit is no limit (Microsoft, "Credit limits for customers";
    -- codevalue.in, "Five scenarios that show how credit limits are determined in Dynamics 365 Finance")
    nullif(d.credit_limit, 0)           as credit_limit,
    d.is_on_hold,
    false                               as is_inactive,
    null::timestamptz                   as created_at,
    d.updated_at
from {{ ref('stg_dynamics__customers') }} as d
left join {{ dynamics_companies() }} as r
    on r.erp_company = d.legal_entity_code
