-- ERP role: projects of each ERP, with their customer's id in the same ERP and the CRM opportunity stamped on them.
select
    'netsuite'                          as erp_system,
    j.erp_project_id,
    j.erp_subsidiary_id                 as erp_company,
    j.erp_customer_id,
    j.project_name,
    j.crm_opportunity_id,
    cur.currency_code,
    j.billing_model,
    j.service_line,
    j.start_date,
    coalesce(j.end_date, j.projected_end_date) as end_date,
    j.updated_at
from {{ ref('stg_netsuite__jobs') }} as j
left join {{ ref('stg_netsuite__currencies') }} as cur on cur.erp_currency_id = j.erp_currency_id

union all

select
    'dynamics'                          as erp_system,
    erp_project_id,
    legal_entity_code                   as erp_company,
    legal_entity_code || '|' || customer_account as erp_customer_id,
    project_name,
    crm_opportunity_id,
    currency_code,
    billing_model,
    service_line,
    start_date,
    end_date,
    updated_at
from {{ ref('stg_dynamics__projects') }}
