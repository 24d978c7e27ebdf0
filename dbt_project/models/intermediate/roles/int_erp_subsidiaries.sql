-- ERP role: subsidiaries (legal entities) of each ERP: NetSuite subsidiaries, Dynamics 365 Finance companies
-- (dataAreaId); legal_entity is the firm's (CRM Legal_Entity__c) where the seeds map it.
select
    'netsuite'                                  as erp_system,
    s.erp_subsidiary_id,
    s.erp_subsidiary_id                         as erp_company,
    le.legal_entity,
    s.subsidiary_name,
    c.currency_code
from {{ ref('stg_netsuite__subsidiaries') }} as s
left join {{ ref('stg_netsuite__currencies') }} as c on c.erp_currency_id = s.erp_currency_id
left join {{ ref('legal_entities') }} as le on le.erp_subsidiary_id = s.erp_subsidiary_id

union all

select
    'dynamics'                                  as erp_system,
    d.erp_legal_entity_id,
    d.legal_entity_code                         as erp_company,
    r.legal_entity,
    d.legal_entity_name,
    d.accounting_currency
from {{ ref('stg_dynamics__legal_entities') }} as d
left join {{ dynamics_companies() }} as r
    on r.erp_company = d.legal_entity_code
