-- ERP role: projects of each ERP, with their customer's id in the same ERP (a NetSuite job's customer, or its parent
-- when the job hangs under one), the CRM opportunity stamped on them and their status in the ERP's own words.
-- created_date: the day the project was created in its ERP (UTC). A date: Dynamics' Projects entity keeps no time of
-- day (DateOfCreation), so NetSuite's creation timestamp is taken to its day alike.
select
    'netsuite'                          as erp_system,
    j.erp_project_id,
    j.erp_subsidiary_id                 as erp_company,
    le.legal_entity,
    coalesce(j.erp_customer_id, j.erp_parent_id) as erp_customer_id,
    j.project_name,
    j.crm_opportunity_id,
    j.external_id,
    cur.currency_code,
    j.billing_model,
    j.service_line,
    statuses.status_name,
    j.start_date,
    coalesce(j.end_date, j.projected_end_date) as end_date,
    coalesce(j.is_inactive, false)      as is_inactive,
    (j.created_at at time zone 'UTC')::date as created_date,
    j.updated_at
from {{ ref('stg_netsuite__jobs') }} as j
left join {{ ref('stg_netsuite__currencies') }} as cur on cur.erp_currency_id = j.erp_currency_id
left join {{ ref('stg_netsuite__entity_statuses') }} as statuses on statuses.erp_entity_status_id = j.erp_entity_status_id
left join {{ ref('legal_entities') }} as le on le.erp_subsidiary_id = j.erp_subsidiary_id

union all

select
    'dynamics'                          as erp_system,
    d.erp_project_id,
    d.legal_entity_code                 as erp_company,
    r.legal_entity,
    d.legal_entity_code || '|' || d.customer_account as erp_customer_id,
    d.project_name,
    d.crm_opportunity_id,
    -- the opportunity id the hub stamps (PshCrmOpportunityId) plays NetSuite's externalid
    d.crm_opportunity_id                as external_id,
    d.currency_code,
    d.billing_model,
    d.service_line,
    d.project_stage                     as status_name,
    d.start_date,
    d.end_date,
    false                               as is_inactive,
    d.created_date,
    d.updated_at
from {{ ref('stg_dynamics__projects') }} as d
left join {{ dynamics_companies() }} as r
    on r.erp_company = d.legal_entity_code
