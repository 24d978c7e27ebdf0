-- ERP role: accounting periods. NetSuite's are one calendar for every subsidiary (erp_company null); Dynamics 365
-- Finance's have a status per company.
select
    'netsuite'                  as erp_system,
    erp_accounting_period_id    as erp_period_id,
    null::text                  as erp_company,
    period_name,
    start_date,
    end_date,
    is_closed
from {{ ref('stg_netsuite__accounting_periods') }}
where not coalesce(is_quarter, false) and not coalesce(is_year, false) and not coalesce(is_adjustment, false)

union all

select
    'dynamics'                  as erp_system,
    erp_period_id,
    legal_entity_code           as erp_company,
    period_name,
    start_date,
    end_date,
    is_closed
from {{ ref('stg_dynamics__fiscal_periods') }}
