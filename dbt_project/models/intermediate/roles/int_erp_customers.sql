-- ERP role: customers of each ERP, with the company (NetSuite subsidiary, Dynamics dataAreaId) they belong to.
select
    'netsuite'                          as erp_system,
    c.erp_customer_id,
    c.erp_subsidiary_id                 as erp_company,
    c.company_name                      as customer_name,
    cur.currency_code,
    c.external_id                       as crm_account_id,
    c.credit_limit,
    coalesce(c.credit_hold_override = 'ON', false) as is_on_credit_hold,
    c.updated_at
from {{ ref('stg_netsuite__customers') }} as c
left join {{ ref('stg_netsuite__currencies') }} as cur on cur.erp_currency_id = c.erp_currency_id

union all

select
    'dynamics'                          as erp_system,
    erp_customer_id,
    legal_entity_code                   as erp_company,
    company_name,
    currency_code,
    crm_account_id,
    credit_limit,
    is_on_hold,
    updated_at
from {{ ref('stg_dynamics__customers') }}
