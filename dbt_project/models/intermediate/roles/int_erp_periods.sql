-- ERP role: accounting periods (months). NetSuite's are one calendar for every subsidiary (erp_company null); Dynamics
-- 365 Finance's have a status per company (dataAreaId). closed_on_date: the day the period closed; NetSuite says it
-- (closedondate), Dynamics does not: the day its status last changed (ModifiedDateTime, UTC) stands for it.
select
    'netsuite'                  as erp_system,
    erp_accounting_period_id    as erp_period_id,
    null::text                  as erp_company,
    period_name,
    start_date,
    end_date,
    coalesce(is_closed, false)  as is_closed,
    closed_on_date,
    updated_at
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
    is_closed,
    case when is_closed then (updated_at at time zone 'UTC')::date end as closed_on_date,
    updated_at
from {{ ref('stg_dynamics__fiscal_periods') }}
